/**
 * One goal's run, from the pipeline's `start` to an end: iterations in the goal's worktree until
 * the goal is done (goal_done AND the check passes), a bound is hit (stuck), the agent asked a
 * person (ask_human: the question is filed in the inbox and the goal is `waiting`; the answer puts
 * it back in the queue, see goal-questions.ts), or the run is stopped (the goal was paused or
 * cancelled, or the daemon stops).
 *
 * The goal's state changes only through the store. The run writes `complete` and `fail`; a stop
 * comes from outside (the pipeline sees the goal leave `running` and calls `stop`), except on
 * shutdown, where the run puts its goal back to `queued` (`recover`) for the next daemon.
 *
 * A failed model call is not an iteration: a rate limit that outlasts the provider's own retries
 * waits and tries again (not counted, not timed); server and network failures are tried again a
 * few times; a missing or refused configuration ends the goal stuck with the provider's message.
 * An external agent CLI is treated alike: rate limited or out of quota, it waits and tries again;
 * not installed or not logged in, the goal is stuck saying what to do. A used-up quota, or a rate
 * limit whose reset is further off than `budget.rateLimitPauseSeconds`, holds the whole pipeline
 * until that reset (else an hour) rather than one goal: the others would hit the same wall.
 *
 * Every call is counted against the daemon's spend budget as the iteration reports its spend; the
 * call that uses the budget up ends the iteration (its work is committed, the check skipped) and
 * the goal waits, still running, until the pipeline goes on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { addUsage, emptyUsage, InvalidTransitionError, oneLine, type Attempt, type Goal, type Question } from '../../protocol/index.ts';
import { DONE_MARKER } from '../agent/external/backend.ts';
import { AgentStartError } from '../agent/external/external-run.ts';
import { resolveAgent, type AgentChoice } from '../agent/external/registry.ts';
import type { RalphConfig } from '../config/schema.ts';
import { NotFoundError } from '../errors.ts';
import type { ResolvedProvider } from '../config/env.ts';
import type { ModelTable } from '../llm/models.ts';
import type { ProviderFactory } from '../llm/provider.ts';
import { ProviderError } from '../llm/types.ts';
import type { Log } from '../log.ts';
import type { BudgetService } from '../budget/budget-service.ts';
import type { GoalStore } from '../store/goal-store.ts';
import type { InboxService } from '../inbox/inbox-service.ts';
import { clip } from '../tools/tool.ts';
import {
  boundsFrom,
  iterationBoundReached,
  SpendingWatch,
  spendingBoundReached,
  spendOf,
  stallDetected,
  type AttemptSpend,
  type Bounds,
} from './bounds.ts';
import type { GitEnv } from '../git/git.ts';
import { ExternalAgentError } from './external-iteration.ts';
import { IterationError, runIteration, type IterationInput, type IterationRecord, type IterationSpend } from './iteration.ts';
import type { GoalJournal } from './journal.ts';
import { iterationNote, iterationsOf, lastCheck, nextIterationNumber, openAttempt, retryContext } from './notes.ts';
import { GoalWorkspace } from './workspace.ts';
import { startOnDependencies } from './dependencies.ts';
import { conflictContext, markersLeft, RESOLUTION_MAX_ITERATIONS, restoreBranch, setUpResolution } from './conflict-resolution.ts';

/** Where the pipeline reads its settings, afresh for every iteration (a config reload applies to the next one). */
export interface PipelineSettings {
  executor(): RalphConfig['executor'];
  provider(): ResolvedProvider;
  models(): Pick<ModelTable, 'cost'>;
  /** The config's `budget` (the rate-limit threshold); absent: the defaults. */
  budget?(): RalphConfig['budget'];
}

/** What a run needs of the daemon's spend budget: a counter per iteration that says when it is used up. */
export type GoalSpending = Pick<BudgetService, 'iterationMeter'>;

export type { ProviderFactory };

