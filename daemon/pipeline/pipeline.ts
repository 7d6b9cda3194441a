/**
 * The goal pipeline: the scheduler of the Ralph loop. It runs queued goals, each in its own worktree
 * (goal-run.ts), at most `executor.concurrency` at once (default 1).
 *
 * Public API (kept small; the daemon, the pipeline.* handlers and landing use it):
 *
 *   const pipeline = Pipeline.create({ repoRoot, bus, store, settings, createProvider, log });
 *   pipeline.start();             // begins picking queued goals (and reacting to goal events)
 *   pipeline.state();             // { paused, running: [ids] }  (Snapshot.pipeline, pipeline.changed)
 *   pipeline.pause(cause?) / pipeline.resume(cause?)   // the whole pipeline; publish pipeline.changed
 *   pipeline.hold(reason, message, until) / pipeline.release(reason)   // paused by the budget or the provider's limits
 *   pipeline.isRunning(id);       // a run of this goal is in progress (landing must wait)
 *   await pipeline.idle();        // resolves when no goal runs (tests)
 *   await pipeline.close();       // stops every run; their goals go back to `queued` for the next daemon
 *
 * Order: a higher `priority` first; within one priority, goals whose attempt is still open (recovered
 * after a crash, or paused and queued again) go first, then never-tried goals, then retries; by id
 * within each group (FIFO). A goal that comes `after` others waits, queued, until each of them has
 * landed (protocol/goal-order.ts): a landing is a goal event like any other, so it wakes the queue.
 *
 * One source of truth: the pipeline never takes orders from handlers. It follows the goal events on
 * the bus (from any client, or a hand edit of a goal file): a queued goal is started when there is
 * room; a goal it runs that leaves `running` (paused, cancelled, …) has its run stopped at once (the
 * model request aborted, the agent's commands' process groups killed), its worktree kept.
 *
 * Pausing the whole pipeline starts nothing new; goals that are running finish the iteration they
 * are in (it is committed and checked: nothing is wasted) and then wait, still `running`, until the
 * pipeline is resumed. (Pause a goal itself to stop it mid-iteration.) The paused state lives in
 * memory: a restarted daemon starts unpaused unless told otherwise (`paused` option).
 *
 * A hold pauses it the same way without a person: `budget` (the daemon's spend budget is used up),
 * `quota` (the provider's quota is exhausted) or `rate-limit` (the provider asked for a long wait).
 * Each holds until its time (checked on the clock's tick) or until released; `resume` lets go of
 * the provider's holds (someone may know the quota was raised), not of the budget's.
 */
import type { EventEnvelope, PipelineHold, PipelineStatus } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import type { GoalInbox, RemoteIterations } from './goal-run.ts';
import type { Bounds } from './bounds.ts';
import type { GitEnv } from '../git/git.ts';
import {
  GoalRun,
  RETRY_DEFAULTS,
  type GoalSpending,
  type PipelineSettings,
  type ProviderFactory,
  type RetryTuning,
  type StopRequest,
} from './goal-run.ts';
import { GoalJournal } from './journal.ts';
import { compareForStart, isUnblocked } from '../../protocol/goal-order.ts';
import { openAttempt } from './notes.ts';
import { defaultWorktreesRoot } from './workspace.ts';

export type { PipelineSettings, ProviderFactory } from './goal-run.ts';

/** Settings that are not in the config: for the daemon's options and for tests. */
export interface PipelineTuning {
  /** Start with the pipeline paused. Default false. */
  paused?: boolean;
  /** Where goal worktrees live. Default `defaultWorktreesRoot()` ($XDG_STATE_HOME/ralph/worktrees). */
  worktreesRoot?: string;
  /** Extra environment for the harness's git commands. */
  gitEnv?: GitEnv;
  /** Overrides of the bounds the config gives (stall counts, or a time bound in ms for tests). */
  bounds?: Partial<Bounds>;
  retry?: Partial<RetryTuning>;
  /** The clock a hold's end is read on, and how often (default: the real one, every 60 s at most). */
  clock?: { now: () => Date; tickMs?: number };
}

export interface PipelineOptions extends PipelineTuning {
  repoRoot: string;
  bus: EventBus;
  store: GoalStore;
  settings: PipelineSettings;
  createProvider: ProviderFactory;
  log: Log;
  /** The daemon's spend budget, which counts each iteration's calls; absent: none. */
  spending?: GoalSpending;
  /** Where the executor's questions go (ask_human); absent, the executor cannot ask. */
  inbox?: GoalInbox;
  /** Where iterations run when not here (`executor.backend: 'queue'`); closed with the pipeline. */
  remote?: RemoteIterations;
}

export type PipelineState = PipelineStatus;

type HoldReason = PipelineHold['reason'];
/** Which hold the status shows when there are several: the one a person must act on first. */
const HOLD_ORDER: readonly HoldReason[] = ['budget', 'quota', 'rate-limit'];
const DEFAULT_TICK_MS = 60_000;

