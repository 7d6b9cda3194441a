/**
 * Keeping one spare TUI ready per repository (tui/spare/spare.ts says what a spare is). The TUI
 * side keeps it, never the daemon: an opened TUI (a normal start or an attached spare) starts one
 * when none listens, shortly after its own start, so a machine where no one opens a TUI never has
 * one (tests start hundreds of daemons without a TUI), and after the first TUI of the day every
 * next `ralph` attaches. RALPH_TUI_SPARE=0 turns spares off.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freshEntries } from '../bin/bundle.js';
import { TUI_NODE_FLAGS } from '../bin/node-flags.js';
import { spareSocketPath } from '../bin/spare-socket.js';

/** V8's compile cache for the spare's bundle (tui/bin/compile-cache.js), as the daemon has it. */
const COMPILE_CACHE = new URL('../bin/compile-cache.js', import.meta.url).href;

/**
 * How long an opened TUI waits before starting the next spare: its own first frame goes first
 * (the spare's loading would take a core from it on a busy machine).
 */
export const SPARE_DELAY_MS = 300;

/** Whether spares are on: Linux (the terminal's device path is read in /proc), not RALPH_TUI_SPARE=0, running the bundle. */
export function sparesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.RALPH_TUI_SPARE === '0' || process.platform !== 'linux') return false;
  return env.RALPH_FROM_SOURCE !== '1' && (env.NODE_ENV === undefined || env.NODE_ENV === 'production');
}

/** Whether something accepts connections on the socket (a spare that waits). */
export function spareListens(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a spare for the repository unless one listens (or spares are off, or the bundle is not
 * fresh: a spare serves only the current code). Detached: it outlives this process.
 */
export async function ensureSpare(repoRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!sparesWanted(env)) return;
  const entries = freshEntries();
  if (!entries) return;
  let socketPath: string;
  try {
    socketPath = spareSocketPath(repoRoot, env);
  } catch {
    return; // no private folder: no spares (the normal start works as before)
  }
  if (await spareListens(socketPath)) return;
  const args = [...TUI_NODE_FLAGS, '--import', COMPILE_CACHE, entries.spareEntry, '--repo', repoRoot, '--bundle', entries.entry];
  const child = spawn(process.execPath, args, { cwd: repoRoot, detached: true, stdio: 'ignore', env });
  child.on('error', () => {}); // no spare, nothing lost
  child.unref();
}

/**
 * Starts the next spare after SPARE_DELAY_MS; `now()` does it at once if it has not happened (a TUI
 * quit before the delay still leaves one). Never throws.
 */
export function spareLater(repoRoot: string): { now(): Promise<void> } {
  let started: Promise<void> | null = null;
  const start = () => {
    started ??= ensureSpare(repoRoot).catch(() => {});
    return started;
  };
  const timer = setTimeout(start, SPARE_DELAY_MS);
  timer.unref();
  return {
    now() {
      clearTimeout(timer);
      return start();
    },
  };
}
