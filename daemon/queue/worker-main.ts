/**
 * The worker process: `daemon/main.ts worker --queue URL --concurrency N --dir DIR [--name NAME]`,
 * started in the foreground by `ralph worker` (tui/cli/worker-command.ts checks the usage first).
 * It runs a QueueWorker until SIGINT/SIGTERM, then closes it cleanly; its lines go to stdout.
 */
import { parseArgs } from 'node:util';
import { errorLine } from '../../protocol/index.ts';
import { queueUrlProblem } from '../../protocol/queue-url.ts';
import { QueueWorker } from './worker.ts';

function say(line: string): void {
  process.stdout.write(`ralph worker: ${line}\n`);
}

/** Runs the worker until a signal stops it; exits the process (2 on bad arguments, 1 on failure). */
export async function runWorkerProcess(argv: string[]): Promise<never> {
  let options: { url: string; concurrency: number; dir: string; name?: string };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { queue: { type: 'string' }, concurrency: { type: 'string' }, dir: { type: 'string' }, name: { type: 'string' } },
    });
    const url = values.queue ?? '';
    const problem = url ? queueUrlProblem(url) : 'a queue URL is required (--queue)';
    if (problem) throw new Error(problem);
    const concurrency = Number(values.concurrency ?? '1');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 99) throw new Error('--concurrency takes 1 to 99');
    if (!values.dir) throw new Error('--dir is required');
    options = { url, concurrency, dir: values.dir, ...(values.name ? { name: values.name } : {}) };
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
