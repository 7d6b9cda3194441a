/** `ralph worker --queue URL [--concurrency N] [--dir DIR] [--name NAME]`: a queue worker (daemon/queue/worker.ts) until Ctrl+C. */
import { homedir } from 'node:os';
import path from 'node:path';
import { queueUrlProblem } from '../../daemon/queue/queue.ts';
import { QueueWorker } from '../../daemon/queue/worker.ts';
import type { CommandHandler } from './commands.ts';
import { UsageError } from './errors.ts';
import { print } from './output.ts';

export const workerCommand: CommandHandler = async (context) => {
  const url = (context.options.queue as string | undefined) ?? process.env.RALPH_QUEUE_URL?.trim();
  if (!url) throw new UsageError('ralph worker needs --queue URL (or RALPH_QUEUE_URL): redis://host:6379', 'worker');
  const problem = queueUrlProblem(url);
  if (problem) throw new UsageError(problem, 'worker');
  const concurrencyText = (context.options.concurrency as string | undefined) ?? '1';
  if (!/^[1-9]\d?$/.test(concurrencyText)) throw new UsageError(`--concurrency takes 1 to 99, not ${concurrencyText}`, 'worker');
  const dir = path.resolve((context.options.dir as string | undefined) ?? path.join(homedir(), '.ralph-worker'));
  // Tests shorten how long a dead worker's job stays locked (BullMQ's lock and stalled-job check).
  const lockMs = Number(process.env.RALPH_WORKER_LOCK_MS) || undefined;
  const worker = new QueueWorker({
    url,
    concurrency: Number(concurrencyText),
    dir,
    ...(context.options.name ? { name: context.options.name as string } : {}),
    report: (line) => print(`ralph worker: ${line}`),
    ...(lockMs ? { lockDurationMs: lockMs, stalledIntervalMs: Math.max(100, Math.round(lockMs / 2)) } : {}),
  });
  await worker.start();
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  print('ralph worker: stopping');
  await worker.close();
  return 0;
};
