/**
 * `ralph worker`: takes goal attempts from every Ralph queue on a Redis and runs their iterations
 * with the same code as the daemon's local executor (runIteration), in a clone of the job's git
 * remote under its own folder. It needs no daemon and gets no daemon token: the job names the
 * remote and the attempt, each turn carries what the iteration's prompt needs, and the model key
 * comes from the worker's own environment (OPENAI_API_KEY; RALPH_MODEL and RALPH_API override the
 * daemon's settings on this machine). Where the key goes and how far the floor drops are this
 * machine's to say, never the queue's (worker-floor.ts).
 *
 * For each turn (turns.ts): the worktree is set to the branch the daemon pushed, the iteration
 * runs, its commit is pushed to `ralph/goal-<id>`, and the record (or why there is none) goes on
 * the goal's stream with the turn marked answered in one transaction, so a worker that takes over
 * a stalled job runs exactly the turns no one answered.
 *
 * An agent CLI a worker runs is recorded in its clone's `.ralph/agents/` as the daemon records its
 * own (external-run.ts). A worker killed outright cannot stop it: a guard process it starts before
 * the first one (worker-main.ts) kills it the moment the worker is gone, and a worker starting on
 * the folder kills what is left by the records. One worker process uses a folder at a time.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type ConnectionOptions, type Job, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { EventData } from '../../protocol/index.ts';
import { BUILT_IN_MODELS, ModelTable } from '../llm/models.ts';
import { createProvider } from '../llm/provider.ts';
import { resolveAgent } from '../agent/external/registry.ts';
import { acquireDaemonLock, type DaemonLock, DaemonRunningError } from '../lock.ts';
import { ralphPaths } from '../paths.ts';
import type { ModelApi } from '../llm/types.ts';
import { redactingProvider } from '../secrets/redacting-provider.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import { runIteration } from '../pipeline/iteration.ts';
import type { Journal, JournalKind } from '../pipeline/journal.ts';
import { openAttempt } from '../pipeline/notes.ts';
import { GoalWorkspace } from '../pipeline/workspace.ts';
import { reapOrphanProcesses } from '../tools/process-records.ts';
import { LogStreamWriter } from './log-stream.ts';
import {
  agentOnWorker,
  describeFloor,
  floorRefusal,
  refusedTurn,
  secretsOnWorker,
  workerBaseURL,
  type WorkerFloor,
} from './worker-floor.ts';
import { asControl, isQueueName, parseJobData, parseTurn } from './wire.ts';
import { connectionOptions, logStreamKey, QUEUE_PREFIX, redactQueueUrl } from './queue.ts';
import {
  answeredKey,
  type Control,
  controlChannel,
  type GoalJobData,
  QUEUES_CHANNEL,
  QUEUES_KEY,
  serializeIterationError,
  type Turn,
  type TurnResult,
  type TurnTiming,
  turnChannel,
  turnKey,
  worktreeRefOf,
} from './turns.ts';

const run = promisify(execFile);

export interface QueueWorkerOptions {
  url: string;
  /** Attempts run at once per repository's queue. Default 1. */
  concurrency?: number;
  /** Where the clones and worktrees live. */
  dir: string;
  /** The name every relayed log entry carries. Default: host name and process id. */
  name?: string;
  env?: NodeJS.ProcessEnv;
  /** The worker's own messages (starting, a job taken, a failure). */
  report?: (line: string) => void;
  /** How long a job's lock lasts without renewal, and how often stalled jobs are looked for (tests shorten them). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Called before a turn runs an agent CLI: the worker's process starts the guard that ends such agents when it dies (once). */
  guardAgents?: () => void;
  /** Where its key goes and what it runs beyond its floor (worker-floor.ts): nothing of it comes from the queue. */
  floor?: WorkerFloor;
}

/** In the worker's folder: which worker process uses it (the daemon's lock, lock.ts). */
const FOLDER_LOCK = 'worker.lock';
/** How long a starting worker waits for the one before it on the folder to be gone (a killed `ralph worker` takes its process within a quarter second). */
const OWNER_GONE_WAIT_MS = 2000;

