/**
 * Killing a whole process group: everything a command started, including what it put in the
 * background, shares the group of the shell it was started in (`detached: true` makes that
 * shell the leader of a new group, so the group id is its pid).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Sends `signal` to every process of the group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Whether any process of the group is still alive. A zombie (dead, waiting for its parent or
 * init to collect its exit status) does not count: it runs nothing and holds nothing, and in
 * some containers init collects orphans only every few seconds. On Linux /proc tells zombies
 * apart; elsewhere the kernel's answer to signal 0 is taken as it is.
 */
export function isGroupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  try {
    return livingMembersOnLinux(pgid) > 0;
  } catch {
    return true; // /proc unreadable: trust the signal
  }
}

function livingMembersOnLinux(pgid: number): number {
  let living = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (command name) state ppid pgrp …": the name may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') living++;
  }
  return living;
}

export interface KillGroupOptions {
  /** Time between SIGTERM and SIGKILL. Default 500 ms. */
  graceMs?: number;
  /** How long to wait for the group to be gone after SIGKILL. Default 2000 ms. */
  settleMs?: number;
}

const POLL_MS = 20;

/**
 * SIGTERM to the group, then SIGKILL to whatever is left after the grace period. Resolves true
 * once no process of the group is alive, false if some still are after `settleMs` (a process
 * stuck in the kernel, say).
 */
export async function killGroup(pgid: number, { graceMs = 500, settleMs = 2000 }: KillGroupOptions = {}): Promise<boolean> {
  if (!signalGroup(pgid, 'SIGTERM')) return true;
  if (await waitUntilGone(pgid, graceMs)) return true;
  signalGroup(pgid, 'SIGKILL');
  return waitUntilGone(pgid, settleMs);
}

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * The processes (on Linux) whose environment holds `name=value`, this process excepted. How a
 * runner finds what its commands started that left their process group (`setsid`): the
 * environment is inherited, and read from /proc only for processes of the same user.
 */
export function processesWithEnvironment(name: string, value: string): number[] {
  if (process.platform !== 'linux') return [];
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue; // exited, or not ours to read
    }
    // A leading NUL so the first variable matches like the others.
    if (Buffer.concat([Buffer.from([0]), environ]).includes(needle)) found.push(Number(entry));
  }
  return found;
}

/** SIGTERM, then SIGKILL after `graceMs`, to every process carrying `name=value` in its environment. */
export async function killMarkedProcesses(name: string, value: string, { graceMs = 500 }: { graceMs?: number } = {}): Promise<void> {
  const signalEach = (pids: number[], signal: NodeJS.Signals): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  };
  let pids = processesWithEnvironment(name, value);
  if (pids.length === 0) return;
  signalEach(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    pids = processesWithEnvironment(name, value).filter(isLiving);
    if (pids.length === 0) return;
  }
  signalEach(pids, 'SIGKILL');
}

/** Not a zombie (Linux); a zombie runs nothing and waits for its parent or init. */
function isLiving(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