/** Timings and limits of the loop's own retries (tests shorten them). */
export interface RetryTuning {
  /** The first wait after a rate limit outlasted the provider's retries; it doubles each time, up to 10 minutes. Default 60 s. */
  rateLimitWaitMs: number;
  /** The wait after a server or network failure. Default 10 s. */
  providerRetryMs: number;
  /** Server or network failures in a row before the goal is stuck. Default 3. */
  providerFailureLimit: number;
  /** How long a used-up quota holds the pipeline when the provider gives no reset time. Default an hour. */
  limitHoldMs: number;
}

export const RETRY_DEFAULTS: RetryTuning = {
  rateLimitWaitMs: 60_000,
  providerRetryMs: 10_000,
  providerFailureLimit: 3,
  limitHoldMs: 3_600_000,
};
const RATE_LIMIT_WAIT_MAX_MS = 10 * 60_000;

export const SHUTDOWN_NOTE = 'the daemon stopped while the goal ran; it continues when the daemon starts again';

/** Why a run is asked to stop. */
export interface StopRequest {
  kind: 'pause' | 'cancel' | 'shutdown' | 'lost';
  reason: string;
}

export interface GoalRunOptions {
  goalId: number;
  repoRoot: string;
  store: GoalStore;
  journal: GoalJournal;
  settings: PipelineSettings;
  createProvider: ProviderFactory;
  log: Log;
  worktreesRoot: string;
  gitEnv?: GitEnv;
  bounds?: Partial<Bounds>;
  retry: RetryTuning;
  /** The daemon's spend budget; absent: none. */
  spending?: GoalSpending;
  /** Holds the whole pipeline until `until` (the provider's quota or rate limit); absent: the goal waits alone. */
  hold?: (reason: 'quota' | 'rate-limit', message: string, until: Date) => void;
  /** The clock a hold's end is set on. Default: the real one. */
  now?: () => Date;
  /** Where the agent's questions go; absent, the agent cannot ask (no ask_human). */
  inbox?: GoalInbox;
  /** Where iterations run when not here (`executor.backend: 'queue'`); absent: here. */
  remote?: RemoteIterations;
  /** Resolves when the pipeline may go on (it may be paused between iterations). */
  whenResumed(): Promise<void>;
  isPaused(): boolean;
}

/** What a run needs of the inbox: file a question, find the goal's questions and answers. */
export type GoalInbox = Pick<InboxService, 'ask' | 'ofGoal'>;

/**
 * Iterations run elsewhere (a queue worker, daemon/queue/): each one is handed over instead of run
 * here, with the same input and the same record or IterationError back; `end` when the run is over.
 */
export interface RemoteIterations {
  iterate(input: IterationInput): Promise<IterationRecord>;
  end(goalId: number): Promise<void>;
  /** Once every run has ended (the daemon stops). */
  close(): Promise<void>;
}

/** What the next iteration starts from: the goal, its open attempt, the settings and bounds in force, the attempt's spend so far. */
interface NextIteration {
  goal: Goal;
  attempt: Attempt;
  workspace: GoalWorkspace;
  executor: RalphConfig['executor'];
  bounds: Bounds;
  spend: AttemptSpend;
  /** The iteration's position in the attempt, from 1. */
  position: number;
}

export class GoalRun {
  readonly goalId: number;
  /** Settles when the run has ended (it never rejects). */
  readonly finished: Promise<void>;
  private readonly options: GoalRunOptions;
  private readonly journal: GoalJournal;
  private readonly store: GoalStore;
  private readonly stopController = new AbortController();
  private stopRequest: StopRequest | null = null;
  /** What tries that left no iteration record spent (failed model calls): it counts against the bounds too. */
  private unrecorded = { activeMs: 0, usage: emptyUsage() };
  /** Server or network failures in a row. */
  private providerFailures = 0;
  /** The next wait after a rate limit outlasted the provider's retries (it doubles each time). */
  private rateLimitWaitMs: number;
  /** The iteration in flight was stopped because the daemon's spend budget is used up (not a bound of the goal's). */
  private budgetStopped = false;
  /** The prompt's section on the landing conflict this run resolves (null: the run resolves none). */
  private conflict: string | null = null;
  /** The landing conflict this run resolves, as it was when the run started (a cancel clears it on the goal first). */
  private resolving: Goal['resolving'] = undefined;
  private workspace: GoalWorkspace | null = null;

