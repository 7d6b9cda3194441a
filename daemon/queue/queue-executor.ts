/**
 * The daemon's side of the queue backend (queue.ts has the design): GoalRun hands it each
 * iteration instead of running it here. It pushes the goal's branch to the shared remote,
 * publishes the attempt's job (once: the job id says which), asks for the turn, relays the goal's
 * stream into its log meanwhile, and returns the worker's record after fetching its commit into the
 * goal's local worktree, so landing works on the daemon's branch as for a local run.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { type ConnectionOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { emptyUsage, type QueueStatus } from '../../protocol/index.ts';
import type { RalphConfig } from '../config/schema.ts';
import type { EventBus } from '../events/bus.ts';
import { type GitEnv, git, gitPath, HARNESS_COMMIT_CONFIG, harnessCommitEnv } from '../git/git.ts';
import type { Log } from '../log.ts';
import type { RemoteIterations } from '../pipeline/goal-run.ts';
import { IterationError, type IterationInput, type IterationRecord } from '../pipeline/iteration.ts';
import { openAttempt } from '../pipeline/notes.ts';
import type { GoalLog } from '../store/goal-log.ts';
import type { ModelTable } from '../llm/models.ts';
import type { SecretsConfig } from '../secrets/daemon-secrets.ts';
import { dropRelayedStream, LogStreamFollower } from './log-stream.ts';
import { QueueStatusBoard } from './queue-status.ts';
import {
  connectionOptions,
  jobIdFor,
  logStreamKey,
  QUEUE_PREFIX,
  queueNameFor,
  queueUrlProblem,
  redactQueueUrl,
  remoteBranchOf,
} from './queue.ts';
import {
  answeredKey,
  controlChannel,
  deserializeIterationError,
  type GoalJobData,
  QUEUES_CHANNEL,
  QUEUES_KEY,
  resumeKey,
  type Turn,
  type TurnResult,
  turnChannel,
  turnKey,
  turnSeqKey,
  worktreeRefOf,
} from './turns.ts';
import { parseTurn } from './wire.ts';

const run = promisify(execFile);

/** How long a goal's stream is still followed after its attempt ended, for the worker's last lines and its `end`. */
const END_GRACE_MS = 30_000;

export interface QueueExecutorOptions {
  url: string;
  repoRoot: string;
  /** The git remote workers fetch from and push to, by name. Default `origin`. */
  remote?: string;
  /** The provider settings a turn carries (never the key). */
  provider(): { model: string; api: Turn['api']; baseURL: string | null };
  /** The model table a turn carries (the config's overrides in it); absent: workers use their built-in one. */
  models?(): Pick<ModelTable, 'rows'>;
  /** The config's rules on secrets a turn carries (variable names, no value); absent: workers use none. */
  secretRules?(): SecretsConfig;
  log: GoalLog;
  bus: EventBus;
  report: Log;
  gitEnv?: GitEnv;
  /** How long a stopped turn waits for the worker to say it stopped. Default 5 s. */
  stopWaitMs?: number;
  /** How long a goal's stream is followed after its attempt ended, waiting for the worker's `end`. Default 30 s. */
  endGraceMs?: number;
}

interface Pending {
  seq: number;
  onSpend: IterationInput['onSpend'];
  settle: (result: Extract<TurnResult, { type: 'turn' }>) => void;
}

export class QueueExecutor implements RemoteIterations {
  private readonly options: QueueExecutorOptions;
  private readonly redis: Redis;
  private queue: Queue | null = null;
  private queueName: Promise<string> | null = null;
  private readonly followers = new Map<number, LogStreamFollower>();
  private readonly pending = new Map<number, Pending>();
  /** Goal → attempt whose job this daemon has made sure of. */
  private readonly published = new Map<number, number>();
  /** Goal → the last turn answer relayed (it may arrive before it is waited for: a restarted daemon reads it again). */
  private readonly answers = new Map<number, Extract<TurnResult, { type: 'turn' }>>();
  /** Goal → the turns this daemon has taken an answer of: never adopted again. */
  private readonly consumed = new Map<number, Set<number>>();
  /** Goal → the turn asked for now: the only one whose answer is taken. */
  private readonly asked = new Map<number, number>();
  /** Goal → the last turn whose answer was taken: another answer to it is refused. */
  private readonly taken = new Map<number, number>();
  /** Goal → the id of its attempt's job, while the attempt runs. */
  private readonly jobs = new Map<number, string>();
  /** The goals whose attempt runs here (from its first turn to `end`): a worker's `end` before that is refused. */
  private readonly running = new Set<number>();
  private swept = false;
  /** Whether Redis answers and which worker runs each goal: what clients see (queue.changed). */
  private readonly board: QueueStatusBoard;

