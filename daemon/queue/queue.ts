/**
 * Goals executed by workers on other machines, through BullMQ on Redis (or Valkey).
 *
 * Design. The daemon stays what it is: it owns the goal files, the pipeline's decisions (order,
 * dependencies, bounds, retry, stuck, landing) and the log files every terminal reads. With
 * `executor.backend: 'queue'` (`executor.queue: { url, remote? }`, env `RALPH_QUEUE_URL`) only the
 * part of a goal's run that executes an attempt moves: instead of iterating in a local worktree the
 * daemon publishes the attempt and follows it.
 *
 * - Queue: one BullMQ queue per repository, named from the repository's identity (its first
 *   commit, so every clone of it, on any machine, names the same queue): `ralph-<12 hex>`.
 * - Job: one per goal attempt, `jobId` = `goal-<id>-a<attempt>-r<resume>`. BullMQ refuses a second
 *   job with an id it holds, so publishing again (a restarted daemon) never duplicates. A finished
 *   job is removed at once, so the job is not what says which run is next: the resume counter
 *   (`resume:<id>:<attempt>`) is, raised in the transaction that ends the attempt, so the next
 *   deliberate run of the same attempt (after a pause) is a new job.
 *   The job's data is what a worker needs and nothing more: the goal (id, title, spec, agent), the
 *   attempt, the git remote's URL, the branch and its base commit, the executor settings. Never
 *   the daemon's token; a worker's model key comes from the worker's own environment.
 * - Git: the daemon pushes the goal's base commit to `ralph/goal-<id>` on `queue.remote` (default
 *   `origin`; none configured is a clear error) before publishing. The worker clones or fetches
 *   that remote into its own folder, works on the branch (resuming from what was pushed: a worker
 *   that takes over a stalled attempt starts after the last pushed iteration, its number kept) and
 *   pushes each iteration's commit there. Landing stays in the daemon: it fetches the branch.
 * - Live logs: every log entry, progress report and usage figure the worker produces is XADDed,
 *   in order, to the goal's Redis stream (log-stream.ts). The daemon XREADs it and appends each
 *   entry to `.ralph/logs/<id>.jsonl` (which broadcasts it as a local run's entries are) with the
 *   worker's name and the stream id it came from. The log file is the cursor: a restarted daemon
 *   reads the last stream id its log holds and goes on after it, so no line is lost and none is
 *   written twice, with no second file to keep in step.
 * - Faults: a worker that dies stops renewing its job's lock; BullMQ's stalled-job check hands the
 *   job to another worker. Redis unreachable: the connection retries by itself; the daemon reports
 *   "queue unreachable" meanwhile and publishes nothing (queued goals wait).
 * - Secrets: the queue URL may carry a password and `rediss://` (TLS); it is never logged or shown
 *   with the password (`redactQueueUrl`).
 * - Trust: whoever can write to the Redis can write what a worker would; everything read back
 *   from it is validated before use (wire.ts), on the daemon's side and on the worker's.
 *
 * What stays in Redis, under `ralph:<queue>:`:
 * - a job while its attempt runs or waits for a worker; removed as it completes or fails, and
 *   by the daemon if the attempt ends before any worker took it;
 * - a goal's stream (`log:<id>`) while its attempt runs and until the daemon has relayed the
 *   worker's `end` (or up to 30 s after the attempt ended, whatever it holds by then relayed);
 *   one a daemon was killed before deleting goes at its next start (log-stream.ts);
 * - for good, a few bytes per goal: `turn:<id>` (the turn asked, with the goal in it, while the
 *   attempt runs; `{"end":true}` after), `turnseq:<id>`, `answered:<id>`, `resume:<id>:<attempt>`,
 *   and the set of queue names (`ralph:queues`); BullMQ's own bookkeeping (`meta`, `id`, its
 *   capped `events` stream).
 *
 * This file holds the names and the connection; log-stream.ts the log relay.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RedisOptions } from 'ioredis';
import { queueUrlProblem, redactQueueUrl } from '../../protocol/queue-url.ts';

export { queueUrlProblem, redactQueueUrl };

const run = promisify(execFile);

/** The Redis key prefix every queue key and stream of Ralph's lives under. */
export const QUEUE_PREFIX = 'ralph';

/** The queue of a repository: `ralph-` and 12 hex of its first (root) commit, the same in every clone. */
export async function queueNameFor(repoRoot: string): Promise<string> {
  let roots: string;
  try {
    roots = (await run('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: repoRoot })).stdout;
  } catch (error) {
    throw new Error(`the repository at ${repoRoot} has no commit to name its queue after: ${(error as Error).message}`);
  }
  // Several roots (merged histories): the smallest, so every clone picks the same one.
  const root = roots.split('\n').filter(Boolean).sort()[0];
  if (!root) throw new Error(`the repository at ${repoRoot} has no commit to name its queue after`);
  return queueNameOf(root);
}

export function queueNameOf(rootCommit: string): string {
  return `ralph-${createHash('sha256').update(rootCommit).digest('hex').slice(0, 12)}`;
}

/** One job per goal attempt; `resume` counts deliberate re-runs of the same attempt (from 0). */
export function jobIdFor(goalId: number, attempt: number, resume = 0): string {
  return `goal-${goalId}-a${attempt}-r${resume}`;
}

/** The branch a goal's iterations are pushed to on the shared remote. */
export function remoteBranchOf(goalId: number): string {
  return `ralph/goal-${goalId}`;
}

/** The Redis stream a goal's worker writes its log, progress and usage to. */
export function logStreamKey(queueName: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queueName}:log:${goalId}`;
}

/**
 * ioredis options for a queue URL: host, port, user, password, database (`/2`), TLS for
 * `rediss://`. `maxRetriesPerRequest: null` as BullMQ's blocking connections require; the
 * connection retries by itself, at most a second apart, so a Redis that comes back is found again.
 */
export function connectionOptions(url: string): RedisOptions {
  const problem = queueUrlProblem(url);
  if (problem) throw new Error(problem);
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: parsed.hostname } } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}