  constructor(options: GoalRunOptions) {
    this.options = options;
    this.goalId = options.goalId;
    this.journal = options.journal;
    this.store = options.store;
    this.rateLimitWaitMs = options.retry.rateLimitWaitMs;
    this.finished = this.run().catch((error: unknown) => {
      options.log(`goal #${this.goalId}: the run ended with an unexpected error: ${(error as Error).stack ?? String(error)}`);
    });
  }

  /** Stops the run: the model call is aborted and the commands the agent started are killed. Idempotent. */
  stop(request: StopRequest): void {
    if (this.stopRequest) return;
    this.stopRequest = request;
    this.stopController.abort(new Error(request.reason));
  }

  /** Prepares the workspace, then runs iterations until one of them (or a stop) ends the run. */
  private async run(): Promise<void> {
    const workspace = await this.prepareWorkspace();
    if (!workspace) return;
    while (await this.nextTurn(workspace));
    await this.options.remote?.end(this.goalId).catch((error: unknown) => {
      this.options.log(`goal #${this.goalId}: could not end its remote attempt: ${(error as Error).message}`);
    });
  }

  /** Opens the goal's worktree and records its branch on the goal; false when the run ends here. */
  private async prepareWorkspace(): Promise<GoalWorkspace | false> {
    let workspace: GoalWorkspace;
    try {
      workspace = await GoalWorkspace.open({
        repoRoot: this.options.repoRoot,
        goalId: this.goalId,
        worktreesRoot: this.options.worktreesRoot,
        ...(this.options.gitEnv ? { env: this.options.gitEnv } : {}),
      });
    } catch (error) {
      if (this.stopRequest) return this.endWith(this.finishStopped());
      return this.endWith(this.fail(`could not prepare the goal's workspace: ${(error as Error).message}`));
    }
    const goal = this.store.get(this.goalId);
    // A goal that comes after others runs on top of their landing commits (dependencies.ts).
    if (!goal?.resolving) await startOnDependencies(workspace, goal, (id) => this.store.get(id), this.journal);
    if (goal && goal.branch !== workspace.branch) {
      if (!(await this.record({ branch: workspace.branch }))) return false;
    }
    await this.journal.write('decision', `working in ${workspace.path} on branch ${workspace.branch}`, {
      worktree: workspace.path,
      branch: workspace.branch,
    });
    this.workspace = workspace;
    if (goal?.resolving && !(await this.prepareResolution(workspace, goal, goal.resolving))) return false;
    return workspace;
  }

  /** A landing conflict to resolve: the worktree set up with the conflict, and the prompt's section on it; false when the run ends here. */
  private async prepareResolution(workspace: GoalWorkspace, goal: Goal, resolving: NonNullable<Goal['resolving']>): Promise<boolean> {
    this.resolving = resolving;
    try {
      const attempt = openAttempt(goal);
      const conflicted = await setUpResolution(workspace, resolving, !attempt || iterationsOf(attempt).length === 0);
      if (conflicted) {
        await this.journal.write(
          'decision',
          `resolving the landing conflict with ${resolving.branch}: the goal's change is merged onto ${resolving.targetHead.slice(0, 7)}` +
            (conflicted.length > 0 ? `, with conflict markers in ${conflicted.join(', ')}` : ''),
          { files: conflicted },
        );
      }
      this.conflict = await conflictContext(workspace, resolving);
      return true;
    } catch (error) {
      return this.endWith(this.fail(`could not set up the conflict resolution: ${(error as Error).message}`));
    }
  }