  constructor(options: QueueExecutorOptions) {
    this.options = options;
    this.board = new QueueStatusBoard(options.bus, redactQueueUrl(options.url));
    this.redis = new Redis(connectionOptions(options.url));
    this.redis.on('ready', () => {
      this.board.setReachable(true);
      if (this.swept) return;
      this.swept = true;
      void this.sweepStreams().catch((error: unknown) =>
        options.report(`queue: ended streams not cleaned up: ${(error as Error).message}`),
      );
    });
    this.redis.on('close', () => this.board.setReachable(false));
    this.redis.on('error', () => undefined);
  }

  /** Whether Redis answers now (the connection retries by itself while it does not). */
  get reachable(): boolean {
    return this.board.reachable;
  }

  /** The queue as clients see it: its URL (password hidden), whether it answers, the running goals' workers. */
  status(): QueueStatus {
    return this.board.status();
  }

  /** The queue's URL as it may be shown. */
  get url(): string {
    return redactQueueUrl(this.options.url);
  }

  async iterate(input: IterationInput): Promise<IterationRecord> {
    const name = await this.name();
    const goalId = input.goal.id;
    this.running.add(goalId);
    const branch = remoteBranchOf(goalId);
    const remoteName = this.options.remote ?? 'origin';
    const attempt = openAttempt(input.goal)?.number ?? 1;
    // Asked when the attempt's job is published, not for every turn (a git process each).
    const remote = this.published.get(goalId) === attempt ? null : await this.remoteUrl(remoteName);
    const adopted = await this.inFlight(name, input);
    let seq: number;
    let worktree: string | null = null;
    let base: string | undefined;
    if (adopted) {
      seq = adopted.seq;
      worktree = adopted.worktree ?? null;
    } else {
      // The daemon's branch is the truth: a commit a worker pushed but never reported is dropped here.
      // Pushed by its sha, so the turn's `base` is exactly the commit the remote got.
      base = await input.workspace.readHead();
      await this.git(input.workspace.path, ['push', '--quiet', '--force', remoteName, `${base}:refs/heads/${branch}`]);
      // Only a conflict resolution leaves work uncommitted between iterations: no other turn pays for the look.
      if (input.conflictContext) worktree = await this.pushWorktree(input.workspace.path, remoteName, goalId);
      seq = await this.redis.incr(turnSeqKey(name, goalId));
    }
    // Followed once the turn is known: an answer read is taken only for it.
    this.asked.set(goalId, seq);
    this.follow(name, goalId);
    const answer = this.answerTo(goalId, seq, input.onSpend);
    const turn = { ...this.turnFor(input, seq, worktree), ...(base ? { base } : {}) };
    // Announced too, so the worker takes it at once instead of at its next look. Set before the job is
    // published: a worker that takes a new job must not find the `end` of the goal's run before it.
    if (!adopted)
      await this.redis.multi().set(turnKey(name, goalId), JSON.stringify(turn)).publish(turnChannel(name, goalId), String(seq)).exec();
    if (remote !== null) await this.publish(name, { queue: name, goalId, title: input.goal.title, attempt, remote, branch });

    const channel = controlChannel(name, goalId);
    const onBound = (): void => void this.redis.publish(channel, JSON.stringify({ type: 'bound', reason: reasonOf(input.boundSignal) }));
    const stopped = new Promise<'stopped'>((resolve) => {
      const onStop = (): void => {
        const reason = reasonOf(input.stopSignal);
        void this.redis.set(turnKey(name, goalId), JSON.stringify({ ...turn, stop: reason }));
        void this.redis.publish(channel, JSON.stringify({ type: 'stop', reason }));
        setTimeout(() => resolve('stopped'), this.options.stopWaitMs ?? 5000).unref();
      };
      if (input.stopSignal.aborted) onStop();
      else input.stopSignal.addEventListener('abort', onStop, { once: true });
    });
    if (input.boundSignal.aborted) onBound();
    else input.boundSignal.addEventListener('abort', onBound, { once: true });

    const result = await Promise.race([answer, stopped]);
    this.pending.delete(goalId);
    this.consumedOf(goalId).add(seq);
    if (result === 'stopped') {
      throw new IterationError('stopped', { stopped: true, spend: { usage: emptyUsage(), waitedMs: 0, durationMs: 0 } });
    }
    if ('error' in result) throw deserializeIterationError(result.error);
    await this.git(input.workspace.path, ['fetch', '--quiet', remoteName, `refs/heads/${branch}`]);
    await this.git(input.workspace.path, ['reset', '--quiet', '--hard', 'FETCH_HEAD']);
    // What the turn carried uncommitted and the worker's commit left out (a file the resolution removed) goes, as a local iteration's would.
    if (worktree) {
      await this.git(input.workspace.path, ['clean', '--quiet', '-fd']);
      // Answered: the work it carried is in the branch now, and its ref on the remote of no more use.
      await this.git(input.workspace.path, ['push', '--quiet', remoteName, `:${worktreeRefOf(goalId)}`]).catch(() => undefined);
    }
    return result.record;
  }