/** How often a worker looks for new queues, and for a job's next turn (the daemon says when there is one: this is the fallback). */
const DISCOVER_MS = 1000;
const TURN_POLL_MS = 1000;

export class QueueWorker {
  readonly name: string;
  private readonly options: QueueWorkerOptions;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly workers = new Map<string, Worker>();
  private readonly controls = new Map<string, Set<(control: Control) => void>>();
  /** Turn channel → the wake-up of the attempt waiting for its next turn there. */
  private readonly announced = new Map<string, Wakeup>();
  private discoverTimer: NodeJS.Timeout | undefined;
  /** The last reason a turn key was not run: said once, not at every look. */
  private refusedTurn: string | null = null;
  private closing = false;
  private folderLock: DaemonLock | null = null;
  /** Aborted as the worker stops: each attempt it runs stops its turn unanswered and goes back to the queue. */
  private readonly leaving = new AbortController();

  constructor(options: QueueWorkerOptions) {
    this.options = options;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.redis = new Redis(connectionOptions(options.url));
    this.subscriber = new Redis(connectionOptions(options.url));
    for (const client of [this.redis, this.subscriber]) client.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === QUEUES_CHANNEL) return void this.discover();
      // A turn announced (or the attempt's end): the attempt's worker looks now.
      const announced = this.announced.get(channel);
      if (announced) return announced.wake();
      let control: Control;
      try {
        control = JSON.parse(message) as Control;
      } catch {
        return;
      }
      for (const listener of this.controls.get(channel) ?? []) listener(control);
    });
  }

  /** Starts serving every queue there is, and each new one as it appears. */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    this.folderLock = await claimFolder(this.options.dir);
    // Agent CLIs a worker killed on this folder left running stop before any job is taken.
    await reapWorkerAgents(this.options.dir, (line) => this.report(line));
    this.report(
      `worker ${this.name} takes goals from ${redactQueueUrl(this.options.url)}; ${describeFloor(this.options.floor ?? {}, this.env())}`,
    );
    // A repository's first job announces its queue: served at once (the look every DISCOVER_MS is the fallback).
    await this.subscriber.subscribe(QUEUES_CHANNEL).catch(() => undefined);
    await this.discover();
    this.discoverTimer = setInterval(() => void this.discover(), DISCOVER_MS);
  }

  /**
   * Stops taking jobs and hands back the attempts it runs: the turn in flight is stopped (its agent
   * ended) and left unanswered, and the job goes back to the queue, where another worker takes it
   * at once and runs that turn again from the daemon's branch.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.discoverTimer);
    this.leaving.abort(new Error(`worker ${this.name} is stopping`));
    for (const announced of this.announced.values()) announced.wake();
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    this.redis.disconnect();
    this.subscriber.disconnect();
    await this.folderLock?.release();
  }

  private report(line: string): void {
    this.options.report?.(line);
  }

  private async discover(): Promise<void> {
    let names: string[];
    try {
      names = await this.redis.smembers(QUEUES_KEY);
    } catch {
      return; // Redis unreachable: the connection retries; the next look finds them.
    }
    for (const name of names) {
      // The set is anyone's to add to: only a Ralph queue's name (queue.ts queueNameOf) is served.
      if (this.workers.has(name) || this.closing || !isQueueName(name)) continue;
      const worker = new Worker(name, (job: Job<GoalJobData>, token?: string) => this.runAttempt(job, token), {
        // BullMQ types its own copy of ioredis's options; these are ioredis's, which it takes.
        connection: connectionOptions(this.options.url) as ConnectionOptions,
        prefix: QUEUE_PREFIX,
        concurrency: this.options.concurrency ?? 1,
        lockDuration: this.options.lockDurationMs ?? 30_000,
        stalledInterval: this.options.stalledIntervalMs ?? 30_000,
        maxStalledCount: 100,
      });
      worker.on('error', (error) => this.report(`queue ${name}: ${error.message}`));
      worker.on('failed', (job, error) => this.report(`job ${job?.id ?? '?'} failed: ${error.message}`));
      this.workers.set(name, worker);
    }
  }

  /** One attempt: turns until the daemon says the attempt is over. */
  private async runAttempt(job: Job<GoalJobData>, token: string | undefined): Promise<void> {
    // Anyone who can write to the Redis can add a job: its data is used only once it holds (wire.ts). A job that does not fails.
    const parsed = parseJobData(job.data);
    if (!parsed.ok) throw new Error(parsed.reason);
    if (parsed.value.queue !== job.queueName) throw new Error(`the job's data names queue ${parsed.value.queue}, not its own`);
    const data = parsed.value;
    const { queue, goalId } = data;
    const writer = new LogStreamWriter(this.redis, logStreamKey(queue, goalId));
    const secrets = DaemonSecrets.from({ envs: [this.env()], providerKeys: [this.env().OPENAI_API_KEY] });
    const journal = new StreamJournal(goalId, writer, secrets, this.name);
    this.report(`goal #${goalId}: attempt ${data.attempt} taken (job ${job.id})`);
    // Ended before this job was taken (a stalled job handed on late): nothing to run, nothing to write to a stream no one follows now.
    if (await this.attemptOver(data)) {
      this.report(`goal #${goalId}: attempt ${data.attempt} is over already (job ${job.id})`);
      return;
    }
    // A job that stalled had a worker before this one that stopped renewing its lock (killed, cut off).
    const takeover = job.stalledCounter > 0 ? ' (taken over: the worker before stopped answering)' : '';
    await journal.write('decision', `worker ${this.name} runs attempt ${data.attempt}${takeover}`, { attempt: data.attempt });
    const workspace = await this.workspaceFor(data);
    // The daemon announces each turn (and the end) on the goal's turn channel: taken at once, not at the next poll.
    const announced = new Wakeup();
    const channel = turnChannel(queue, goalId);
    this.announced.set(channel, announced);
    await this.subscriber.subscribe(channel).catch(() => undefined);
    try {
      let lastRun = 0;
      for (;;) {
        const turn = await this.nextTurn(data, lastRun, announced);
        if (turn === 'end' || turn === 'leave') break;
        lastRun = turn.seq;
        await this.runTurn(data, turn, workspace, journal, writer);
      }
    } finally {
      this.announced.delete(channel);
      void this.subscriber.unsubscribe(channel).catch(() => undefined);
    }
    if (this.leaving.signal.aborted) await this.handBack(job, token, journal);
    // The daemon's follower relays up to here, then deletes the goal's stream.
    await writer.end().catch(() => undefined);
    this.report(`goal #${goalId}: attempt ${data.attempt} over`);
  }

  /**
   * The worker stops with the attempt unfinished: the job goes back to the queue (BullMQ's
   * WaitingError), not completed. Should Redis not take it now, its lock runs out and the
   * stalled check hands it on as a dead worker's.
   */
  private async handBack(job: Job<GoalJobData>, token: string | undefined, journal: StreamJournal): Promise<never> {
    this.report(`goal #${job.data.goalId}: attempt handed back (job ${job.id})`);
    await journal.write('decision', `worker ${this.name} stops: the attempt goes back to the queue for another worker`);
    await job.moveToWait(token).catch(() => undefined);
    throw new WaitingError();
  }

  /** Whether the daemon has ended the job's attempt: its turn key says so, or holds a later attempt's turn. */
  private async attemptOver(data: GoalJobData): Promise<boolean> {
    const parsed = parseTurn(await this.redis.get(turnKey(data.queue, data.goalId)).catch(() => null), data.goalId);
    if (!parsed?.ok) return false;
    const turn = parsed.value as Turn;
    return turn.end === true || (openAttempt(turn.goal)?.number ?? 1) !== data.attempt;
  }

  /** Waits for a turn nobody answered (or the end of the attempt, or the worker stopping: `leave`). */
  private async nextTurn(data: GoalJobData, lastRun: number, announced: Wakeup): Promise<Turn | 'end' | 'leave'> {
    for (;;) {
      if (this.leaving.signal.aborted) return 'leave';
      announced.clear();
      try {
        const [json, answered] = await Promise.all([
          this.redis.get(turnKey(data.queue, data.goalId)),
          this.redis.get(answeredKey(data.queue, data.goalId)),
        ]);
        // A turn key that is not a turn of this goal is not run (wire.ts): the worker waits for one that is.
        const parsed = parseTurn(json, data.goalId);
        if (parsed && !parsed.ok && parsed.reason !== this.refusedTurn) this.report(`goal #${data.goalId}: ${parsed.reason}`);
        this.refusedTurn = parsed && !parsed.ok ? parsed.reason : null;
        const turn = parsed?.ok ? (parsed.value as Turn) : null;
        if (turn?.end) return 'end';
        // A turn of a later attempt of the goal is not this job's: a job of an attempt that is over (handed on late) ends.
        if (turn && (openAttempt(turn.goal)?.number ?? 1) !== data.attempt) return 'end';
        if (turn && !turn.stop && turn.seq > lastRun && turn.seq > (Number(answered) || 0)) return turn;
      } catch {
        // Redis unreachable: it retries; the turn waits.
      }
      await announced.wait(TURN_POLL_MS);
    }
  }

  private async runTurn(
    data: GoalJobData,
    turn: Turn,
    workspace: GoalWorkspace,
    journal: StreamJournal,
    writer: LogStreamWriter,
  ): Promise<void> {
    const channel = controlChannel(data.queue, data.goalId);
    const stop = new AbortController();
    const bound = new AbortController();
    const listener = (message: unknown): void => {
      const control = asControl(message);
      if (control) (control.type === 'stop' ? stop : bound).abort(new Error(control.reason));
    };
    this.listen(channel, listener);
    const leave = (): void => stop.abort(this.leaving.signal.reason);
    if (this.leaving.signal.aborted) leave();
    else this.leaving.signal.addEventListener('abort', leave, { once: true });
    const env = this.env();
    const apiKey = env.OPENAI_API_KEY ?? null;
    const floor = this.options.floor ?? {};
    // The config's rules on this machine's environment: what the goal's commands and check still get (what this worker passes too), what they never get.
    if (turn.secrets) {
      const { config, keptBack } = secretsOnWorker(floor, turn.secrets);
      journal.secrets.update({ envs: [env], providerKeys: [apiKey], config });
      const unsaid = keptBack.filter((name) => env[name] !== undefined && journal.sayOnce(`passEnv ${name}`));
      if (unsaid.length > 0)
        await journal.write(
          'warning',
          `secrets.passEnv: this worker keeps ${unsaid.join(', ')} from commands (ralph worker --pass-env passes it)`,
        );
    }
    let result: TurnResult;
    const timing: TurnTiming = { ...(turn.publishedAt ? { published: turn.publishedAt } : {}), taken: Date.now() };
    try {
      // The goal's agent as this machine runs it: Ralph's own, or an agent CLI installed here; nothing below this worker's floor.
      const agent = agentOnWorker(floor, resolveAgent(turn.goal.agent, turn.executor));
      const refusal = floorRefusal(floor, turn.executor, agent);
      if (refusal) throw refusedTurn(refusal);
      await this.syncBranch(workspace, data, turn.base);
      if (turn.worktree) await this.layOutWorktree(workspace, data, turn.worktree);
      timing.synced = Date.now();
      // The key goes where this machine says, never to the turn's baseURL (worker-floor.ts).
      const provider = createProvider({
        api: (env.RALPH_API as ModelApi | undefined) ?? turn.api,
        apiKey,
        baseURL: workerBaseURL(floor, env),
      });
      if (agent.kind === 'external') this.options.guardAgents?.();
      const record = await runIteration({
        goal: turn.goal,
        number: turn.number,
        positionInAttempt: turn.positionInAttempt,
        notes: turn.notes,
        lastCheck: turn.lastCheck,
        retryContext: turn.retryContext,
        conflictContext: turn.conflictContext ?? null,
        answers: turn.answers,
        canAsk: turn.canAsk,
        workspace,
        provider: redactingProvider(provider, journal.secrets.redact),
        model: env.RALPH_MODEL ?? turn.model,
        ...(turn.reasoningEffort ? { reasoningEffort: turn.reasoningEffort } : {}),
        models: modelTableOf(turn),
        executor: turn.executor,
        ...(agent.kind === 'external' ? { agent } : {}),
        secrets: apiKey ? [apiKey] : [],
        stopSignal: stop.signal,
        boundSignal: bound.signal,
        journal,
        onSpend: (spend) => void writer.message({ type: 'spend', seq: turn.seq, spend }).catch(() => undefined),
      });
      timing.ran = Date.now();
      await git(workspace.path, ['push', '--quiet', '--force', data.remote, `HEAD:refs/heads/${data.branch}`]);
      timing.pushed = Date.now();
      result = { type: 'turn', seq: turn.seq, record, timing };
    } catch (error) {
      result = { type: 'turn', seq: turn.seq, error: serializeIterationError(error), timing };
    } finally {
      this.unlisten(channel, listener);
      this.leaving.signal.removeEventListener('abort', leave);
    }
    // Stopped because this worker stops: unanswered, the next worker runs the turn again.
    if (this.leaving.signal.aborted && 'error' in result && result.error.stopped) return;
    await writer.answer(result, answeredKey(data.queue, data.goalId), turn.seq);
  }

  /** The worker's clone of the job's remote and the goal's worktree in it. */
  private async workspaceFor(data: GoalJobData): Promise<GoalWorkspace> {
    const clone = cloneOf(this.options.dir, data.queue);
    const exists = await stat(path.join(clone, '.git')).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(clone), { recursive: true });
      await git(this.options.dir, ['clone', '--quiet', '--no-checkout', data.remote, clone]);
    }
    // The goal's branch as the daemon pushed it (the remote's HEAD may name no branch at all); a
    // branch a worktree of an earlier job holds is brought up to date by each turn instead.
    const known = await git(clone, ['rev-parse', '--verify', '--quiet', `refs/heads/${data.branch}`]).then(
      () => true,
      () => false,
    );
    if (!known) {
      await git(clone, ['fetch', '--quiet', data.remote, `refs/heads/${data.branch}`]);
      await git(clone, ['branch', data.branch, 'FETCH_HEAD']);
    }
    return GoalWorkspace.open({ repoRoot: clone, goalId: data.goalId, worktreesRoot: path.join(this.options.dir, 'worktrees') });
  }

  /** The worktree as the daemon pushed the branch: its commits, nothing else tracked. */
  private async syncBranch(workspace: GoalWorkspace, data: GoalJobData, base: string | undefined): Promise<void> {
    // At the commit the daemon pushed already (this worker made it, the turn before): nothing to fetch.
    const fetch = !base || (await workspace.readHead().catch(() => null)) !== base;
    if (fetch) await git(workspace.path, ['fetch', '--quiet', data.remote, `refs/heads/${data.branch}`]);
    await git(workspace.path, ['reset', '--quiet', '--hard', fetch ? 'FETCH_HEAD' : 'HEAD']);
    await git(workspace.path, ['clean', '--quiet', '-fd']);
  }

  /** The daemon's uncommitted work laid out on the branch as it has it: the files changed, nothing staged. */
  private async layOutWorktree(workspace: GoalWorkspace, data: GoalJobData, commit: string): Promise<void> {
    await git(workspace.path, ['fetch', '--quiet', data.remote, worktreeRefOf(data.goalId)]);
    const fetched = await gitLine(workspace.path, ['rev-parse', 'FETCH_HEAD']);
    if (fetched !== commit) throw new Error(`the remote no longer holds the worktree this turn names (${commit.slice(0, 7)})`);
    await git(workspace.path, ['read-tree', '--reset', '-u', commit]);
    await git(workspace.path, ['reset', '--quiet']);
  }

  private listen(channel: string, listener: (control: Control) => void): void {
    let listeners = this.controls.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.controls.set(channel, listeners);
      void this.subscriber.subscribe(channel).catch(() => undefined);
    }
    listeners.add(listener);
  }

  private unlisten(channel: string, listener: (control: Control) => void): void {
    const listeners = this.controls.get(channel);
    listeners?.delete(listener);
    if (listeners?.size === 0) {
      this.controls.delete(channel);
      void this.subscriber.unsubscribe(channel).catch(() => undefined);
    }
  }

  private env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }
}

