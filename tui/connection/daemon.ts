/**
 * Finding, starting and connecting to a repository's daemon. Shared by the command line and the TUI.
 *
 * `.ralph/daemon.json` says where the daemon listens. A file whose pid is dead, or whose port refuses
 * connections, is a leftover of a daemon that did not shut down cleanly: it counts as no daemon.
 * A daemon is started like tmux starts its server: in the background, detached from this process.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RalphClient } from '../../protocol/client.ts';
import { isProcessAlive, readDaemonFile, type DaemonFile } from '../../protocol/index.ts';
import { freshDaemonBundle } from '../bin/bundle.js';

/** The daemon's entry point, run through the tsx loader (absolute, so the daemon's cwd does not matter). */
export const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
/** Turns V8's compile cache on in the daemon before its bundle loads (tui/bin/compile-cache.js). */
const COMPILE_CACHE = new URL('../bin/compile-cache.js', import.meta.url).href;

const READY_TIMEOUT_MS = 15_000;
const PROBE_TIMEOUT_MS = 2_000;

/** The one line a daemon started with `--background` prints on stdout. */
const ReadyLine = z.discriminatedUnion('ready', [
  z.object({ ready: z.literal(true), url: z.string(), pid: z.int().positive() }),
  z.object({ ready: z.literal(false), error: z.string() }),
]);
type ReadyLine = z.infer<typeof ReadyLine>;

export class DaemonNotRunningError extends Error {
  readonly repoRoot: string;
  constructor(repoRoot: string) {
    super(`no daemon serves ${repoRoot}`);
    this.name = 'DaemonNotRunningError';
    this.repoRoot = repoRoot;
  }
}

export class DaemonStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonStartError';
  }
}

export interface RunningDaemon {
  file: DaemonFile;
  /** True when this call started it. */
  started: boolean;
}

/** Whether something accepts TCP connections where the daemon file says the daemon listens. */
function acceptsConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The daemon that serves the repository now, or null when there is none (or only a leftover file). */
export async function findRunningDaemon(repoRoot: string): Promise<DaemonFile | null> {
  // The daemon is the only writer of this file and rewrites it when it starts: unreadable counts as stale.
  const file = await readDaemonFile(repoRoot).catch(() => null);
  if (!file || !isProcessAlive(file.pid)) return null;
  return (await acceptsConnections(file.url)) ? file : null;
}

/** Ralph's own tsconfig: tsx otherwise looks in the daemon's cwd, the watched repository. */
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/**
 * What runs the daemon: its bundle (tui/bin/bundle.js) when it is fresh, which starts in about half
 * the time, with V8's compile cache on; the sources through the tsx loader when they are asked for
 * (RALPH_FROM_SOURCE=1, or a command line itself running from source) or the bundle is stale or missing.
 */
export function daemonEntry(): string[] {
  const fromSource = process.env.RALPH_FROM_SOURCE === '1' || process.env.NODE_ENV !== 'production';
  const bundled = fromSource ? null : freshDaemonBundle();
  return bundled ? ['--import', COMPILE_CACHE, bundled] : ['--import', TSX_LOADER, DAEMON_MAIN];
}

/** How to run the repository's daemon: this Node, from its bundle or its sources, with this environment. */
export function daemonProcess(repoRoot: string, mode: 'background' | 'foreground') {
  return {
    command: process.execPath,
    args: [...daemonEntry(), '--repo', repoRoot, `--${mode}`],
    // The daemon takes OPENAI_* and RALPH_* from the environment of the command that starts it.
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG },
  };
}

/** How to run a queue worker (`ralph worker`): the daemon's entry with `worker` first, in the foreground. */
export function workerProcess(args: readonly string[]) {
  return {
    command: process.execPath,
    args: [...daemonEntry(), 'worker', ...args],
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG },
  };
}

/**
 * Starts the daemon detached from this process and waits for its ready line. Its output pipes are
 * closed afterwards (it logs to .ralph/daemon.log), so this process can exit while the daemon runs on.
 */
function spawnDaemon(repoRoot: string): Promise<ReadyLine> {
  const { command, args, env } = daemonProcess(repoRoot, 'background');
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise<ReadyLine>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const lastStderrLine = () => stderr.trim().split('\n').at(-1) ?? '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      finish(() =>
        reject(new DaemonStartError(`the daemon did not report ready within ${READY_TIMEOUT_MS / 1000} s (see .ralph/daemon.log)`)),
      );
    }, READY_TIMEOUT_MS);

    let finished = false;
    function finish(settle: () => void) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      child.removeAllListeners();
      child.unref();
      settle();
    }

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      const line = stdout.slice(0, newline);
      let parsed: ReturnType<typeof ReadyLine.safeParse>;
      try {
        parsed = ReadyLine.safeParse(JSON.parse(line));
      } catch {
        finish(() => reject(new DaemonStartError(`the daemon printed something unexpected: ${line.slice(0, 200)}`)));
        return;
      }
      if (parsed.success) finish(() => resolve(parsed.data));
      else finish(() => reject(new DaemonStartError(`the daemon printed something unexpected: ${line.slice(0, 200)}`)));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    child.once('error', (error) => finish(() => reject(new DaemonStartError(`cannot start the daemon: ${error.message}`))));
    child.once('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const detail = lastStderrLine();
      finish(() => reject(new DaemonStartError(`the daemon ${how} before it was ready${detail ? `: ${detail}` : ''}`)));
    });
  });
}

/**
 * The repository's running daemon; when there is none, starts one if `start`, else returns null.
 * Two commands starting a daemon at once is fine: the daemon's lock lets one win and the other
 * command uses the winner.
 */
export async function ensureDaemon(repoRoot: string, options: { start: boolean }): Promise<RunningDaemon | null> {
  const running = await findRunningDaemon(repoRoot);
  if (running) return { file: running, started: false };
  if (!options.start) return null;

  const ready = await spawnDaemon(repoRoot);
  if (!ready.ready) {
    const winner = await findRunningDaemon(repoRoot);
    if (winner) return { file: winner, started: false };
    throw new DaemonStartError(`the daemon could not start: ${ready.error}`);
  }
  const file = await readDaemonFile(repoRoot);
  if (!file || file.pid !== ready.pid) {
    throw new DaemonStartError(`the daemon (pid ${ready.pid}) reported ready but ${repoRoot}/.ralph/daemon.json does not name it`);
  }
  return { file, started: true };
}

/** Where to connect, read afresh each time: a restarted daemon has a new port and token. */
async function currentEndpoint(repoRoot: string): Promise<{ url: string; token: string }> {
  const file = await readDaemonFile(repoRoot);
  if (!file) throw new DaemonNotRunningError(repoRoot);
  return { url: file.url, token: file.token };
}

export interface ConnectOptions {
  /** The client name the daemon shows in its client list ('cli', 'tui'). */
  name: string;
  /** Start a daemon in the background when none runs. */
  start: boolean;
  /** Keep reconnecting (and re-reading daemon.json) when the connection drops. */
  reconnect?: boolean;
}

/** A connected client of the repository's daemon; throws DaemonNotRunningError when none runs and `start` is false. */
export async function connectToDaemon(repoRoot: string, options: ConnectOptions): Promise<RalphClient> {
  const running = await ensureDaemon(repoRoot, { start: options.start });
  if (!running) throw new DaemonNotRunningError(repoRoot);
  return RalphClient.connect({
    endpoint: () => currentEndpoint(repoRoot),
    name: options.name,
    reconnect: options.reconnect ?? false,
  });
}