  /** One turn of the loop: wait out a pause, or run the next iteration and decide. False: the run has ended. */
  private async nextTurn(workspace: GoalWorkspace): Promise<boolean> {
    if (this.stopRequest) return this.endWith(this.finishStopped());
    if (this.options.isPaused()) {
      await this.journal.write('decision', 'the pipeline is paused: waiting before the next iteration');
      await Promise.race([this.options.whenResumed(), this.stopped()]);
      return true;
    }
    const goal = this.store.get(this.goalId);
    if (goal?.state !== 'running') return this.endWith(this.finishStopped({ kind: 'lost', reason: 'the goal is no longer running' }));
    const attempt = openAttempt(goal);
    if (!attempt) return this.endWith(this.fail('the goal runs without an open attempt (was its file edited by hand?)'));

    const executor = this.options.settings.executor();
    const bounds = boundsFrom(executor, this.options.bounds);
    const recorded = iterationsOf(attempt);
    const spend = spendOf(recorded, this.unrecorded);
    const reached =
      resolutionBoundReached(goal, recorded.length) ?? iterationBoundReached(spend, bounds) ?? spendingBoundReached(spend, bounds);
    if (reached) return this.endWith(this.fail(reached));

    const iteration = await this.tryIteration({ goal, attempt, workspace, executor, bounds, spend, position: recorded.length + 1 });
    if (iteration === 'again') return true;
    if (iteration === 'end') return false;
    return this.recordIteration(iteration, attempt.number, bounds);
  }

  /**
   * Runs one iteration with the bounds watched. Its record; or, when it left none, what the loop
   * does now: `again` (a failed model call worth trying again) or `end` (the run has ended).
   */
  private async tryIteration(next: NextIteration): Promise<IterationRecord | 'again' | 'end'> {
    const { goal, attempt, executor } = next;
    let agent: AgentChoice;
    try {
      agent = resolveAgent(goal.agent, executor);
    } catch (error) {
      await this.fail((error as Error).message);
      return 'end';
    }
    const providerSettings = this.options.settings.provider();
    const boundController = new AbortController();
    const watch = new SpendingWatch(next.spend, next.bounds, (reason) => boundController.abort(new Error(reason)));
    const number = nextIterationNumber(goal);
    this.budgetStopped = false;
    const countSpend = this.options.spending?.iterationMeter(
      { goalId: this.goalId, iteration: number },
      agent.kind === 'external' ? (agent.model ?? agent.backend.name) : providerSettings.model,
    );
    let iteration: IterationRecord;
    try {
      const remote = this.options.remote;
      const iterate = remote ? (input: IterationInput) => remote.iterate(input) : runIteration;
      iteration = await iterate({
        goal,
        number,
        positionInAttempt: next.position,
        notes: attempt.notes,
        lastCheck: lastCheck(goal),
        retryContext: retryContext(goal),
        conflictContext: this.conflict,
        answers: this.answersIn(attempt),
        canAsk: this.options.inbox !== undefined,
        workspace: next.workspace,
        provider: this.options.createProvider({
          api: providerSettings.api,
          apiKey: providerSettings.apiKey,
          baseURL: providerSettings.baseURL,
        }),
        model: providerSettings.model,
        ...(providerSettings.reasoningEffort ? { reasoningEffort: providerSettings.reasoningEffort } : {}),
        models: this.options.settings.models(),
        executor,
        ...(agent.kind === 'external' ? { agent } : {}),
        secrets: providerSettings.apiKey ? [providerSettings.apiKey] : [],
        stopSignal: this.stopController.signal,
        boundSignal: boundController.signal,
        journal: this.journal,
        onSpend: (spent) => {
          watch.update(spent);
          if (countSpend?.(spent.usage) && !boundController.signal.aborted) {
            this.budgetStopped = true;
            boundController.abort(new Error('the spend budget is used up'));
          }
        },
      });
    } catch (error) {
      watch.stop();
      return this.afterUnrecordedTry(error, number);
    }
    watch.stop();
    this.providerFailures = 0;
    this.rateLimitWaitMs = this.options.retry.rateLimitWaitMs;
    return iteration;
  }

  /** The questions asked in this attempt's iterations that have their answer. */
  private answersIn(attempt: Attempt): Question[] {
    const inbox = this.options.inbox;
    if (!inbox) return [];
    const numbers = new Set(iterationsOf(attempt).map((iteration) => iteration.number));
    return inbox
      .ofGoal(this.goalId)
      .filter((question) => question.answer && 'iteration' in question.from && numbers.has(question.from.iteration));
  }

