/**
 * What every terminal end-to-end test starts from: a temporary git repository whose daemon was
 * started by the command line (`ralph daemon start`, in the background, as a developer would), and
 * a private tmux server in which `ralph` TUIs are opened at a fixed size. Everything is cleaned up
 * after the test, last started first: the terminals, then the daemon, then the repository.
 */
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { isProcessAlive, readDaemonFile } from '../../protocol/index.ts';
import { cliEnv, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { ralphCommand, TmuxServer, type Terminal } from './tmux.ts';

export interface E2eRepo {
  repo: string;
  /** The environment of every `ralph` this test runs (daemon, TUIs, commands). */
  env: NodeJS.ProcessEnv;
  daemonPid: number;
  /** Runs `ralph ...args` in the repository; succeeds or throws with its stderr. */
  ralph(...args: string[]): Promise<string>;
}

/**
 * A repository with its daemon running, started through `ralph daemon start` with `env` on top of
 * the test environment (the goal pipeline paused unless `env` says otherwise, so goals stay queued).
 */
export async function startRepoWithDaemon(
  t: TestContext,
  env: NodeJS.ProcessEnv = {},
  files: Record<string, string> = {},
): Promise<E2eRepo> {
  const repo = await makeTempRepo(undefined, files);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const fullEnv = cliEnv({ RALPH_PIPELINE: 'paused', ...env });
  const run = async (...args: string[]) => succeeded(await ralph(args, { cwd: repo, env: fullEnv }));
  defer(t, () => killDaemon(repo));
  await run('daemon', 'start');
  const file = await readDaemonFile(repo);
  if (!file || !isProcessAlive(file.pid)) throw new Error('ralph daemon start returned but no daemon runs');
  return { repo, env: fullEnv, daemonPid: file.pid, ralph: run };
}

export interface TuiSize {
  width: number;
  height: number;
}

export const DEFAULT_SIZE: TuiSize = { width: 100, height: 30 };

/** A private tmux server for this test, killed after it (before the daemon stops). */
export async function startTmux(t: TestContext, env: NodeJS.ProcessEnv): Promise<TmuxServer> {
  const dir = await makeTempDir(undefined, 'ralph-tmux-');
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const server = await TmuxServer.create({ dir, env });
  defer(t, () => server.kill());
  return server;
}

/** Opens `ralph` (the TUI) in a new session and waits for its first full frame: the status bar, connected. */
export async function openTui(server: TmuxServer, repo: string, name: string, size: TuiSize = DEFAULT_SIZE): Promise<Terminal> {
  const terminal = await server.newSession({ name, command: ralphCommand(), cwd: repo, ...size });
  await terminal.waitForText('● connected', { timeoutMs: 20_000 });
  return terminal;
}

/** The status bar row (the one that says how the TUI is connected), if drawn. */
export function statusBarOf(rows: readonly string[]): string | undefined {
  return rows.find((row) => /[●◌✗] (connected|connecting|reconnecting|disconnected)/.test(row));
}

/** A goal's row in the pipeline: `#<id>  <title> … <state>`. */
export function goalRow(rows: readonly string[], id: number): string | undefined {
  return rows.find((row) => new RegExp(`#${id}\\s{2}`).test(row));
}
