/**
 * Running the real `ralph` command (tui/bin/ralph.js on this Node) in tests, and the command line's
 * contract: exit 0 with nothing on stderr, or exit 1/2 with exactly one line `ralph: …` and no stack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isProcessAlive, readDaemonFile } from '../../protocol/index.ts';
import { TEST_STATE_HOME } from './state-home.ts';
import { waitFor } from './wait.ts';

export const RALPH_BIN = fileURLToPath(new URL('../../tui/bin/ralph.js', import.meta.url));
const RUN_TIMEOUT_MS = 30_000;

/**
 * The environment of a run: no colors, no debug stacks, and none of the machine's OPENAI_* or RALPH_*
 * settings, so a developer's own provider never leaks into a test; `extra` adds what the test means to set.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // The daemons these commands start keep goal worktrees in a test folder, not ~/.local/state.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: TEST_STATE_HOME };
  for (const name of Object.keys(env)) if (/^(OPENAI_|RALPH_)/.test(name) || name === 'FORCE_COLOR') delete env[name];
  // A goal that ends must not show a notification on the desktop of whoever runs the tests.
  return { ...env, RALPH_NOTIFY_SEND: 'off', ...extra };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  stdout(): string;
  stderr(): string;
  signal(signal: NodeJS.Signals): void;
  done: Promise<Run>;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
}

/** Starts `ralph ...args`; `done` settles when it exits (killed, and rejected, after 30 s). */
export function startRalph(args: string[], options: RunOptions = {}): Running {
  const child = spawn(process.execPath, [RALPH_BIN, ...args], { cwd: options.cwd, env: options.env ?? cliEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ralph ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  // A command that exits before reading its input (bad usage) closes the pipe: EPIPE here is no failure.
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  return { stdout: () => stdout, stderr: () => stderr, signal: (signal) => child.kill(signal), done };
}

/** Runs `ralph ...args` to the end. */
export function ralph(args: string[], options: RunOptions = {}): Promise<Run> {
  return startRalph(args, options).done;
}

/** Exit 0 and nothing on stderr; returns stdout. */
export function succeeded(run: Run): string {
  assert.equal(run.code, 0, `expected success, got exit ${run.code}; stderr: ${run.stderr}`);
  assert.equal(run.stderr, '');
  return run.stdout;
}

/** The failure contract: the exit code, exactly one line `ralph: <message>` on stderr, no stack trace. */
export function failedWith(run: Run, code: 1 | 2, message: RegExp): void {
  assert.equal(run.code, code, `expected exit ${code}, got ${run.code}; stderr: ${run.stderr}`);
  const lines = run.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  assert.match(lines[0]!, /^ralph: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

/** Stops whatever daemon serves the repository, however the test ended. */
export async function killDaemon(repo: string): Promise<void> {
  const file = await readDaemonFile(repo).catch(() => null);
  if (!file || !isProcessAlive(file.pid)) return;
  process.kill(file.pid, 'SIGTERM');
  try {
    await waitFor(() => !isProcessAlive(file.pid), { timeoutMs: 10_000, message: `daemon ${file.pid} to exit` });
  } catch {
    process.kill(file.pid, 'SIGKILL');
  }
}