  /**
   * The agent asked a person: the question is filed in the inbox, then the goal waits (`ask`). Its
   * worktree stays; the answer puts it back in the queue. The run ends either way.
   */
  private async waitForAnswer(asked: NonNullable<IterationRecord['asked']>, iteration: number): Promise<false> {
    const inbox = this.options.inbox;
    if (!inbox) return this.endWith(this.fail('the agent asked a question, but no inbox takes questions here'));
    let question: Question;
    try {
      question = await inbox.ask({
        from: { goalId: this.goalId, iteration },
        question: asked.question,
        ...(asked.options ? { options: asked.options } : {}),
      });
    } catch (error) {
      return this.endWith(this.fail(`the agent's question could not be filed: ${(error as Error).message}`));
    }
    await this.journal.write('decision', `waiting for an answer to question ${question.id}: ${clip(oneLine(question.question), 300)}`, {
      iteration,
      questionId: question.id,
    });
    await this.transition('ask', clip(oneLine(question.question), 500));
    return false;
  }

  /** A try that left no record: counted, then tried again when that may help, else the run ends. */
  private async afterUnrecordedTry(error: unknown, number: number): Promise<'again' | 'end'> {
    if (!(error instanceof IterationError)) {
      if (this.stopRequest) await this.finishStopped();
      else await this.fail(`the harness failed in iteration ${number}: ${(error as Error).message}`);
      return 'end';
    }
    if (!(await this.countUnrecorded(error.spend))) return 'end';
    if (error.stopped || this.stopRequest) {
      await this.finishStopped();
      return 'end';
    }
    return (await this.tryAgainAfter(error, number)) ? 'again' : 'end';
  }

  /** Records the iteration and its note on the goal, then decides; false when the run has ended. */
  private async recordIteration(iteration: IterationRecord, attempt: number, bounds: Bounds): Promise<boolean> {
    const note = iterationNote(iteration);
    const updated = await this.record({ attempt, iteration, note, usage: iteration.usage });
    if (!updated) return false;
    await this.journal.write('note', note, { iteration: iteration.number });
    return this.goOnAfter(iteration, updated, bounds);
  }

  /** Waits for the step that ends the run (a stop, a failure): false, the run has ended. */
  private async endWith(ending: Promise<void>): Promise<false> {
    await ending;
    return false;
  }

  /** A try that left no record still spent time and tokens: they count against the bounds and on the goal's usage. */
  private async countUnrecorded(spend: IterationSpend): Promise<boolean> {
    this.unrecorded = {
      activeMs: this.unrecorded.activeMs + Math.max(0, spend.durationMs - spend.waitedMs),
      usage: addUsage(this.unrecorded.usage, spend.usage),
    };
    return spend.usage.calls === 0 || (await this.record({ usage: spend.usage })) !== false;
  }

  /**
   * After a try whose model call failed: waits when trying again may help. True: run the iteration
   * again; false: the goal is stuck.
   */
  private async tryAgainAfter(error: IterationError, number: number): Promise<boolean> {
    if (error.cause instanceof AgentStartError) {
      // Not installed, not executable: trying again changes nothing until someone acts.
      await this.fail(error.cause.message);
      return false;
    }
    if (error.cause instanceof ExternalAgentError) return this.afterExternalAgentError(error.cause, number);
    const failure = error.cause instanceof ProviderError ? error.cause : null;
    if (!failure) {
      await this.fail(`iteration ${number} failed: ${error.message}`);
      return false;
    }
    switch (failure.kind) {
      case 'rate-limit': {
        if (await this.holdForLimit(failure.quota ? 'quota' : 'rate-limit', failure.message, failure.retryAfterSeconds, number)) {
          return true;
        }
        const waitMs = this.rateLimitWaitMs;
        this.rateLimitWaitMs = Math.min(waitMs * 2, RATE_LIMIT_WAIT_MAX_MS);
        await this.journal.write(
          'warning',
          `still rate limited after the provider's retries: waiting ${Math.round(waitMs / 1000)} s, then iteration ${number} starts again (not counted)`,
        );
        await this.pause(waitMs);
        return true;
      }
      case 'server':
      case 'network':
      case 'stream-cut':
      case 'aborted':
        this.providerFailures++;
        if (this.providerFailures >= this.options.retry.providerFailureLimit) {
          await this.fail(`the model provider failed ${this.providerFailures} times in a row: ${failure.message}`);
          return false;
        }
        await this.journal.write('warning', `the model call failed (${failure.message}): iteration ${number} starts again`);
        await this.pause(this.options.retry.providerRetryMs);
        return true;
      default:
        // not-configured, auth, bad-request: trying again changes nothing until someone acts.
        await this.fail(failure.message);
        return false;
    }
  }

