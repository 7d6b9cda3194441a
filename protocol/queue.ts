/**
 * The queue goals run through on workers (`executor.backend: 'queue'`), as clients see it: its URL
 * (password hidden), whether it answers, and which worker runs each running remote goal. In the
 * snapshot, in `daemon.status`, and again with every `queue.changed`.
 *
 * A worker's name is whatever someone passed to `ralph worker --name` on a machine that can write
 * to the Redis: hostile text. It is made one bounded line (`workerName`) before the daemon shows
 * it to anyone, and the schema holds it to that bound.
 */
import { z } from 'zod';
import { GoalId } from './goal.ts';
import { maxUnits } from './limits.ts';
import { clipUnits, oneLine } from './text.ts';

/** A worker's name at most, in UTF-16 units. */
export const WORKER_NAME_MAX = 100;
/** A queue URL as shown (password hidden) at most. */
export const QUEUE_URL_MAX = 2000;
/** Remote goals named with their worker at most (far beyond the goals a daemon runs at once). */
export const QUEUE_WORKERS_MAX = 1000;

export const WorkerName = maxUnits(z.string().min(1), WORKER_NAME_MAX);

export const QueueStatus = z.object({
  url: maxUnits(z.string(), QUEUE_URL_MAX),
  /** Whether Redis answers now (the daemon reconnects by itself while it does not). */
  reachable: z.boolean(),
  /** The worker each running remote goal is run by, as the goal's log last named it. */
  workers: z
    .array(z.object({ goalId: GoalId, worker: WorkerName }))
    .max(QUEUE_WORKERS_MAX)
    .default([]),
});
export type QueueStatus = z.infer<typeof QueueStatus>;

/**
 * A worker's name as it may be shown: one line (controls become spaces), at most WORKER_NAME_MAX
 * units; null for anything that is not a name (not a string, or nothing left of it).
 */
export function workerName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const line = oneLine(clipUnits(name, WORKER_NAME_MAX * 4));
  return clipUnits(line, WORKER_NAME_MAX).trim() || null;
}
