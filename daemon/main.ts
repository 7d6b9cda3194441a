/**
 * The daemon process: `node --import tsx daemon/main.ts --repo DIR [--foreground | --background]`
 * (or, with `worker` first, a queue worker: daemon/queue/worker-main.ts).
 *
 * Foreground (default): logs to stderr and stays attached.
 * Background (how the CLI starts it, like tmux): prints exactly one JSON line on stdout,
 *   {"ready":true,"url":"ws://127.0.0.1:PORT","pid":N}   or   {"ready":false,"error":"..."}
 * and from then on never touches stdout or stderr: everything goes to `.ralph/daemon.log`.
 *
 * SIGINT/SIGTERM or the `daemon.shutdown` method: clean stop, exit 0. An uncaught error: logged,
 * clean stop, exit 1.
 */
import { realpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorLine } from '../protocol/index.ts';
import { DaemonLogFile } from './daemon-log.ts';
import { Daemon } from './daemon.ts';
import { ralphPaths } from './paths.ts';

const USAGE = 'usage: node --import tsx daemon/main.ts --repo DIR [--foreground | --background]';

/** How long a clean stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

type Mode = 'foreground' | 'background';

interface ProcessArgs {
  repo: string;
  mode: Mode;
}

function parseProcessArgs(argv: string[]): ProcessArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      repo: { type: 'string' },
      foreground: { type: 'boolean' },
      background: { type: 'boolean' },
    },
  });
  if (values.foreground && values.background) throw new Error(`--foreground and --background exclude each other; ${USAGE}`);
  if (!values.repo) throw new Error(`--repo DIR is required; ${USAGE}`);
  return { repo: values.repo, mode: values.background ? 'background' : 'foreground' };
}

/** Writes to stdout and resolves once the bytes are handed to the OS (before the parent may close the pipe). */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

/**
 * From now on, anything written to stdout or stderr (by Ralph or a library) goes to `write` instead:
 * the starting CLI has closed its end of the pipes, and the daemon must not die of EPIPE.
 */
function redirectOutput(write: (text: string) => void): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {});
    const replacement = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg) => typeof arg === 'function') as ((error?: Error | null) => void) | undefined;
      if (callback) process.nextTick(callback);
      return true;
    };
    stream.write = replacement as typeof stream.write;
  }
}

/** Runs the daemon process until it stops; exits the process. Usable by the CLI for `daemon start --foreground`. */
export async function runDaemonProcess(argv: string[]): Promise<never> {
  let mode: Mode = argv.includes('--background') ? 'background' : 'foreground';
  const fail = async (message: string, code: number): Promise<never> => {
    if (mode === 'background') await writeStdout(`${JSON.stringify({ ready: false, error: message })}\n`);
    else process.stderr.write(`ralph daemon: ${message}\n`);
    process.exit(code);
  };

  let args: ProcessArgs;
  try {
    args = parseProcessArgs(argv);
  } catch (error) {
    return fail(errorLine(error), 2);
  }
  mode = args.mode;

  // Until the log file is known (background), lines wait here.
  const pending: string[] = [];
  let sink: (line: string) => void = mode === 'foreground' ? (line) => process.stderr.write(`${line}\n`) : (line) => pending.push(line);
  const log = (message: string): void => sink(mode === 'background' ? `${new Date().toISOString()} ${message}` : message);

  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ repoRoot: args.repo, log });
  } catch (error) {
    return fail(errorLine(error), 1);
  }

  let exitCode = 0;
  let stopRequested = false;
  const stop = (reason: string, code: number): void => {
    if (code !== 0) exitCode = code;
    if (stopRequested) return;
    stopRequested = true;
    setTimeout(() => process.exit(exitCode || 1), STOP_TIMEOUT_MS).unref();
    void daemon.stop(reason);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second Ctrl+C while stopping means "now": exit without waiting for the clean stop.
    if (stopRequested) {
      log(`ralph daemon: ${signal} again, exiting without finishing the stop`);
      process.exit(1);
    }
    stop(signal, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', (error) => {
    log(`ralph daemon: uncaught error: ${error.stack ?? error.message}`);
    stop('uncaught error', 1);
  });
  process.on('unhandledRejection', (reason) => {
    log(`ralph daemon: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    stop('uncaught error', 1);
  });

  const banner = `ralph daemon: serving ${daemon.repoRoot} at ${daemon.url} (pid ${process.pid})`;
  if (mode === 'background') {
    process.on('SIGHUP', () => {}); // the terminal that started it may close; the daemon stays
    await writeStdout(`${JSON.stringify({ ready: true, url: daemon.url, pid: process.pid })}\n`);
    const logFile = new DaemonLogFile(ralphPaths(daemon.repoRoot).daemonLog);
    const append = (text: string): void => logFile.append(text);
    redirectOutput(append);
    sink = (line) => append(`${line}\n`);
    for (const line of pending.splice(0)) sink(line);
  }
  log(banner);

  await daemon.stopped;
  log('ralph daemon: stopped');
  process.exit(exitCode);
}

/** Run when started as a program, not when imported. */
async function isEntryPoint(): Promise<boolean> {
  if (!process.argv[1]) return false;
  const [invoked, self] = await Promise.all([realpath(process.argv[1]).catch(() => ''), realpath(fileURLToPath(import.meta.url))]);
  return invoked === self;
}

if (await isEntryPoint()) {
  const argv = process.argv.slice(2);
  // `worker …`: a queue worker (`ralph worker`) runs from the daemon's bundle too; it needs no repository.
  const run = argv[0] === 'worker' ? (await import('./queue/worker-main.ts')).runWorkerProcess(argv.slice(1)) : runDaemonProcess(argv);
  run.catch((error: unknown) => {
    process.stderr.write(`ralph daemon: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