  /**
   * The attempt is over: the worker ends its job (the next run of the attempt gets the next resume
   * number, in the same transaction), a job no worker took yet goes, and the goal's stream is
   * followed until the worker's `end` (then deleted) or for END_GRACE_MS.
   */
  async end(goalId: number): Promise<void> {
    this.board.forget(goalId);
    this.running.delete(goalId);
    this.published.delete(goalId);
    this.answers.delete(goalId);
    const jobId = this.jobs.get(goalId);
    this.jobs.delete(goalId);
    this.followers.get(goalId)?.stopAfter(this.options.endGraceMs ?? END_GRACE_MS);
    if (!this.queueName) return;
    const name = await this.queueName;
    const attempt = jobId ? /-a(\d+)-r\d+$/.exec(jobId)?.[1] : undefined;
    // Not waited for: with Redis unreachable it is sent once it answers, and the pipeline goes on meanwhile.
    const ending = this.redis
      .multi()
      .set(turnKey(name, goalId), JSON.stringify({ end: true }))
      .publish(turnChannel(name, goalId), 'end');
    if (attempt) ending.incr(resumeKey(name, goalId, Number(attempt)));
    void ending.exec().catch(() => undefined);
    if (jobId) void this.removeWaiting(jobId).catch(() => undefined);
  }

  /** A job no worker has taken: removed (no worker would write its stream's `end`). One a worker holds is left to end itself. */
  private async removeWaiting(jobId: string): Promise<void> {
    const job = await this.queue?.getJob(jobId);
    if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove();
  }

