/**
 * The worker process: `daemon/main.ts worker --queue URL --concurrency N --dir DIR [--name NAME]`
 * `[--provider-url URL] [--allow-commands] [--allow-all-permissions] [--allow-sandbox-off] [--pass-env NAMES]`
 * (what the worker allows beyond its floor: worker-floor.ts),
 * started in the foreground by `ralph worker` (tui/cli/worker-command.ts checks the usage first).
 * It runs a QueueWorker until SIGINT/SIGTERM, then closes it cleanly (the attempts it runs go back
 * to the queue for other workers); its lines go to stdout.
 *
 * `worker --guard --dir DIR` is the agents' guard the worker starts before its first agent CLI: a
 * process of its own that waits for the worker to be gone (its stdin, a pipe only the worker
 * holds, closes however the worker ends) and then kills the agents the worker's records in DIR
 * name, so none outlives a worker killed outright.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { errorLine } from '../../protocol/index.ts';
import { queueUrlProblem } from '../../protocol/queue-url.ts';
import { QueueWorker, reapWorkerAgents } from './worker.ts';
import type { WorkerFloor } from './worker-floor.ts';

function say(line: string): void {
  process.stdout.write(`ralph worker: ${line}\n`);
}

/** Runs the worker until a signal stops it; exits the process (2 on bad arguments, 1 on failure). */
export async function runWorkerProcess(argv: string[]): Promise<never> {
  let options: { url: string; concurrency: number; dir: string; name?: string; floor: WorkerFloor };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        queue: { type: 'string' },
        concurrency: { type: 'string' },
        dir: { type: 'string' },
        name: { type: 'string' },
        guard: { type: 'boolean' },
        'provider-url': { type: 'string' },
        'allow-commands': { type: 'boolean' },
        'allow-all-permissions': { type: 'boolean' },
        'allow-sandbox-off': { type: 'boolean' },
        'pass-env': { type: 'string' },
      },
    });
    if (values.guard) {
      if (!values.dir) throw new Error('--guard needs --dir');
      return await runGuard(values.dir);
    }
    const url = values.queue ?? '';
    const problem = url ? queueUrlProblem(url) : 'a queue URL is required (--queue)';
    if (problem) throw new Error(problem);
    const concurrency = Number(values.concurrency ?? '1');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 99) throw new Error('--concurrency takes 1 to 99');
    if (!values.dir) throw new Error('--dir is required');
    const providerUrl = values['provider-url'];
    if (providerUrl !== undefined && !/^https?:$/.test(URL.parse(providerUrl)?.protocol ?? ''))
      throw new Error('--provider-url takes an http:// or https:// URL');
    const floor: WorkerFloor = {
      ...(providerUrl ? { providerUrl } : {}),
      allowCommands: values['allow-commands'] === true,
      allowAllPermissions: values['allow-all-permissions'] === true,
      allowSandboxOff: values['allow-sandbox-off'] === true,
      passEnv: (values['pass-env'] ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    };
    options = { url, concurrency, dir: values.dir, ...(values.name ? { name: values.name } : {}), floor };
  } catch (error) {
    process.stderr.write(`ralph worker: ${errorLine(error)}\n`);
    process.exit(2);
  }
  dieWithParent();
  // Tests shorten how long a dead worker's job stays locked (BullMQ's lock and stalled-job check).
  const lockMs = Number(process.env.RALPH_WORKER_LOCK_MS) || undefined;
  const worker = new QueueWorker({
    ...options,
    report: say,
    guardAgents: guardStarter(options.dir),
    ...(lockMs ? { lockDurationMs: lockMs, stalledIntervalMs: Math.max(100, Math.round(lockMs / 2)) } : {}),
  });
  try {
    await worker.start();
  } catch (error) {
    process.stderr.write(`ralph worker: ${errorLine(error)}\n`);
    process.exit(1);
  }
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  say('stopping');
  await worker.close();
  process.exit(0);
}

/** The worker's `guardAgents`: starts the guard once (again if it died), detached, its stdin a pipe this process keeps open. */
function guardStarter(dir: string): () => void {
  let guard: ChildProcess | null = null;
  return () => {
    if (guard) return;
    const entry = process.argv[1];
    if (!entry) return;
    // The same Node, loader and entry as this process: `worker` is the entry's first argument here.
    const child = spawn(process.execPath, [...process.execArgv, entry, 'worker', '--guard', '--dir', dir], {
      detached: true,
      // Its output goes nowhere: a pipe to a `ralph worker` killed with this process would end it before it reaps.
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    guard = child;
    child.on('error', (error) => say(`could not start the agents' guard: ${error.message}`));
    child.once('exit', () => {
      if (guard === child) guard = null;
    });
    child.stdin?.on('error', () => undefined);
    child.unref();
  };
}

/** The guard: waits for its worker to be gone, then kills what the worker's records say is left. */
async function runGuard(dir: string): Promise<never> {
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.once('error', () => resolve());
    process.stdin.resume();
  });
  await reapWorkerAgents(dir, () => undefined);
  process.exit(0);
}

/** Set by `ralph worker` to its own pid: the worker goes when that command goes, even by kill -9. */
export const WORKER_PARENT_VARIABLE = 'RALPH_WORKER_PARENT';

/**
 * A `ralph worker` killed outright cannot stop its worker process: the worker notices it was
 * orphaned (its parent changed) within a quarter of a second and ends the same way, at once, so
 * BullMQ hands its job on as it would for the command itself.
 */
function dieWithParent(): void {
  const parent = Number(process.env[WORKER_PARENT_VARIABLE]);
  if (!Number.isInteger(parent) || parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  }, 250);
  timer.unref();
}
