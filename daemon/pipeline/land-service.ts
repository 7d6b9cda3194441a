/**
 * The daemon side of landing (`goal.land`, and `executor.land: 'auto'`): a done goal joins the
 * landing queue (`.ralph/landing.json`, landing-book.ts); at its turn its branch becomes one commit
 * `Goal #<id>: <title>` on the developer's branch (daemon/pipeline/landing.ts does the git work),
 * the goal records `landed`, and its worktree, branch and backup refs go.
 *
 * Landings run one at a time for the whole repository (the target is the branch checked out
 * there, and a landing writes its index): two at once would race for the developer's branch and
 * index, and one of them would be refused for nothing. The background work that keeps done goals
 * landable (keep-landable.ts) takes the same lock.
 *
 * Never half: a goal is recorded `landed` only once its commit is on the target branch. At start,
 * what a killed daemon left is reconciled first: a landing commit on the branch (found by its
 * trailer) that the goal does not record is recorded, a rebase cut short in a worktree is aborted
 * and the branch put back, and the queue goes on from its first goal.
 */
import { readdir, realpath, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { emptyLandingState, plural, type EventEnvelope, type Goal, type Landability, type LandingState } from '../../protocol/index.ts';
import type { ConfigService } from '../config/config-service.ts';
import { ConflictError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';
import { branchExists, currentBranch, git, gitRun, resolveCommit, splitNul, type GitEnv } from '../git/git.ts';
import { deleteBackups, goalsWithBackups } from './backup-refs.ts';
import { runCheck } from './check.ts';
import { recordsFolder } from '../tools/process-records.ts';
import { ralphPaths } from '../paths.ts';
import { KeepLandable, recoverGoalWorktree, type GoalConflict } from './keep-landable.ts';
import { LandingBook } from './landing-book.ts';
import {
  GOAL_TRAILER,
  LandingRefusedError,
  landGoal,
  repairIndexAfterLanding,
  type CheckResult,
  type LandingRefusalReason,
} from './landing.ts';
import { GoalWorkspace, defaultWorktreesRoot, goalBranch, repoWorktreesFolder } from './workspace.ts';

type Cause = EventEnvelope['cause'];

/** How long landing waits for the pipeline to finish wrapping up a goal that just became done. */
const RUN_WRAP_UP_TIMEOUT_MS = 30_000;
/** How often the target branch's head is looked at for background rebases (a commit moves no file the watcher sees). */
const TARGET_POLL_MS = 1000;

/** A landed goal's worktree folder moved aside to be deleted: `.removing-goal-<id>-<pid>` beside the worktrees. */
const REMOVING_PREFIX = '.removing-goal-';

/** Where a test may stop a landing for good (then kill the daemon): after the rebase, or after the commit before it is recorded. */
export type LandingHoldStep = 'after-rebase' | 'after-commit';

/**
 * The test-only hold from the environment: `RALPH_TEST_LAND_HOLD=<step>:<file>` makes a landing that
 * reaches the step write `file` and wait there until the daemon stops (crash tests kill it then).
 */
export function landingHoldFromEnv(env: NodeJS.ProcessEnv): { step: LandingHoldStep; file: string } | null {
  const match = /^(after-rebase|after-commit):(.+)$/.exec(env.RALPH_TEST_LAND_HOLD ?? '');
  return match ? { step: match[1] as LandingHoldStep, file: match[2]! } : null;
}

/** A landing stopped by a test's hold, and the daemon stopping: the goal stays queued. */
class HeldError extends Error {
  constructor() {
    super('the landing was held for a test and the daemon stopped');
  }
}

/** The landability a refusal leaves the goal with. */
function landabilityOf(reason: LandingRefusalReason): Landability {
  return reason === 'rebase-conflict' ? 'conflicts' : reason === 'check-failed' ? 'check-failing' : 'refused';
}

export interface LandServiceOptions {
  repoRoot: string;
  store: GoalStore;
  bus: EventBus;
  /** `executor.verify` (the check), `executor.land` and the command limits, read at each landing. */
  config: ConfigService;
  log: Log;
  /** Where goal worktrees live (default: defaultWorktreesRoot()). */
  worktreesRoot?: string;
  /** Extra environment for git (tests hide the machine's git config). */
  gitEnv?: GitEnv;
  /** Whether the pipeline is running the goal now: a goal is never landed under its executor. */
  isRunning?: (goalId: number) => boolean;
  /** The daemon's secrets: kept from the check's environment (but `secrets.passEnv`) as in the iterations. Default: none known. */
  secrets?: DaemonSecrets;
  /** How often the target branch's head is looked at (default 1 s). */
  targetPollMs?: number;
  /** A done goal's rebase conflicts (found in the background, or by a landing): where conflict resolution starts. */
  onConflict?: (conflict: GoalConflict) => void;
  /** Test only: stop a landing at a step for good (see landingHoldFromEnv). */
  hold?: { step: LandingHoldStep; file: string } | null;
}

interface Waiter {
  resolve: (outcome: LandOutcome) => void;
  reject: (error: unknown) => void;
  cause: Cause;
}

export interface LandOutcome {
  goal: Goal;
  commit: string;
  /** Files the landing commit changed, relative to the repository root. */
  files: string[];
}

/** The refusal's reason a landing's ConflictError carries, if any. */
function conflictReason(error: unknown): string | undefined {
  return error instanceof ConflictError ? (error.data as { reason?: string } | undefined)?.reason : undefined;
}

/** The first line of a refusal, for one-line answers; a failing check's output follows in the goal's log. */
function oneLineReason(message: string): string {
  const [head = message, ...rest] = message.split('\n');
  return rest.length > 0 ? `${head.replace(/:\s*$/, '')} (its output is in the goal's log)` : head;
}

export class LandService {
  private readonly options: LandServiceOptions;
  /** One git job at a time: a landing, or a background rebase and check. */
  private readonly lock = new KeyedQueue<'land'>();
  private book: LandingBook | null = null;
  private keeper: KeepLandable | null = null;
  private ready: Promise<void> | null = null;
  /** Requests waiting for their goal's landing (a goal queued by an earlier daemon has none). */
  private readonly waiters = new Map<number, Waiter>();
  private draining: Promise<void> | null = null;
  /** Worktrees of landed goals moved aside, deleted once the queue is empty (not to slow the landings after them). */
  private readonly asideToDelete: { goalId: number; folder: string }[] = [];
  /** Their deletion, one after another, outside the landing lock. */
  private removals: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  /** Landings waiting for a goal's run to end, and a test's hold: woken when the service closes. */
  private readonly runWaiters = new Set<() => void>();
  /** Goals asked to land whose landing conflicted: they join the queue again once their conflict resolution has made them done. */
  private readonly relandAfterResolution = new Set<number>();
  private closed = false;

  constructor(options: LandServiceOptions) {
    this.options = options;
  }

  /**
   * Reads the queue, reconciles it with git and the goals (what a killed daemon left), and goes on
   * with it; lands goals that become done by themselves when the config says `executor.land: 'auto'`,
   * and keeps done goals landable in the background. Resolves once the reconciliation is done.
   */
  start(): Promise<void> {
    this.ready ??= this.init().catch((error: Error) => {
      this.options.log(`landing: could not start: ${error.message}`);
    });
    return this.ready;
  }

  /** The landing queue and each done goal's landability, as now. */
  state(): LandingState {
    return this.book?.snapshot() ?? emptyLandingState();
  }

  /** Resolves once the background work that keeps goals landable has nothing left to do now. */
  async settled(): Promise<void> {
    await this.start();
    while (this.draining || this.keeper?.busy()) {
      await this.draining;
      await this.keeper?.idle();
    }
  }

  /** Looks at a done goal's landability again (its branch changed: after a conflict resolution, say). */
  recheck(): void {
    this.keeper?.kick();
  }

  private async init(): Promise<void> {
    const { repoRoot, store, bus, log, gitEnv = {} } = this.options;
    const book = await LandingBook.open(repoRoot, { log, onChange: (state) => bus.publish('landing.changed', state) });
    this.book = book;
    this.keeper = new KeepLandable({
      repoRoot,
      store,
      book,
      log,
      worktreesRoot: this.options.worktreesRoot,
      gitEnv,
      exclusive: (job) => this.lock.run('land', job),
      landingWaiting: (goalId) => (goalId === undefined ? book.queue().length > 0 : book.entry(goalId) !== undefined),
      check: () => {
        const verify = this.options.config.config.executor.verify;
        return verify === null ? null : (cwd, signal) => this.check(verify, cwd, signal);
      },
      pollMs: this.options.targetPollMs ?? TARGET_POLL_MS,
      ...(this.options.onConflict ? { onConflict: this.options.onConflict } : {}),
    });
    if (this.closed) return;
    this.unsubscribe = bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'goal.updated' || envelope.data.transition?.to !== 'done') return;
      const id = envelope.data.goal.id;
      // Not inside the store's publish: the transition that made the goal done finishes first.
      setImmediate(() => {
        if (this.options.config.config.executor.land === 'auto') void this.enqueueAuto(id);
        else if (this.relandAfterResolution.delete(id)) void this.enqueueAuto(id, 'manual');
        else this.keeper?.kick();
      });
    });
    await this.lock.run('land', () => this.reconcile());
    // A landing the last daemon did not finish (stopped or killed between the goal becoming done and
    // the landing being recorded) is taken up again: a done goal that has not landed is still due.
    if (this.options.config.config.executor.land === 'auto') {
      for (const goal of store.list()) if (goal.state === 'done' && !goal.landed) await book.enqueue(goal.id, 'auto');
    }
    // And one that died after recording a landing may have left the goal's worktree and branch.
    void this.lock.run('land', () => this.removeLandedLeftovers());
    this.drain();
    this.keeper.start();
  }

  /**
   * What a daemon killed mid-landing left, made to match git: a landing commit on the branch the
   * goal does not record is recorded (never made again); a rebase cut short in a done goal's
   * worktree is aborted and the branch put back; queue entries of goals no longer due go, and the
   * others start their landing again from the beginning; backups of landed goals go.
   */
  private async reconcile(): Promise<void> {
    const { store, repoRoot, gitEnv = {}, log } = this.options;
    const book = this.book!;
    for (const goal of store.list()) {
      if (this.closed) return;
      if (goal.state !== 'done' || goal.landed) continue;
      try {
        if (!(await branchExists(repoRoot, goalBranch(goal.id), gitEnv))) continue;
        const earlier = await findLandingCommit(repoRoot, goal.id, gitEnv);
        if (earlier) {
          await this.recordFound(goal, earlier);
          continue;
        }
        if (await recoverGoalWorktree(repoRoot, goal.id, this.options.worktreesRoot, gitEnv)) {
          const head = (await resolveCommit(repoRoot, `refs/heads/${goalBranch(goal.id)}`, gitEnv)) ?? '';
          log(`goal #${goal.id}: a rebase cut short in its worktree was aborted; its branch is as it was before (${head.slice(0, 7)})`);
        }
      } catch (error) {
        log(`goal #${goal.id}: could not check what its last landing left: ${(error as Error).message}`);
      }
    }
    await book.retain((id) => {
      const goal = store.get(id);
      return goal !== undefined && goal.state === 'done' && !goal.landed;
    });
    for (const entry of book.queue()) {
      if (entry.step === 'queued') continue;
      log(`goal #${entry.goalId}: its landing was cut short at the ${entry.step} step; it starts again`);
      await book.setStep(entry.goalId, 'queued');
    }
    for (const id of await goalsWithBackups(repoRoot, gitEnv).catch(() => [] as number[])) {
      if (store.get(id)?.landed) await deleteBackups(repoRoot, id, gitEnv);
    }
  }

  /** Records a landing found on the branch (made by a daemon that died before recording it). */
  private async recordFound(goal: Goal, earlier: { commit: string; branch: string; files: string[] }, cause?: Cause): Promise<LandOutcome> {
    const { repoRoot, gitEnv = {} } = this.options;
    // It may have died before the developer's index was written: its files would show as staged reversals.
    const repaired = await repairIndexAfterLanding(repoRoot, earlier.commit, earlier.files, gitEnv);
    if (repaired.length > 0)
      this.options.log(`goal #${goal.id}: the index still had ${repaired.join(', ')} as before its landing; updated`);
    return this.finish(goal, earlier, cause, 'found already landed');
  }

  /** Removes the worktrees and branches of landed goals (a landing cut short before its cleanup). */
  private async removeLandedLeftovers(): Promise<void> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    try {
      const landed = new Set(
        store
          .list()
          .filter((goal) => goal.landed)
          .map((goal) => goal.id),
      );
      const folder = repoWorktreesFolder(this.options.worktreesRoot ?? defaultWorktreesRoot(), await realpath(repoRoot));
      const folders = await readdir(folder).catch(() => [] as string[]);
      // Worktrees of landed goals moved aside for removal, which a stop cut short.
      for (const name of folders.filter((entry) => entry.startsWith(REMOVING_PREFIX))) {
        await rm(path.join(folder, name), { recursive: true, force: true });
      }
      if (landed.size === 0) return;
      const refs = await git(repoRoot, ['for-each-ref', '--format=%(refname)', 'refs/heads/ralph/'], { env: gitEnv });
      const ids = new Set<number>();
      for (const name of [...refs.split('\n'), ...folders]) {
        const match = /(?:^refs\/heads\/ralph\/goal-|^goal-)(\d+)$/.exec(name);
        if (match && landed.has(Number(match[1]))) ids.add(Number(match[1]));
      }
      for (const id of ids) {
        if (this.closed) return;
        const removed = await GoalWorkspace.removeLandedLeftovers({
          repoRoot,
          goalId: id,
          worktreesRoot: this.options.worktreesRoot,
          env: gitEnv,
        });
        if (removed) this.options.log(`goal #${id}: removed the worktree and branch its landing left behind`);
      }
    } catch (error) {
      this.options.log(`landing: could not remove what landed goals left behind: ${(error as Error).message}`);
    }
  }

  /**
   * Lands a done goal: it joins the queue and the answer comes once it has landed; a refusal is a
   * ConflictError whose data names the reason and the files.
   */
  async land(id: number, cause?: Cause): Promise<LandOutcome> {
    if (this.closed) throw new UnavailableError('the daemon is stopping');
    await this.start();
    const book = this.book;
    if (!book) throw new UnavailableError('landing could not start (see the daemon log)');
    if (this.waiters.has(id)) throw new ConflictError(`goal #${id} is being landed already`);
    this.requireLandable(id);
    const outcome = new Promise<LandOutcome>((resolve, reject) => this.waiters.set(id, { resolve, reject, cause }));
    this.keeper?.yieldToLanding();
    if (!book.entry(id) && !(await book.enqueue(id, 'manual'))) {
      this.waiters.delete(id);
      throw new ConflictError(`the landing queue is full (${book.queue().length} goals); land goal #${id} later`);
    }
    this.drain();
    return outcome;
  }

  /** Stops landing and the background work, and waits for a landing in progress (it is never cut in half). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const wake of [...this.runWaiters]) wake();
    await this.keeper?.close();
    await this.draining;
    await this.lock.idle();
    this.deleteAside();
    await this.removals;
    await this.book?.flushed();
    for (const [id, waiter] of this.waiters) {
      waiter.reject(new UnavailableError(`the daemon stopped before goal #${id} landed; it stays in the landing queue`));
    }
    this.waiters.clear();
  }

  /** A done, unlanded goal, or the Conflict saying why not. */
  private requireLandable(id: number): Goal {
    const goal = this.options.store.require(id);
    if (goal.landed) {
      throw new ConflictError(`goal #${id} already landed as ${goal.landed.commit.slice(0, 7)} on ${goal.landed.branch}`);
    }
    if (goal.state !== 'done') throw new ConflictError(`goal #${id} is ${goal.state}: only a done goal can land`);
    return goal;
  }

  private async enqueueAuto(id: number, by: 'auto' | 'manual' = 'auto'): Promise<void> {
    if (this.closed) return;
    try {
      await this.start();
      const goal = this.options.store.get(id);
      if (!this.book || !goal || goal.state !== 'done' || goal.landed) return;
      this.keeper?.yieldToLanding();
      if (!(await this.book.enqueue(id, by)) && !this.book.entry(id)) {
        this.options.log(`goal #${id}: the landing queue is full; it is not landed automatically`);
      }
      this.drain();
    } catch (error) {
      this.options.log(`goal #${id}: could not queue its automatic landing: ${(error as Error).message}`);
    }
  }

  /** Lands the queue's goals in order, one at a time, until it is empty (or the service closes). */
  private drain(): void {
    if (this.draining || this.closed || !this.book) return;
    this.draining = (async () => {
      for (;;) {
        const next = this.book!.queue()[0];
        if (!next || this.closed) return;
        await this.lock.run('land', () => this.landNext(next.goalId, next.by));
      }
    })().finally(() => {
      this.draining = null;
      this.deleteAside();
      // A goal queued while the last one was being finished: go on.
      if (this.book!.queue().length > 0 && !this.closed) this.drain();
      // The target moved (or the queue held goals the background left alone): look at the others.
      else this.keeper?.kick();
    });
  }

  /** Deletes the worktrees of landed goals moved aside so far. */
  private deleteAside(): void {
    for (const { goalId, folder } of this.asideToDelete.splice(0)) {
      this.removals = this.removals
        .then(() => rm(folder, { recursive: true, force: true }))
        .then(
          () => rmdir(path.dirname(folder)).catch(() => undefined),
          (error: Error) =>
            this.options.log(`goal #${goalId}: landed, but its old worktree ${folder} could not be deleted: ${error.message}`),
        );
    }
  }

  private async landNext(id: number, by: 'manual' | 'auto'): Promise<void> {
    const waiter = this.waiters.get(id);
    try {
      const outcome = await this.landNow(id, waiter?.cause);
      this.waiters.delete(id);
      waiter?.resolve(outcome);
      if (by === 'auto') {
        this.options.log(`goal #${id}: landed automatically as ${outcome.commit.slice(0, 7)} (${plural(outcome.files.length, 'file')})`);
      }
    } catch (error) {
      if (this.closed && error instanceof HeldError) return; // stays queued for the next daemon
      await this.book!.remove(id).catch(() => undefined);
      this.waiters.delete(id);
      waiter?.reject(error);
      const resolving = this.options.onConflict !== undefined && conflictReason(error) === 'rebase-conflict';
      if (by === 'auto' && !waiter && resolving) {
        this.options.log(`goal #${id}: its automatic landing conflicts; it goes back to the loop to resolve that, then lands`);
      } else if (by === 'auto' && !waiter) {
        const message = `automatic landing refused, the goal stays done (land it with: ralph goal land ${id}): ${(error as Error).message}`;
        const files = error instanceof ConflictError ? ((error.data as { files?: string[] } | undefined)?.files ?? []) : [];
        this.options.bus.publish('goal.warning', { goalId: id, kind: 'land-refused', message, paths: files });
        this.options.log(`goal #${id}: ${message}`);
      } else if (!(error instanceof ConflictError)) {
        this.options.log(`goal #${id}: landing failed: ${(error as Error).message}`);
      }
    }
  }

  private async landNow(id: number, cause: Cause): Promise<LandOutcome> {
    const { repoRoot, gitEnv = {} } = this.options;
    const book = this.book!;
    const goal = this.requireLandable(id);
    if (!(await this.runEnded(id))) {
      throw new ConflictError(`goal #${id} is still being wrapped up by the pipeline; land it in a moment`);
    }
    const branch = goalBranch(id);
    if (!(await branchExists(repoRoot, branch, gitEnv))) {
      throw new ConflictError(`goal #${id} has no branch ${branch}: there is nothing to land`);
    }

    // A daemon that died between the landing commit and recording it: the commit says it all.
    const earlier = await findLandingCommit(repoRoot, id, gitEnv);
    if (earlier) return this.recordFound(goal, earlier, cause);

    await recoverGoalWorktree(repoRoot, id, this.options.worktreesRoot, gitEnv);
    const workspace = await GoalWorkspace.open({ repoRoot, goalId: id, worktreesRoot: this.options.worktreesRoot, env: gitEnv });
    const verify = this.options.config.config.executor.verify;
    const hold = this.options.hold;
    let result: Awaited<ReturnType<typeof landGoal>>;
    try {
      result = await landGoal({
        repoRoot,
        goalId: id,
        title: goal.title,
        workspace,
        check: verify === null ? undefined : (cwd) => this.landingCheck(id, workspace, verify, cwd),
        onStep: async (step) => {
          await book.setStep(id, step);
          if (step === 'check' && hold?.step === 'after-rebase') await this.holdHere(id, hold);
        },
      });
    } catch (error) {
      if (!(error instanceof LandingRefusedError)) throw error;
      // Settled until the target or the goal's branch moves (the background looks again then).
      const [targetHead, targetBranch, goalHead] = await Promise.all([
        resolveCommit(repoRoot, 'HEAD', gitEnv),
        currentBranch(repoRoot, gitEnv),
        workspace.head(),
      ]);
      await book.setLandability({
        goalId: id,
        status: landabilityOf(error.reason),
        refusal: error.reason,
        reason: error.message,
        files: error.files,
        goalHead,
        ...(targetHead ? { targetHead } : {}),
        ...(targetBranch ? { branch: targetBranch } : {}),
      });
      if (error.reason === 'rebase-conflict' && targetHead && targetBranch && this.options.onConflict) {
        if (book.entry(id)?.by === 'manual') this.relandAfterResolution.add(id);
        this.options.onConflict({ goalId: id, files: error.files, branch: targetBranch, targetHead, goalHead });
      }
      await this.appendLog(id, { kind: 'land.refused', text: error.message, reason: error.reason, files: error.files }, cause);
      this.options.log(`goal #${id}: ${oneLineReason(error.message)}`);
      throw new ConflictError(oneLineReason(error.message), { reason: error.reason, files: error.files });
    }
    if (hold?.step === 'after-commit') await this.holdHere(id, hold);
    return this.finish(goal, result, cause, 'landed', workspace);
  }

  /**
   * The landing's check, unless the background already ran it on this very commit (the branch
   * rebased onto this target head, unchanged since) and it passed: the same tree, the same check.
   */
  private async landingCheck(id: number, workspace: GoalWorkspace, verify: string, cwd: string): Promise<CheckResult> {
    const known = this.book!.landability(id);
    if (known?.status === 'landable' && known.goalHead === (await workspace.head())) {
      return { ok: true, output: 'the check passed on this commit in the background' };
    }
    return this.check(verify, cwd);
  }

  /** Test only: stays at this step of a landing until the daemon stops (a crash test kills it here). */
  private async holdHere(id: number, hold: { step: LandingHoldStep; file: string }): Promise<void> {
    this.options.log(`goal #${id}: landing held ${hold.step} (RALPH_TEST_LAND_HOLD)`);
    await writeFile(hold.file, `${id}\n`);
    await new Promise<void>((resolve) => this.runWaiters.add(resolve));
    throw new HeldError();
  }

  /**
   * Whether the pipeline has let go of the goal. A goal that just became done is still the
   * pipeline's for a moment (its run writes its last log lines), so landing waits for the
   * `pipeline.changed` that ends the run, within a bound; false when it did not come (or the
   * service closed).
   */
  private runEnded(id: number): Promise<boolean> {
    const isRunning = this.options.isRunning;
    if (!isRunning?.(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ended: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        this.runWaiters.delete(wake);
        resolve(ended);
      };
      const wake = () => finish(false);
      const timer = setTimeout(() => finish(!isRunning(id)), RUN_WRAP_UP_TIMEOUT_MS);
      const unsubscribe = this.options.bus.subscribe(({ envelope }) => {
        if (envelope.type === 'pipeline.changed' && !isRunning(id)) finish(true);
      });
      this.runWaiters.add(wake);
    });
  }

  /** Records the landing on the goal, logs it, and removes the worktree, branch and backups (their work is on the developer's branch now). */
  private async finish(
    goal: Goal,
    result: { commit: string; branch: string; files: string[] },
    cause: Cause,
    verb: string,
    workspace?: GoalWorkspace,
  ): Promise<LandOutcome> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    const landed = await store.recordLanding(
      goal.id,
      { commit: result.commit, branch: result.branch, at: new Date().toISOString() },
      cause,
    );
    await this.book?.remove(goal.id, { forgetLandability: true });
    const text = `${verb} as ${result.commit.slice(0, 7)} on ${result.branch} (${plural(result.files.length, 'file')})`;
    await this.appendLog(goal.id, { kind: 'landed', text, commit: result.commit, branch: result.branch, files: result.files }, cause);
    this.options.log(`goal #${goal.id}: ${text}`);
    try {
      const ws =
        workspace ?? (await GoalWorkspace.open({ repoRoot, goalId: goal.id, worktreesRoot: this.options.worktreesRoot, env: gitEnv }));
      // The worktree's files go after the lock is released (deleting thousands of files takes seconds):
      // moved aside now, so git forgets the worktree at once and the next landing does not wait.
      const aside = path.join(path.dirname(ws.path), `${REMOVING_PREFIX}${goal.id}-${process.pid}`);
      const movedAside = await rename(ws.path, aside).then(
        () => true,
        () => false,
      );
      // force: what is left uncommitted in the worktree now came from the check (landing refuses a dirty one).
      await ws.remove({ deleteBranch: true, force: true });
      await deleteBackups(repoRoot, goal.id, gitEnv);
      if (movedAside) this.asideToDelete.push({ goalId: goal.id, folder: aside });
    } catch (error) {
      this.options.log(`goal #${goal.id}: landed, but its worktree could not be removed: ${(error as Error).message}`);
    }
    return { goal: landed, commit: result.commit, files: result.files };
  }

  /** The goal check as the executor runs it after each iteration (same limits, the same environment rules, no secrets). */
  private async check(command: string, cwd: string, signal?: AbortSignal): Promise<CheckResult> {
    const { commands, verifyTimeoutSeconds } = this.options.config.config.executor;
    const apiKey = this.options.config.provider().apiKey;
    const secrets = this.options.secrets ?? DaemonSecrets.none();
    const result = await runCheck(command, cwd, {
      timeoutMs: verifyTimeoutSeconds * 1000,
      outputLimitBytes: commands.outputLimitBytes,
      sandbox: commands.sandbox,
      secrets: [...(apiKey ? [apiKey] : []), ...secrets.values()],
      envRules: secrets.envRules(),
      ...(signal ? { signal } : {}),
      record: { folder: recordsFolder(ralphPaths(this.options.repoRoot).dir, 'commands'), what: 'a check before landing' },
    });
    return { ok: result.ok, output: result.fullOutput };
  }

  /** The goal file is the record; a log line that cannot be written is reported, not thrown. */
  private async appendLog(id: number, entry: { kind: string; text: string; [key: string]: unknown }, cause: Cause): Promise<void> {
    try {
      await this.options.store.log.append(id, entry, cause);
    } catch (error) {
      this.options.log(`goal #${id}: could not append to its log: ${(error as Error).message}`);
    }
  }
}

/**
 * The landing commit of a goal on the developer's branch since the goal's branch forked from it
 * (found by its `Ralph-Goal: <id>` trailer), with the branch and the files it changed; null when
 * there is none.
 */
export async function findLandingCommit(
  repoRoot: string,
  goalId: number,
  env: GitEnv = {},
): Promise<{ commit: string; branch: string; files: string[] } | null> {
  const branch = await currentBranch(repoRoot, env);
  if (!branch) return null;
  const fork = await gitRun(repoRoot, ['merge-base', 'HEAD', goalBranch(goalId)], { env });
  if (fork.exitCode !== 0) return null;
  const log = await git(
    repoRoot,
    ['log', `--format=%H%x00%(trailers:key=${GOAL_TRAILER},valueonly,separator=%x2C)`, `${fork.stdout.trim()}..HEAD`],
    {
      env,
    },
  );
  for (const line of log.split('\n')) {
    const [commit, values = ''] = line.split('\0');
    if (!commit || !values.split(',').some((value) => value.trim() === String(goalId))) continue;
    const files = splitNul(
      await git(repoRoot, ['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--no-renames', commit], { env }),
    );
    return { commit, branch, files };
  }
  return null;
}