  /** Streams a daemon killed before deleting them (ended, every line in the log): deleted at start. */
  private async sweepStreams(): Promise<void> {
    const name = await this.name();
    const prefix = logStreamKey(name, 0).replace(/0$/, '');
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        const goalId = Number(key.slice(prefix.length));
        if (!Number.isSafeInteger(goalId) || goalId <= 0 || this.followers.has(goalId)) continue;
        if (await dropRelayedStream(this.redis, key, this.options.log, goalId))
          this.options.report(`goal #${goalId}: its ended stream removed from the queue`);
      }
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await Promise.all([...this.followers.values()].map((follower) => follower.stop()));
    this.followers.clear();
    this.board.close();
    // A Redis that does not answer must not keep the daemon from stopping.
    await Promise.race([this.queue?.close(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    this.redis.disconnect();
  }

  private name(): Promise<string> {
    this.queueName ??= queueNameFor(this.options.repoRoot);
    return this.queueName;
  }

  private async remoteUrl(remoteName: string): Promise<string> {
    try {
      const url = (await run('git', ['remote', 'get-url', remoteName], { cwd: this.options.repoRoot, env: this.gitEnv() })).stdout.trim();
      return withoutCredentials(url);
    } catch {
      throw new Error(
        `the repository has no git remote named "${remoteName}" for queue workers to fetch from and push to: add one every worker can reach (git remote add ${remoteName} URL), or name another in executor.queue.remote`,
      );
    }
  }

  /**
   * The turn asked for this very iteration before this daemon took an answer of it (a daemon
   * killed meanwhile): followed, not asked again. Its answer, given or still to come, is on the
   * goal's stream after the last entry the log holds, so the follower reads it (again).
   */
  private async inFlight(name: string, input: IterationInput): Promise<Turn | null> {
    // A turn key that is not a turn of this goal (garbage, another's) is not adopted: the turn is asked afresh.
    const parsed = parseTurn(await this.redis.get(turnKey(name, input.goal.id)), input.goal.id);
    const turn = parsed?.ok && !('end' in parsed.value && parsed.value.end) ? (parsed.value as Turn) : null;
    if (!turn || turn.stop || turn.number !== input.number) return null;
    if (this.consumedOf(input.goal.id).has(turn.seq)) return null;
    return turn as Turn;
  }

  private consumedOf(goalId: number): Set<number> {
    let seqs = this.consumed.get(goalId);
    if (!seqs) {
      seqs = new Set();
      this.consumed.set(goalId, seqs);
    }
    return seqs;
  }

  /** Publishes the attempt's job unless it is there: a finished job of the same attempt (a run stopped before) gets the next resume number. */
  private async publish(name: string, data: GoalJobData): Promise<void> {
    if (this.published.get(data.goalId) === data.attempt) return;
    if ((await this.redis.sadd(QUEUES_KEY, name)) === 1) await this.redis.publish(QUEUES_CHANNEL, name);
    if (!this.queue) {
      this.queue = new Queue(name, {
        // BullMQ types its own copy of ioredis's options; these are ioredis's, which it takes.
        connection: connectionOptions(this.options.url) as ConnectionOptions,
        prefix: QUEUE_PREFIX,
      });
      // Unreachable Redis: the connection retries by itself, and daemon.status says so.
      this.queue.on('error', () => undefined);
    }
    const key = resumeKey(name, data.goalId, data.attempt);
    const stored = Number((await this.redis.get(key)) ?? 0);
    let resume = Number.isSafeInteger(stored) && stored >= 0 ? stored : 0;
    const existing = await this.queue.getJob(jobIdFor(data.goalId, data.attempt, resume));
    if (existing && ((await existing.isCompleted()) || (await existing.isFailed()))) {
      resume = await this.redis.incr(key);
    }
    // A finished job goes at once: the resume counter (raised as the attempt ends), not the job, says which run is next.
    const jobId = jobIdFor(data.goalId, data.attempt, resume);
    await this.queue.add('attempt', data, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
    this.published.set(data.goalId, data.attempt);
    this.jobs.set(data.goalId, jobId);
  }

  /**
   * The worktree's uncommitted work (a conflict resolution's merged change, with its markers) as a
   * commit on the remote, for the worker to lay out uncommitted as it is here; null when there is
   * none. Made with an index of its own: the worktree's index and files stay as they are.
   */
  private async pushWorktree(cwd: string, remoteName: string, goalId: number): Promise<string | null> {
    const env = this.options.gitEnv;
    if ((await git(cwd, ['status', '--porcelain', '--untracked-files=all'], { env })).trim() === '') return null;
    const index = await gitPath(cwd, 'ralph-queue-index', env);
    try {
      const withIndex = { ...env, GIT_INDEX_FILE: index };
      await git(cwd, ['add', '--all'], { env: withIndex });
      const tree = (await git(cwd, ['write-tree'], { env: withIndex })).trim();
      const message = 'the uncommitted work of the goal’s worktree';
      const commitEnv = await harnessCommitEnv(cwd, env);
      const commit = (
        await git(cwd, [...HARNESS_COMMIT_CONFIG, 'commit-tree', tree, '-p', 'HEAD', '-m', message], { env: commitEnv })
      ).trim();
      await git(cwd, ['push', '--quiet', '--force', remoteName, `${commit}:${worktreeRefOf(goalId)}`], { env });
      return commit;
    } finally {
      await rm(index, { force: true });
    }
  }

  private turnFor(input: IterationInput, seq: number, worktree: string | null): Turn {
    const provider = this.options.provider();
    return {
      seq,
      number: input.number,
      positionInAttempt: input.positionInAttempt,
      goal: input.goal,
      notes: input.notes,
      lastCheck: input.lastCheck,
      retryContext: input.retryContext,
      ...(input.conflictContext ? { conflictContext: input.conflictContext } : {}),
      ...(worktree ? { worktree } : {}),
      ...(this.options.models ? { models: this.options.models().rows() } : {}),
      ...(this.options.secretRules ? { secrets: this.options.secretRules() } : {}),
      answers: input.answers ?? [],
      canAsk: input.canAsk ?? false,
      model: input.model,
      api: provider.api,
      // A password or token written into the provider's URL stays here, as the key does.
      baseURL: provider.baseURL === null ? null : withoutCredentials(provider.baseURL),
      ...(input.reasoningEffort ? { reasoningEffort: input.reasoningEffort } : {}),
      executor: input.executor,
      publishedAt: Date.now(),
    };
  }

  /** Relays the goal's stream into its log (from where the log left off) while the goal runs here. */
  private follow(name: string, goalId: number): void {
    this.board.follow(goalId);
    const following = this.followers.get(goalId);
    if (following && !following.over) {
      // Maybe still reading the end of the goal's last attempt: it reads this one's too.
      following.keepGoing();
      return;
    }
    const redis = new Redis(connectionOptions(this.options.url));
    redis.on('error', () => undefined);
    const follower = new LogStreamFollower({
      redis,
      key: logStreamKey(name, goalId),
      goalId,
      log: this.options.log,
      bus: this.options.bus,
      worker: 'worker',
      attemptOver: () => !this.running.has(goalId),
      onMessage: (message) => this.take(name, goalId, message),
    });
    follower.finished
      .catch((error: unknown) =>
        this.options.report(`goal #${goalId}: its worker's log could not be followed: ${(error as Error).message}`),
      )
      .finally(() => {
        redis.disconnect();
        if (this.followers.get(goalId) === follower) this.followers.delete(goalId);
      });
    this.followers.set(goalId, follower);
  }

  /**
   * A turn answer or spend report read from the stream, taken only for the turn asked now; why not
   * otherwise (the follower writes it as a warning). An earlier turn's, read again after a
   * restart, is passed over quietly. An answer counts only if Redis marks its turn answered: the
   * worker sets that in the transaction that adds its answer, so an answer only XADDed is forged.
   */
  private async take(name: string, goalId: number, message: TurnResult): Promise<string | undefined> {
    const asked = this.asked.get(goalId) ?? 0;
    const what = message.type === 'spend' ? 'spend report' : 'answer';
    if (message.seq < asked) return undefined;
    if (message.seq > asked) return `an ${what} to turn ${message.seq}, which was not asked (the turn is ${asked})`;
    const pending = this.pending.get(goalId);
    if (message.type === 'spend') {
      if (pending?.seq === message.seq) pending.onSpend?.(message.spend);
      return undefined;
    }
    if (this.taken.get(goalId) === message.seq) return `a second answer to turn ${message.seq}`;
    // The turn was given up on (stopped, and its worker said so too late): its answer is of no use now.
    if (this.consumedOf(goalId).has(message.seq)) return undefined;
    const answered = Number(await this.redis.get(answeredKey(name, goalId)));
    if (!(answered >= message.seq)) return `an answer to turn ${message.seq} that its worker did not mark answered`;
    this.answers.set(goalId, message);
    this.taken.set(goalId, message.seq);
    if (pending?.seq === message.seq) pending.settle(message);
    return undefined;
  }

  private answerTo(goalId: number, seq: number, onSpend: IterationInput['onSpend']): Promise<Extract<TurnResult, { type: 'turn' }>> {
    const given = this.answers.get(goalId);
    if (given?.seq === seq) return Promise.resolve(given);
    return new Promise((settle) => this.pending.set(goalId, { seq, onSpend, settle }));
  }

  private async git(cwd: string, args: string[]): Promise<void> {
    await run('git', args, { cwd, env: this.gitEnv(), maxBuffer: 16 * 1024 * 1024 });
  }

  private gitEnv(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.options.gitEnv };
  }
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'stopped');
}

/** The queue executor `executor.backend: 'queue'` asks for (RALPH_QUEUE_URL overriding `executor.queue.url`), or none for `local`. */
export function queueExecutorFrom(
  executor: RalphConfig['executor'],
  env: NodeJS.ProcessEnv,
  parts: Omit<QueueExecutorOptions, 'url' | 'remote'>,
): QueueExecutor | undefined {
  if (executor.backend !== 'queue') return undefined;
  const url = env.RALPH_QUEUE_URL?.trim() || executor.queue.url;
  if (!url)
    throw new Error("executor.backend is 'queue' but no queue URL is set: set executor.queue.url or RALPH_QUEUE_URL (redis://host:6379)");
  const problem = queueUrlProblem(url);
  if (problem) throw new Error(problem);
  return new QueueExecutor({ ...parts, url, remote: executor.queue.remote });
}

/** What daemon.status and the snapshot say of the queue. */
export function queueStatusOf(executor: QueueExecutor): () => QueueStatus {
  return () => executor.status();
}

/**
 * A remote's URL as a job may carry it: a password or token written into it (`https://user:token@host/…`)
 * stays on this machine; each worker reaches the remote with its own git credentials.
 */
export function withoutCredentials(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url; // a path, or scp-like `git@host:repo` (ssh keys, no secret in it)
  try {
    const parsed = new URL(url);
    if (!parsed.password && !/^https?:$/.test(parsed.protocol)) return url;
    parsed.password = '';
    if (/^https?:$/.test(parsed.protocol)) parsed.username = '';
    return parsed.toString();
  } catch {
    return url;
  }
}