  /**
   * An external agent that could not work: not logged in ends the goal stuck (someone must log in);
   * out of quota or rate limited waits like a rate-limited provider (the CLI's wait when it says
   * one), then the iteration starts again, not counted.
   */
  private async afterExternalAgentError(failure: ExternalAgentError, number: number): Promise<boolean> {
    if (failure.kind === 'auth') {
      await this.fail(failure.message);
      return false;
    }
    if (await this.holdForLimit(failure.kind === 'quota' ? 'quota' : 'rate-limit', failure.message, failure.retryAfterSeconds, number)) {
      return true;
    }
    const waitMs = failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : this.rateLimitWaitMs;
    if (failure.retryAfterSeconds === undefined) this.rateLimitWaitMs = Math.min(waitMs * 2, RATE_LIMIT_WAIT_MAX_MS);
    const why = failure.kind === 'quota' ? 'out of quota' : 'rate limited';
    await this.journal.write(
      'warning',
      `the agent is ${why}: waiting ${Math.round(waitMs / 1000)} s, then iteration ${number} starts again (not counted)`,
    );
    await this.pause(waitMs);
    return true;
  }

  /**
   * A used-up quota, or a rate limit whose reset is further off than `budget.rateLimitPauseSeconds`:
   * the whole pipeline is held until the reset the provider gave (else `limitHoldMs`), and the
   * iteration starts again once it goes on, not counted. False: a wait this goal takes alone.
   */
  private async holdForLimit(
    reason: 'quota' | 'rate-limit',
    message: string,
    retryAfterSeconds: number | undefined,
    number: number,
  ): Promise<boolean> {
    const hold = this.options.hold;
    if (!hold) return false;
    const thresholdSeconds = this.options.settings.budget?.().rateLimitPauseSeconds ?? 60;
    if (reason === 'rate-limit' && (retryAfterSeconds === undefined || retryAfterSeconds <= thresholdSeconds)) return false;
    const now = this.options.now?.() ?? new Date();
    const waitMs = retryAfterSeconds === undefined ? this.options.retry.limitHoldMs : retryAfterSeconds * 1000;
    const until = new Date(now.getTime() + waitMs);
    await this.journal.write(
      'warning',
      `${message}: the pipeline is held until ${until.toISOString()}, then iteration ${number} starts again (not counted)`,
    );
    hold(reason, message, until);
    return true;
  }

  /** The decision after a recorded iteration: done, stuck (a bound, a stall), or on to the next one (true). */
  private async goOnAfter(iteration: IterationRecord, goal: Goal, bounds: Bounds): Promise<boolean> {
    if (iteration.interrupted) {
      if (this.budgetStopped) {
        await this.journal.write('decision', "the daemon's spend budget is used up: the goal waits until the pipeline goes on");
        return true;
      }
      await this.fail(iteration.interrupted);
      return false;
    }
    if (iteration.asked) return this.waitForAnswer(iteration.asked, iteration.number);
    const markers =
      iteration.doneClaimed && goal.resolving && this.workspace ? await markersLeft(this.workspace, goal.resolving.files) : [];
    if (markers.length > 0) {
      await this.journal.write(
        'decision',
        `${saidDone(iteration)} but conflict markers are left in ${markers.join(', ')}: the next iteration goes on`,
      );
    } else if (iteration.doneClaimed) {
      if (iteration.check === null) {
        await this.journal.write(
          'warning',
          "no check is configured (executor.verify or RALPH_VERIFY): the goal is done on the agent's word",
        );
        await this.complete(iteration);
        return false;
      }
      if (iteration.check.ok) {
        await this.complete(iteration);
        return false;
      }
      await this.journal.write('decision', `${saidDone(iteration)} but the check failed: the next iteration gets its output`);
    } else if (iteration.check?.ok) {
      const notSaid = iteration.agent === 'ralph' ? 'did not call goal_done' : `did not say ${DONE_MARKER}`;
      await this.journal.write('decision', `the check passes but the agent ${notSaid}: the next iteration goes on`);
    }
    const attempt = openAttempt(goal);
    const stall = attempt
      ? (resolutionBoundReached(goal, iterationsOf(attempt).length) ?? stallDetected(iterationsOf(attempt), bounds))
      : null;
    if (stall) {
      await this.fail(stall);
      return false;
    }
    return true;
  }