/** A wake-up that is not lost when it comes before the wait: `wait` returns at once after a `wake` since the last `clear`. */
class Wakeup {
  private woken = false;
  private resolve: (() => void) | null = null;

  wake(): void {
    this.woken = true;
    this.resolve?.();
  }

  clear(): void {
    this.woken = false;
  }

  /** Until woken, or `ms` at most. */
  wait(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.resolve = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolve = done;
    });
  }
}

/** The worker's journal: everything goes on the goal's stream, for the daemon to write and broadcast. */
class StreamJournal implements Journal {
  readonly goalId: number;
  readonly secrets: DaemonSecrets;
  private readonly writer: LogStreamWriter;
  private readonly worker: string;
  private readonly said = new Set<string>();

  constructor(goalId: number, writer: LogStreamWriter, secrets: DaemonSecrets, worker: string) {
    this.goalId = goalId;
    this.writer = writer;
    this.secrets = secrets;
    this.worker = worker;
  }

  /** True the first time `what` is asked of this attempt's journal: a warning said once per attempt, not every turn. */
  sayOnce(what: string): boolean {
    if (this.said.has(what)) return false;
    this.said.add(what);
    return true;
  }

  async write(kind: JournalKind, text: string, extra: Record<string, unknown> = {}): Promise<void> {
    // A line that cannot reach Redis now is lost to the log, never to the goal (as the local journal).
    await this.writer.log(this.secrets.redactValue({ ...extra, worker: this.worker, kind, text })).catch(() => undefined);
  }

