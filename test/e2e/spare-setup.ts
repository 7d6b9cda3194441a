/**
 * What the spare TUI's terminal tests (spare.test.ts, spare-exit.test.ts) start from: a repository
 * with its daemon and a goal, a tmux server, a first TUI opened the normal way, and the spare it
 * left; `ralph` is then typed in a shell, as a person would.
 */
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { ensureBundle } from '../../tui/bin/bundle.js';
import { spareSocketPath } from '../../tui/bin/spare-socket.js';
import { spareListens } from '../../tui/spare/spawn.ts';
import { killDaemon } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';
import { openTui, startRepoWithDaemon, startTmux } from './setup.ts';
import { findTmux, ralphCommand, type Terminal, type TmuxServer } from './tmux.ts';

export const EACH = { timeout: 90_000 };

export function needsTmux(t: TestContext): boolean {
  if (findTmux()) return true;
  t.skip('tmux is not installed (.ci/run installs it): the terminal end-to-end tests need a real terminal');
  return false;
}

/** The pids of the spare processes serving a repository root (their command line names it). */
export async function sparePids(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args.some((arg) => /[\\/]spare-[^/]*\.js$/.test(arg)) && args[args.indexOf('--repo') + 1] === root) pids.push(Number(name));
  }
  return pids;
}

/** Waits until a spare listens for the repository (not `other`) and returns its pid. */
export async function waitForSpare(root: string, other?: number): Promise<number> {
  const socket = spareSocketPath(root);
  return waitFor(
    async () => {
      if (!(await spareListens(socket))) return false;
      const pids = (await sparePids(root)).filter((pid) => pid !== other);
      return pids.length === 1 && pids[0];
    },
    { timeoutMs: 20_000, message: 'a spare TUI to listen' },
  );
}

/** The terminal devices a process has open. */
export async function terminalsOf(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith('/dev/pts/'));
}

/** A shell in a new session (prompt `$ `), in which `ralph` is typed as a person would. */
export async function openShell(tmux: TmuxServer, repo: string, name: string): Promise<Terminal> {
  const terminal = await tmux.newSession({ name, command: ['/usr/bin/env', 'PS1=$ ', '/bin/sh'], cwd: repo, width: 100, height: 30 });
  await terminal.waitForText('$');
  return terminal;
}

/** Types `ralph` (this Node, the project's bin) in the shell, then the exit code it left. */
export async function typeRalph(terminal: Terminal): Promise<void> {
  const command = ralphCommand()
    .map((arg) => `'${arg}'`)
    .join(' ');
  await terminal.type(`${command}; echo "exit=$?"`);
  await terminal.press('Enter');
}

export async function ttyOf(terminal: Terminal): Promise<string> {
  return (await terminal.server.command('display-message', '-p', '-t', terminal.name, '#{pane_tty}')).trim();
}

/** A repository with a daemon and a goal, a tmux server, and a first TUI that left a spare. */
export async function withSpare(t: TestContext, env: NodeJS.ProcessEnv = {}) {
  await ensureBundle(); // a spare runs the current bundle; a stale one gets none
  const started = await startRepoWithDaemon(t);
  const root = await realpath(started.repo);
  // No spare outlives the test: each goes with its daemon (stopped here, before the repository goes).
  defer(t, async () => {
    await killDaemon(root);
    await waitFor(async () => (await sparePids(root)).length === 0, { timeoutMs: 10_000, message: 'the spares to exit' });
  });
  await started.ralph('goal', 'add', '--title', 'Shown through the spare');
  const tmux = await startTmux(t, { ...started.env, ...env });
  const first = await openTui(tmux, started.repo, 'first');
  const spare = await waitForSpare(root);
  return { ...started, root, tmux, first, spare };
}