type Cause = EventEnvelope['cause'];

export class Pipeline {
  private readonly options: PipelineOptions;
  private readonly bus: EventBus;
  private readonly store: GoalStore;
  private readonly worktreesRoot: string;
  private readonly retry: RetryTuning;
  /** Goals being started or run, by id. A starting goal has no run yet. */
  private readonly runs = new Map<number, GoalRun | 'starting'>();
  private readonly starting = new Set<Promise<void>>();
  /** Paused by a person (pipeline.pause, the `paused` option). */
  private pausedByPerson: boolean;
  private readonly holds = new Map<HoldReason, { message: string; until: Date | null }>();
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly now: () => Date;
  private resumeWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private unsubscribe: (() => void) | null = null;
  private reconcileQueued = false;
  private closed = false;

  private constructor(options: PipelineOptions) {
    this.options = options;
    this.bus = options.bus;
    this.store = options.store;
    this.pausedByPerson = options.paused ?? false;
    this.now = options.clock?.now ?? (() => new Date());
    this.worktreesRoot = options.worktreesRoot ?? defaultWorktreesRoot();
    this.retry = { ...RETRY_DEFAULTS, ...options.retry };
  }

  static create(options: PipelineOptions): Pipeline {
    return new Pipeline(options);
  }

  /** Starts following the goal events and picks the queued goals there are already. */
  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.bus.subscribe(({ envelope }) => {
      if (envelope.type.startsWith('goal.')) this.scheduleReconcile();
    });
    this.scheduleReconcile();
  }

  state(): PipelineState {
    const reason = HOLD_ORDER.find((each) => this.holds.has(each));
    const hold = reason ? this.holds.get(reason) : undefined;
    return {
      paused: this.paused,
      running: this.runningIds(),
      ...(reason && hold ? { hold: { reason, message: hold.message, until: hold.until?.toISOString() ?? null } } : {}),
    };
  }

  /** Paused by a person or held. */
  private get paused(): boolean {
    return this.pausedByPerson || this.holds.size > 0;
  }

  /** Holds the pipeline (as a pause does) for this reason until `until` (null: until released); a later time extends a hold. */
  hold(reason: HoldReason, message: string, until: Date | null): PipelineState {
    const held = this.holds.get(reason);
    const later = held?.until && until && held.until > until ? held.until : until;
    const changed = !held || held.message !== message || held.until?.getTime() !== later?.getTime();
    this.holds.set(reason, { message, until: later });
    if (changed) {
      this.options.log(`pipeline: held (${reason}): ${message}${later ? ` until ${later.toISOString()}` : ''}`);
      this.publishState();
    }
    this.armHoldTimer();
    return this.state();
  }

  /** Lets go of a hold; the pipeline goes on unless something else still pauses it. */
  release(reason: HoldReason): PipelineState {
    if (this.holds.delete(reason)) {
      this.options.log(`pipeline: ${reason} hold released`);
      this.afterUnpause();
    }
    return this.state();
  }

  isRunning(goalId: number): boolean {
    return this.runs.has(goalId);
  }

  pause(cause?: Cause): PipelineState {
    if (!this.pausedByPerson) {
      this.pausedByPerson = true;
      this.options.log('pipeline: paused');
      this.publishState(cause);
    }
    return this.state();
  }

  resume(cause?: Cause): PipelineState {
    const quota = this.holds.delete('quota');
    const rateLimit = this.holds.delete('rate-limit');
    if (this.pausedByPerson || quota || rateLimit) {
      this.pausedByPerson = false;
      this.options.log(this.paused ? 'pipeline: resumed, but still held by the spend budget' : 'pipeline: resumed');
      this.afterUnpause(cause);
    }
    return this.state();
  }

  /** Tells the clients, and wakes the waiting runs and the queue when nothing pauses the pipeline any longer. */
  private afterUnpause(cause?: Cause): void {
    this.publishState(cause);
    if (this.paused) return;
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.scheduleReconcile();
  }

  /** Releases the holds whose time has come, on the clock's next tick (or the hold's end, if sooner). */
  private armHoldTimer(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const ends = [...this.holds.values()].flatMap((hold) => (hold.until ? [hold.until.getTime()] : []));
    if (ends.length === 0 || this.closed) return;
    const delay = Math.max(0, Math.min(Math.min(...ends) - this.now().getTime(), this.options.clock?.tickMs ?? DEFAULT_TICK_MS));
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      const now = this.now().getTime();
      for (const [reason, hold] of [...this.holds]) if (hold.until && hold.until.getTime() <= now) this.release(reason);
      this.armHoldTimer();
    }, delay);
    this.holdTimer.unref();
  }

  /** Resolves once no goal runs (or is being started). */
  idle(): Promise<void> {
    if (this.runs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops every run (model calls aborted, commands killed) and waits for them to end; their goals
   * go back to `queued` so the next daemon continues them. Call before the store closes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all([...this.starting]);
    const runs = [...this.runs.values()].filter((run): run is GoalRun => run !== 'starting');
    for (const run of runs) run.stop({ kind: 'shutdown', reason: 'the daemon is stopping' });
    for (const wake of this.resumeWaiters.splice(0)) wake();
    await Promise.all(runs.map((run) => run.finished));
    await this.options.remote?.close();
  }

  // ---- internals ----

  private runningIds(): number[] {
    return [...this.runs.entries()]
      .filter(([, run]) => run !== 'starting')
      .map(([id]) => id)
      .sort((a, b) => a - b);
  }

  private publishState(cause?: Cause): void {
    this.bus.publish('pipeline.changed', this.state(), cause);
  }

  /** Many events arrive together (a transition, its log line): one look at the goals for the lot. */
  private scheduleReconcile(): void {
    if (this.reconcileQueued || this.closed) return;
    this.reconcileQueued = true;
    queueMicrotask(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }

  /** Brings the runs in line with the goals: stop the runs whose goal left `running`, start queued goals while there is room. */
  private reconcile(): void {
    if (this.closed) return;
    for (const [id, run] of this.runs) {
      if (run === 'starting') continue;
      const stop = stopFor(this.store, id);
      if (stop) run.stop(stop);
    }
    if (this.paused) return;
    const concurrency = this.options.settings.executor().concurrency;
    for (const goal of this.queuedInOrder()) {
      if (this.runs.size >= concurrency) break;
      this.startGoal(goal.id);
    }
  }

  /** The queued goals free to start (every goal they come after has landed), in the order they start. */
  private queuedInOrder() {
    const rank = (goal: ReturnType<GoalStore['list']>[number]) => (openAttempt(goal) ? 0 : goal.attempts.length === 0 ? 1 : 2);
    const goalOf = (id: number) => this.store.get(id);
    return this.store
      .list()
      .filter((goal) => goal.state === 'queued' && !this.runs.has(goal.id) && isUnblocked(goal, goalOf))
      .sort((a, b) => compareForStart(a, b, rank));
  }

  private startGoal(goalId: number): void {
    this.runs.set(goalId, 'starting');
    const starting = (async () => {
      try {
        await this.store.transition(goalId, 'start');
      } catch (error) {
        // Someone else moved it first (cancelled, edited by hand): nothing to run.
        this.options.log(`pipeline: goal #${goalId} was not started: ${(error as Error).message}`);
        this.runs.delete(goalId);
        this.afterRunEnded();
        return;
      }
      if (this.closed) {
        // The daemon began stopping while the goal started: leave it for the next one.
        await this.store.transition(goalId, 'recover', { note: 'the daemon stopped before the goal could run' }).catch(() => undefined);
        this.runs.delete(goalId);
        this.afterRunEnded();
        return;
      }
      const run = new GoalRun({
        goalId,
        repoRoot: this.options.repoRoot,
        store: this.store,
        journal: new GoalJournal({ goalId, log: this.store.log, bus: this.bus, report: this.options.log }),
        settings: this.options.settings,
        createProvider: this.options.createProvider,
        log: this.options.log,
        worktreesRoot: this.worktreesRoot,
        ...(this.options.gitEnv ? { gitEnv: this.options.gitEnv } : {}),
        ...(this.options.bounds ? { bounds: this.options.bounds } : {}),
        retry: this.retry,
        ...(this.options.spending ? { spending: this.options.spending } : {}),
        hold: (reason, message, until) => void this.hold(reason, message, until),
        now: this.now,
        ...(this.options.inbox ? { inbox: this.options.inbox } : {}),
        ...(this.options.remote ? { remote: this.options.remote } : {}),
        isPaused: () => this.paused,
        whenResumed: () => (this.paused ? new Promise((resolve) => this.resumeWaiters.push(resolve)) : Promise.resolve()),
      });
      this.runs.set(goalId, run);
      this.publishState();
      // A pause or cancel that came while the goal was starting.
      this.scheduleReconcile();
      void run.finished.then(() => {
        this.runs.delete(goalId);
        if (!this.closed) this.publishState();
        this.afterRunEnded();
      });
    })();
    this.starting.add(starting);
    void starting.finally(() => this.starting.delete(starting));
  }

  private afterRunEnded(): void {
    if (this.runs.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    this.scheduleReconcile();
  }
}

/** Why a run of this goal must stop now, or null while its goal is still `running`. */
function stopFor(store: GoalStore, goalId: number): StopRequest | null {
  const goal = store.get(goalId);
  if (!goal) {
    const invalid = store.invalid().some((entry) => entry.id === goalId);
    return { kind: 'lost', reason: invalid ? "the goal's file became invalid" : 'the goal was removed' };
  }
  switch (goal.state) {
    case 'running':
      return null;
    case 'paused':
      return { kind: 'pause', reason: 'the goal was paused' };
    case 'cancelled':
      return { kind: 'cancel', reason: 'the goal was cancelled' };
    default:
      return { kind: 'lost', reason: `the goal is ${goal.state} now` };
  }
}