  progressBegin(data: Omit<EventData<'progress.begin'>, 'kind'>): void {
    void this.writer.event('progress.begin', { ...data, kind: 'iteration' }).catch(() => undefined);
  }

  progressReport(data: EventData<'progress.report'>): void {
    void this.writer.event('progress.report', data).catch(() => undefined);
  }

  progressEnd(data: EventData<'progress.end'>): void {
    void this.writer.event('progress.end', data).catch(() => undefined);
  }

  providerWait(wait: Omit<EventData<'provider.wait'>, 'scope'>): void {
    void this.writer.event('provider.wait', { scope: { goalId: this.goalId }, ...wait }).catch(() => undefined);
  }
}

/** A queue's clone in a worker's folder. */
function cloneOf(dir: string, queue: string): string {
  return path.join(dir, queue, 'repo');
}

/**
 * Kills the agent CLIs, commands and checks a worker that died left running in a worker's folder,
 * as the records in each clone's `.ralph/` say (the daemon's own reaping: reapOrphanProcesses).
 * Returns how many records there were.
 */
export async function reapWorkerAgents(dir: string, log: (line: string) => void): Promise<number> {
  let queues: string[];
  try {
    queues = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return 0;
  }
  const counts = await Promise.all(queues.map((queue) => reapOrphanProcesses(ralphPaths(cloneOf(dir, queue)).dir, log)));
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * Makes this process the folder's worker (the daemon's lock on it). A worker process still running
 * on it is waited for briefly, then refused: its clones, worktrees and running agents are its own.
 */
async function claimFolder(dir: string): Promise<DaemonLock> {
  for (let waited = 0; ; waited += 100) {
    try {
      return await acquireDaemonLock(path.join(dir, FOLDER_LOCK));
    } catch (error) {
      if (!(error instanceof DaemonRunningError)) throw error;
      if (waited >= OWNER_GONE_WAIT_MS) {
        throw new Error(`another ralph worker (pid ${error.pid}) uses ${dir}: give each worker a folder of its own (--dir)`);
      }
      await sleep(100);
    }
  }
}

/** The model table the daemon sent (its overrides included); the built-in one from a daemon that sends none. */
function modelTableOf(turn: Turn): ModelTable {
  return turn.models
    ? new ModelTable(
        [],
        turn.models.map((info) => ({ info, source: 'the daemon' })),
      )
    : new ModelTable([], BUILT_IN_MODELS);
}

async function git(cwd: string, args: string[]): Promise<void> {
  await run('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
}

async function gitLine(cwd: string, args: string[]): Promise<string> {
  return (await run('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
}