  /** Records on the goal; false when the goal can no longer take it (removed, its file broken): the run ends. */
  private async record(record: Parameters<GoalStore['recordExecution']>[1]): Promise<Goal | false> {
    try {
      return await this.store.recordExecution(this.goalId, record);
    } catch (error) {
      this.options.log(`goal #${this.goalId}: could not record its progress: ${(error as Error).message}`);
      return false;
    }
  }

  private async complete(iteration: IterationRecord): Promise<void> {
    await this.journal.write('decision', `done: ${saidDone(iteration)} and the check passes`);
    await this.transition('complete', iteration.summary);
  }

  private async fail(reason: string): Promise<void> {
    await this.journal.write('decision', `stuck: ${reason}`);
    await this.undoResolution();
    await this.transition('fail', reason);
  }

  /** A resolution that fails or is cancelled leaves nothing of itself: the branch goes back to the goal's own head. */
  private async undoResolution(): Promise<void> {
    const resolving = this.resolving;
    if (!resolving || !this.workspace) return;
    try {
      await restoreBranch(this.workspace, resolving);
      await this.journal.write('decision', `the branch is put back as it was before the resolution (${resolving.goalHead.slice(0, 7)})`);
    } catch (error) {
      await this.journal.write('warning', `could not put the branch back to ${resolving.goalHead}: ${(error as Error).message}`);
    }
  }

  /** A transition the goal may no longer allow (cancelled meanwhile): the newer state stands. */
  private async transition(action: 'complete' | 'fail' | 'recover' | 'ask', note: string): Promise<void> {
    try {
      await this.store.transition(this.goalId, action, { note });
    } catch (error) {
      const expected = error instanceof InvalidTransitionError || error instanceof NotFoundError;
      if (!expected) this.options.log(`goal #${this.goalId}: could not ${action}: ${(error as Error).message}`);
    }
  }

  private async finishStopped(request: StopRequest | null = this.stopRequest): Promise<void> {
    const why = request ?? { kind: 'lost', reason: 'stopped' };
    await this.journal.write('decision', `stopped: ${why.reason}`);
    if (why.kind === 'cancel') await this.undoResolution();
    // The goal's state already says why (paused, cancelled, …); only a stopping daemon must put it back in the queue.
    if (why.kind === 'shutdown') await this.transition('recover', SHUTDOWN_NOTE);
  }

  /** Resolves when the run is asked to stop. */
  private stopped(): Promise<void> {
    const signal = this.stopController.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Waits, unless the run is stopped first. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopController.signal }).catch(() => undefined);
  }
}

/** Why a conflict-resolution run ends stuck after `iterations` of its own; null when it may go on (or resolves nothing). */
function resolutionBoundReached(goal: Goal, iterations: number): string | null {
  if (!goal.resolving || iterations < RESOLUTION_MAX_ITERATIONS) return null;
  return `the landing conflict with ${goal.resolving.branch} was not resolved within ${RESOLUTION_MAX_ITERATIONS} iterations`;
}

/** How the iteration's agent said the goal is done, for the decisions in the log. */
function saidDone(iteration: IterationRecord): string {
  return iteration.agent === 'ralph' ? 'goal_done was called' : `${iteration.agent} said ${DONE_MARKER}`;
}
