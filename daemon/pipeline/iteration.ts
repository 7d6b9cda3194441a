/**
 * One iteration of the Ralph loop: a fresh agent context (the goal, the progress notes, the last
 * check's output, the retry context) takes ONE step in the goal's worktree and stops. Then the
 * harness kills whatever the agent started, commits the iteration's changes, and runs the check.
 * The result is the `Iteration` record; deciding what comes next is the caller's (goal-run.ts).
 *
 * Two signals stop an iteration early:
 * - `stopSignal` (pause, cancel, daemon stopping): everything stops at once, nothing is committed
 *   or recorded, and `runIteration` rejects; uncommitted changes stay in the worktree for the
 *   iteration's next run (which keeps its number).
 * - `boundSignal` (a time, cost or token bound hit mid-iteration): the agent stops, its work so far
 *   is committed, the check is skipped, and the iteration comes back `interrupted` with the reason.
 *
 * An agent that asks a person (ask_human, where the goal can wait) ends its turn with the question:
 * its work is committed, the check is skipped (the answer will change the work), and the record
 * carries the question for the caller to file. The next iteration's prompt carries the answer.
 *
 * The agent is Ralph's own (runAgent, its tools) or an external CLI the goal or config chose
 * (external-iteration.ts); everything around it (the commit, the check, the record) is the same.
 */
import {
  formatSeconds,
  QUESTION_MAX,
  WAIT_REASONS,
  type CheckResult,
  type Goal,
  type Iteration,
  type Question,
  type Usage,
} from '../../protocol/index.ts';
import { runAgent, type CutReason } from '../agent/agent-loop.ts';
import { AgentRun, type AgentRunHooks } from '../agent/agent-run.ts';
import type { ExternalAgent } from '../agent/external/external-run.ts';
import { ASK_MARKER, DONE_MARKER } from '../agent/external/backend.ts';
import type { RalphConfig } from '../config/schema.ts';
import type { ModelTable } from '../llm/models.ts';
import type { Provider, ReasoningEffort, ToolCall } from '../llm/types.ts';
import type { CommandRunner, ToolResult } from '../tools/index.ts';
import { clip, tail } from '../tools/tool.ts';
import { SANDBOX_OFF_REASON, describeSandbox, type SandboxState } from '../tools/sandbox.ts';
import { redactChangedFiles } from '../secrets/workspace-files.ts';
import { ralphPaths } from '../paths.ts';
import { recordsFolder } from '../tools/process-records.ts';
import { runCheck, type CheckRun } from './check.ts';
import { ExternalTurn } from './external-iteration.ts';
import { ASK_HUMAN_TOOL, endsTurn, executorRunner, executorTools, GOAL_DONE_TOOL, type AskedQuestion } from './executor-tools.ts';
import { describeModelCall, iterationToken, type Journal } from './journal.ts';
import { condenseNotes, describeCheck } from './notes.ts';
import type { CommitPreparation, GoalWorkspace } from './workspace.ts';

type ExecutorConfig = RalphConfig['executor'];

/** A command's or the check's output as kept in the log. */
const LOG_OUTPUT_CHARS = 8000;
const SUMMARY_MAX_CHARS = 4000;

export interface IterationInput {
  /** The goal as it is when the iteration starts. */
  goal: Goal;
  /** Numbered across the goal's attempts (the commit trailer's number). */
  number: number;
  /** Its position in the current attempt, from 1 (for the prompt). */
  positionInAttempt: number;
  /** Progress notes of the current attempt so far. */
  notes: readonly string[];
  /** The most recent check, with the iteration that ran it. */
  lastCheck: { iteration: number; check: CheckResult } | null;
  /** How earlier attempts ended and what they did (a retried goal), or null. */
  retryContext: string | null;
  /** The landing conflict this run resolves (conflict-resolution.ts: its files, both sides, the target's new commits), or null. */
  conflictContext?: string | null;
  /** Questions the goal asked in this attempt that have their answer (the next prompts carry them). */
  answers?: readonly Question[];
  /** Whether the agent may ask a person (ask_human): the goal can wait for an answer. Default false. */
  canAsk?: boolean;
  workspace: GoalWorkspace;
  provider: Provider;
  model: string;
  reasoningEffort?: ReasoningEffort;
  models: Pick<ModelTable, 'cost'>;
  executor: ExecutorConfig;
  /** An agent CLI that takes the iteration's turn instead of Ralph's own agent; absent: Ralph's. */
  agent?: ExternalAgent;
  /** Values no command may see (the provider's key). */
  secrets: readonly string[];
  stopSignal: AbortSignal;
  boundSignal: AbortSignal;
  journal: Journal;
  /** After every model call and provider wait: the iteration's usage so far and the time spent waiting (the bounds are watched here). */
  onSpend?: (spend: { usage: Usage; waitedMs: number }) => void;
}

/** The record of one iteration, with what the harness needs besides the protocol's fields. */
export type IterationRecord = Iteration & {
  /** The agent that took the iteration's turn: `ralph`, or an external backend's name (`claude`, `command` …). */
  agent: string;
  model: string;
  durationMs: number;
  /** Time spent waiting on the provider (rate limits): not counted against the time bound. */
  waitedMs: number;
  /**
   * Why the agent stopped: it answered, called goal_done (an external agent: claimed done), spent its
   * step budget, or a bound stopped it; `timed-out`: an external agent ran out of executor.agentTimeoutMinutes.
   */
  stopReason: 'answered' | 'stopped-by-tool' | 'max-steps' | 'cut' | 'bound' | 'timed-out';
  /** Set when a bound stopped the iteration: the reason. */
  interrupted?: string;
  /** Set when the agent asked a person (ask_human): the question, for the caller to file; the goal waits. */
  asked?: AskedQuestion;
};

/** What an iteration that ended without a record had spent: it still counts. */
export interface IterationSpend {
  usage: Usage;
  waitedMs: number;
  durationMs: number;
}

/**
 * An iteration that ended without a record: `stopped` (the stop signal: pause, cancel, shutdown) or
 * not (the model call failed; the caller decides whether to try again). Carries what it spent.
 */
export class IterationError extends Error {
  readonly stopped: boolean;
  readonly spend: IterationSpend;
  constructor(message: string, options: { stopped: boolean; spend: IterationSpend; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'IterationError';
    this.stopped = options.stopped;
    this.spend = options.spend;
  }
}

export const EXECUTOR_INSTRUCTIONS = [
  "You are the executor of Ralph, working on one goal in a git worktree of the developer's repository: your workspace.",
  'Every path is relative to it. Each iteration starts with a fresh context: you know only what this message says (the goal,',
  "notes from earlier iterations, the last check's output) and what you find in the files.",
  '',
  'Take ONE step toward the goal, then stop: make one coherent change (or find out one thing the next step needs), try it',
  'where you can with run_command, and end with a short summary of what you did and what should come next. That summary is',
  'the note the next iteration reads.',
  "Call goal_done {summary} only when the goal's acceptance is met. The harness then runs the check; the goal is done only",
  'if it passes, otherwise the next iteration sees its output.',
  '',
  'The harness owns git: it commits your changes after every iteration. Do not commit, push, reset, stash or switch',
  'branches (such commands are refused). Commands have no input and a timeout; do not leave servers or watchers running:',
  'every process you start is killed when the iteration ends.',
].join('\n');

/**
 * What an external agent (a CLI with its own tools) is told before the iteration's prompt: the
 * same loop, with the done marker instead of the goal_done tool, and the harness's git rules.
 */
export const EXTERNAL_AGENT_INSTRUCTIONS = [
  "You are the executor of Ralph, working on one goal in a git worktree of the developer's repository: your working folder.",
  "Each iteration starts with a fresh context: you know only what this message says (the goal, notes from earlier iterations, the last check's output) and what you find in the files.",
  '',
  'Take ONE step toward the goal, then stop: make one coherent change (or find out one thing the next step needs), try it where you can,',
  'and end with a short summary of what you did and what should come next. That summary is the note the next iteration reads.',
  "Only when the goal's acceptance is met, end your final message with a line of its own:",
  `${DONE_MARKER}: <one-line summary>`,
  'Ralph then runs the check; the goal is done only if it passes, otherwise the next iteration sees its output.',
  '',
  'Ralph owns git: it commits your changes after every iteration (you need not commit). Never push, and do not switch',
  'branches, reset, rebase or stash. Do not leave servers or watchers running: everything you start is killed when the iteration ends.',
].join('\n');

/** How the agent says it is done, as the prompt's last line says it. */
const GOAL_DONE_RULE = "Call goal_done {summary} only when the goal's acceptance is met.";
const DONE_MARKER_RULE = `End your final message with the line \`${DONE_MARKER}: <summary>\` only when the goal's acceptance is met.`;
/** How an external agent may ask the developer, where the goal can wait for an answer. */
const ASK_MARKER_RULE =
  `If only the developer can settle something you need (a decision, a preference, something the goal does not say), end your final message ` +
  `with the line \`${ASK_MARKER}: <the question, on one line>\` and stop: the goal waits for the answer, and the next iteration reads it.`;

/** The one user message of an iteration (an external agent's has its instructions first and says done with the marker). */
export function iterationPrompt(
  input: Pick<
    IterationInput,
    'goal' | 'number' | 'positionInAttempt' | 'notes' | 'lastCheck' | 'retryContext' | 'conflictContext' | 'answers' | 'canAsk'
  > & {
    verify: string | null;
    external?: boolean;
  },
): string {
  const { goal } = input;
  const sections: string[] = [`# Goal #${goal.id}: ${goal.title}`, goal.spec.trim() || '(no spec)'];
  const notes = condenseNotes(input.notes);
  sections.push(`## Progress notes from earlier iterations\n\n${notes || 'None: this is the first iteration of this attempt.'}`);
  if (input.lastCheck) {
    const { iteration, check } = input.lastCheck;
    const output = check.output.trim() === '' ? '(no output)' : check.output.trimEnd();
    sections.push(
      `## The last check\n\n\`${check.command}\` after iteration ${iteration}: ${describeCheck(check)}. The end of its output:\n\n\`\`\`\n${output}\n\`\`\``,
    );
  }
  const answers = describeAnswers(input.answers ?? []);
  if (answers) sections.push(answers);
  if (input.conflictContext) sections.push(input.conflictContext);
  if (input.retryContext) {
    // A conflict resolution follows an attempt that ended done: it was not retried, it is carried on.
    const intro = input.conflictContext
      ? 'What the earlier attempts did'
      : 'This goal was tried before and retried. What those attempts did';
    sections.push(`## Earlier attempts\n\n${intro}:\n\n${input.retryContext}`);
  }
  const check = input.verify ? `The check is \`${input.verify}\`, run in the workspace.` : 'No check command is configured.';
  sections.push(
    `## This iteration\n\nIteration ${input.number} (the ${ordinal(input.positionInAttempt)} of this attempt). ${check}\n` +
      `Take ONE step toward the goal, then stop. ${input.external ? DONE_MARKER_RULE : GOAL_DONE_RULE}` +
      (input.external && input.canAsk ? `\n${ASK_MARKER_RULE}` : ''),
  );
  if (input.external) sections.unshift(EXTERNAL_AGENT_INSTRUCTIONS);
  return sections.join('\n\n');
}

/** Runs one iteration to its record. Rejects with IterationError when stopped or when the model call failed. */
export function runIteration(input: IterationInput): Promise<IterationRecord> {
  return new IterationRun(input).run();
}

/** How the agent's part of an iteration ended. */
interface AgentOutcome {
  text: string;
  stopReason: IterationRecord['stopReason'];
  /** Set when a bound stopped the agent: the reason. */
  interrupted?: string;
}

/** One iteration's run: the agent's turn, then the commit and the check, then the record. */
class IterationRun {
  private readonly input: IterationInput;
  private readonly journal: Journal;
  private readonly token: string;
  private readonly startedAt = new Date();
  private readonly started = performance.now();
  /** Values no command may see: the provider's key and the daemon's secrets. */
  private readonly commandSecrets: string[];
  private readonly runner: CommandRunner;
  /** What the agent's model calls used and cost, and the time spent waiting on the provider. */
  private readonly spent: AgentRun;
  /** The summary goal_done was called with, if it was. */
  private claimedSummary: string | null = null;
  /** What the agent asked a person with ask_human, if it did. */
  private asked: AskedQuestion | null = null;
  /** An external agent's turn, when it takes the iteration's (its spend is the iteration's). */
  private external: ExternalTurn | null = null;
  /** The worktree's HEAD before an external agent's turn: it may commit itself. */
  private headBefore: string | null = null;
  /** What the commit needs from git, asked while an external agent works. */
  private commitPreparation: CommitPreparation | undefined;

  constructor(input: IterationInput) {
    this.input = input;
    this.journal = input.journal;
    this.token = iterationToken(input.goal.id, input.number);
    // The daemon's secrets: kept from the commands, redacted from what the agent reads and from the commit.
    const secrets = input.journal.secrets;
    this.commandSecrets = [...input.secrets, ...secrets.values()];
    this.runner = executorRunner(input.executor.commands, this.commandSecrets, secrets.envRules(), {
      folder: recordsFolder(ralphPaths(input.workspace.repoRoot).dir, 'commands'),
      owner: `goal #${input.goal.id}`,
      what: "its agent's commands",
    });
    this.spent = new AgentRun(input.models);
  }

  async run(): Promise<IterationRecord> {
    const { input, journal, token } = this;
    journal.progressBegin({
      token,
      title: `Goal #${input.goal.id}: iteration ${input.number}`,
      total: input.executor.maxStepsPerIteration,
    });
    if (input.positionInAttempt === 1 && !input.agent) await noteSandbox(journal, this.runner, input.number);
    const outcome = input.agent ? await this.runExternal(input.agent) : await this.runAgent();
    // Nothing the agent started outlives its iteration.
    await this.runner.killAll();
    const summary = clip(
      journal.secrets.redact(
        summaryOf(this.claimedSummary ?? this.askedSummary(outcome.text), outcome.text, outcome.stopReason, outcome.interrupted),
      ),
      SUMMARY_MAX_CHARS,
    );
    // A question skips the check: the answer will change the work.
    const { commit, check } = await this.commitAndCheck(summary, outcome.interrupted, this.asked !== null);
    return this.record(summary, commit, check, outcome);
  }

  /** An iteration that asked and said nothing else: its note is the question. */
  private askedSummary(text: string): string | null {
    return this.asked && !text.trim() ? `Asked the developer: ${this.asked.question}` : null;
  }

  /** What the iteration spent so far (it counts even when the iteration leaves no record). */
  private spend(): IterationSpend {
    return { usage: this.usage(), waitedMs: this.spent.waitedMs, durationMs: performance.now() - this.started };
  }

  /** What the agent's model calls used and cost so far. */
  private usage(): Usage {
    return this.external ? this.external.spend() : this.spent.spend();
  }

  /**
   * An external agent's turn in the worktree, followed to its end. A bound or its timeout stops it
   * (its work so far still counts). Rejects with IterationError when stopped, when it could not
   * start, or when it could not work (not logged in, out of quota, rate limited).
   */
  private async runExternal(agent: ExternalAgent): Promise<AgentOutcome> {
    const { input, journal, token } = this;
    const turn = new ExternalTurn({
      agent,
      prompt: iterationPrompt({ ...input, verify: input.executor.verify, external: true }),
      workspacePath: input.workspace.path,
      ralphDir: ralphPaths(input.workspace.repoRoot).dir,
      goalId: input.goal.id,
      iteration: input.number,
      token,
      progressTotal: input.executor.maxStepsPerIteration,
      journal,
      secrets: this.commandSecrets,
      envRules: journal.secrets.envRules(),
      timeoutMs: input.executor.agentTimeoutMinutes * 60_000,
      stopSignal: input.stopSignal,
      boundSignal: input.boundSignal,
      models: input.models,
      ...(input.onSpend ? { onSpend: input.onSpend } : {}),
      // What the commit needs from git is asked while the agent works, once it has started (not competing with its start).
      onStarted: () => {
        if (this.headBefore) this.commitPreparation = input.workspace.prepareCommit(this.headBefore);
      },
    });
    this.external = turn;
    try {
      this.headBefore = await input.workspace.readHead();
      journal.progressReport({ token, done: 0, message: `${agent.backend.displayName} is working` });
      const result = await turn.run();
      if (result.ended === 'stopped' || input.stopSignal.aborted) throw this.stopped();
      if (result.ended === 'bound') return { text: result.text, stopReason: 'bound', interrupted: reasonOf(input.boundSignal) };
      this.claimedSummary = result.claimed;
      // A question (where the goal can wait) ends the turn like ask_human: the goal waits for the answer.
      if (result.asked && input.canAsk) this.asked = { question: clip(result.asked, QUESTION_MAX) };
      if (result.ended === 'timed-out') return { text: result.text, stopReason: 'timed-out' };
      return { text: result.text, stopReason: result.claimed === null ? 'answered' : 'stopped-by-tool' };
    } catch (error) {
      if (error instanceof IterationError) throw error;
      if (input.stopSignal.aborted) throw this.stopped(error);
      journal.progressEnd({ token, outcome: 'failed', message: (error as Error).message });
      throw new IterationError((error as Error).message, { stopped: false, spend: this.spend(), cause: error });
    }
  }

  /** The iteration stopped by the stop signal: its progress unit ends cancelled. */
  private stopped(cause?: unknown): IterationError {
    const { input, journal, token } = this;
    journal.progressEnd({ token, outcome: 'cancelled', message: reasonOf(input.stopSignal) });
    return new IterationError(`iteration ${input.number} stopped: ${reasonOf(input.stopSignal)}`, {
      stopped: true,
      spend: this.spend(),
      cause,
    });
  }

  /**
   * The agent's turn in the worktree, followed to its end; a bound stops it early (its work so far
   * still counts). Rejects with IterationError when stopped, or when a model call failed.
   */
  private async runAgent(): Promise<AgentOutcome> {
    const { input, journal, token } = this;
    const tools = executorTools(
      this.runner,
      (summary) => (this.claimedSummary = summary),
      input.canAsk ? (asked) => (this.asked = asked) : undefined,
    );
    try {
      const done = await this.spent.follow(
        runAgent({
          provider: input.provider,
          request: {
            model: input.model,
            instructions: EXECUTOR_INSTRUCTIONS,
            ...(input.reasoningEffort ? { reasoningEffort: input.reasoningEffort } : {}),
          },
          items: [{ role: 'user', content: iterationPrompt({ ...input, verify: input.executor.verify }) }],
          tools,
          toolContext: {
            root: input.workspace.path,
            onActivity: (what) => journal.progressReport({ token, message: what }),
            // Its own worktree: what git ignores there is the goal's build output (daemon.json is refused all the same).
            readIgnoredFiles: true,
          },
          maxSteps: input.executor.maxStepsPerIteration,
          signal: AbortSignal.any([input.stopSignal, input.boundSignal]),
          stopAfterTool: endsTurn,
          redact: journal.secrets.redact,
        }),
        this.agentHooks(),
      );
      return { text: done.text, stopReason: done.reason };
    } catch (error) {
      await this.runner.killAll();
      if (input.stopSignal.aborted) {
        journal.progressEnd({ token, outcome: 'cancelled', message: reasonOf(input.stopSignal) });
        throw new IterationError(`iteration ${input.number} stopped: ${reasonOf(input.stopSignal)}`, {
          stopped: true,
          spend: this.spend(),
          cause: error,
        });
      }
      if (!input.boundSignal.aborted) {
        journal.progressEnd({ token, outcome: 'failed', message: (error as Error).message });
        throw new IterationError((error as Error).message, { stopped: false, spend: this.spend(), cause: error });
      }
      return { text: '', stopReason: 'bound', interrupted: reasonOf(input.boundSignal) };
    }
  }

  /** What the agent does goes to the goal's log and progress bar; its spending to the bounds' watch. */
  private agentHooks(): AgentRunHooks {
    const { input, journal, token } = this;
    const iteration = input.number;
    return {
      step: ({ step }) => journal.progressReport({ token, done: step - 1, message: step === 1 ? 'thinking' : `step ${step}` }),
      usage: async ({ step, model, usage, costUsd }) => {
        await journal.write('model', describeModelCall(model, usage, costUsd), { iteration, step, model, usage, costUsd });
        const total = this.spent.spend();
        journal.progressReport({ token, tokens: total.inputTokens + total.outputTokens, costUsd: total.costUsd });
        input.onSpend?.({ usage: total, waitedMs: this.spent.waitedMs });
      },
      wait: async (event) => {
        const why = WAIT_REASONS[event.reason];
        journal.providerWait({ reason: event.reason, seconds: event.seconds, attempt: event.attempt });
        journal.progressReport({ token, message: `waiting ${Math.round(event.seconds)} s: ${why}` });
        await journal.write('model', `waiting ${formatSeconds(event.seconds)} before try ${event.attempt}: ${why}`, {
          iteration,
          wait: { reason: event.reason, seconds: event.seconds, attempt: event.attempt },
        });
        input.onSpend?.({ usage: this.spent.spend(), waitedMs: this.spent.waitedMs });
      },
      'tool.start': ({ call }) => journal.progressReport({ token, message: describeCall(call) }),
      'tool.end': ({ call, result }) => logToolCall(journal, iteration, call, result),
      cut: (event) => journal.write('warning', describeCut(event), { iteration, step: event.step, cut: event.reason }),
    };
  }

  /**
   * Commits what the iteration changed (secrets redacted first), then runs the check unless a bound
   * stopped the agent. A stop during the check rejects; so does git failing.
   */
  private async commitAndCheck(
    summary: string,
    interrupted: string | undefined,
    asked = false,
  ): Promise<{ commit: string | null; check: CheckRun | null }> {
    const { input, journal, token } = this;
    const { executor } = input;
    try {
      journal.progressReport({ token, done: executor.maxStepsPerIteration, message: 'committing' });
      const committing = this.commit(summary);
      // The check's sandbox and shell start while the commit is made; the check itself once it is made (never if it fails).
      const checking = executor.verify && !interrupted && !asked ? this.check(executor.verify, committing) : null;
      const [committed, checked] = await Promise.allSettled([committing, checking]);
      if (committed.status === 'rejected') throw committed.reason;
      if (checked.status === 'rejected') throw checked.reason;
      return { commit: committed.value, check: checked.value };
    } catch (error) {
      // A stop during the check, or git failing: the progress unit ends either way.
      const stopped = error instanceof IterationError && error.stopped;
      journal.progressEnd({
        token,
        outcome: stopped ? 'cancelled' : 'failed',
        message: stopped ? reasonOf(input.stopSignal) : (error as Error).message,
      });
      throw error;
    }
  }

  /** Commits what the iteration changed, secrets redacted first, and logs the commit. Resolves to its sha (null: nothing changed). */
  private async commit(summary: string): Promise<string | null> {
    const { input, journal } = this;
    const { number, workspace } = input;
    const { redacted, changes } = await redactChangedFiles(workspace.path, journal.secrets.redact);
    if (redacted.length > 0) {
      await journal.write('warning', `secrets redacted from ${redacted.join(', ')} before the commit`, {
        iteration: number,
        files: redacted,
      });
    }
    // An external agent may have committed itself: the harness's commit with the trailer still follows its commits.
    const made = await workspace.commitIterationFiles({
      iteration: number,
      summary,
      changes,
      ...(this.headBefore ? { headBefore: this.headBefore } : {}),
      ...(this.commitPreparation ? { prepared: this.commitPreparation } : {}),
    });
    const commit = made?.sha ?? null;
    await logCommit(journal, workspace, number, commit, made?.files ?? null);
    return commit;
  }

  /**
   * Runs the goal's check in the worktree once `committed` resolves and logs it (its sandbox and
   * shell start at once). Rejects as `committed` does (then the check does not run), and with
   * IterationError when stopped meanwhile.
   */
  private async check(verify: string, committed: Promise<unknown>): Promise<CheckRun> {
    const { input, journal, token } = this;
    const { number, workspace, executor } = input;
    const secrets = journal.secrets;
    const startWhen = committed.then(() => journal.progressReport({ token, message: `checking: ${verify}` }));
    startWhen.catch(() => {}); // awaited below, unless the check could not even be tried
    const check = secrets.redactValue(
      await runCheck(verify, workspace.path, {
        timeoutMs: executor.verifyTimeoutSeconds * 1000,
        outputLimitBytes: executor.commands.outputLimitBytes,
        sandbox: executor.commands.sandbox,
        secrets: this.commandSecrets,
        envRules: secrets.envRules(),
        signal: input.stopSignal,
        startWhen,
        record: {
          folder: recordsFolder(ralphPaths(workspace.repoRoot).dir, 'commands'),
          owner: `goal #${input.goal.id}`,
          what: 'its check',
        },
      }),
    );
    // The commit failed: the check did not run (the caller reports the commit's failure).
    await startWhen;
    if (input.stopSignal.aborted) {
      throw new IterationError(`iteration ${number} stopped during its check: ${reasonOf(input.stopSignal)}`, {
        stopped: true,
        spend: this.spend(),
      });
    }
    await journal.write('check', `${check.command}: ${describeCheck(check)} (${formatSeconds(check.durationMs / 1000)})`, {
      iteration: number,
      ok: check.ok,
      exitCode: check.exitCode,
      durationMs: check.durationMs,
      output: tail(check.fullOutput, LOG_OUTPUT_CHARS),
    });
    return check;
  }

  /** The iteration's record; its progress bar ends. */
  private record(summary: string, commit: string | null, check: CheckRun | null, outcome: AgentOutcome): IterationRecord {
    const { input, journal, token } = this;
    const { interrupted } = outcome;
    const record: IterationRecord = {
      number: input.number,
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      summary,
      commit,
      check: check && {
        command: check.command,
        ok: check.ok,
        exitCode: check.exitCode,
        output: check.output,
        durationMs: check.durationMs,
      },
      doneClaimed: this.claimedSummary !== null,
      usage: this.usage(),
      agent: input.agent?.backend.name ?? 'ralph',
      model: input.agent ? (input.agent.model ?? input.agent.backend.name) : input.model,
      durationMs: Math.round(performance.now() - this.started),
      waitedMs: Math.round(this.spent.waitedMs),
      stopReason: outcome.stopReason,
    };
    if (interrupted) record.interrupted = interrupted;
    if (this.asked) record.asked = this.asked;
    const outcomeOfUnit = interrupted ? 'failed' : 'done';
    journal.progressEnd({ token, outcome: outcomeOfUnit, message: interrupted ?? (check ? describeCheck(check) : 'no check') });
    return record;
  }
}

/**
 * Said in the goal's log at the start of each attempt when the agent's commands run without the
 * sandbox though the config did not turn it off (bwrap missing or not working here), or cannot run
 * at all (`bwrap` required and missing).
 */
async function noteSandbox(journal: Journal, runner: CommandRunner, iteration: number): Promise<void> {
  let state: SandboxState;
  try {
    state = await runner.sandboxState();
  } catch (error) {
    await journal.write('warning', (error as Error).message, { iteration, sandbox: false });
    return;
  }
  if (!state.active && state.reason !== SANDBOX_OFF_REASON)
    await journal.write('warning', describeSandbox(state), { iteration, sandbox: false });
}

/** The prompt's section with the questions asked in this attempt and their answers; empty when there are none. */
function describeAnswers(answers: readonly Question[]): string {
  const answered = answers.filter((question) => question.answer);
  if (answered.length === 0) return '';
  const one = answered.length === 1;
  const items = answered.map((question) => {
    const options = question.options?.length ? `\n(options you gave: ${question.options.join(' | ')})` : '';
    return `You asked (iteration ${'iteration' in question.from ? question.from.iteration : '?'}):\n${quote(question.question)}${options}\n\nThe developer answered:\n${quote(question.answer!.text)}`;
  });
  return `## ${one ? 'Your question and the answer' : 'Your questions and the answers'}\n\n${items.join('\n\n')}\n\nGo on with the goal in the light of ${one ? 'this answer' : 'these answers'}.`;
}

function quote(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

function summaryOf(
  claimed: string | null,
  text: string,
  stopReason: IterationRecord['stopReason'],
  interrupted: string | undefined,
): string {
  if (claimed) return claimed;
  // A cut answer is recorded as cut, never as a clean end.
  if (stopReason === 'cut' && text.trim()) return `(cut short) ${text.trim()}`;
  if (text.trim()) return text.trim();
  if (interrupted) return `(stopped before a summary: ${interrupted})`;
  if (stopReason === 'max-steps') return '(the step budget ran out before a summary)';
  if (stopReason === 'timed-out') return '(the agent ran out of time before a summary)';
  if (stopReason === 'cut') return '(the reply was cut short before a summary)';
  return '(no summary)';
}

/** The log line for a reply cut short. */
function describeCut({ reason, calls, continued }: { reason: CutReason; calls: number; continued: boolean }): string {
  const why =
    reason === 'length' ? 'the reply was cut at the output-token limit' : "the reply was stopped by the provider's content filter";
  if (calls > 0) return `${why}: its ${calls === 1 ? 'tool call was' : `${calls} tool calls were`} not run, the model is asked again`;
  return continued ? `${why}: the model continues it` : `${why}: the answer stays cut`;
}

async function logToolCall(journal: Journal, iteration: number, call: ToolCall, result: ToolResult): Promise<void> {
  const extra = { iteration, tool: call.name, arguments: summarizeArguments(call.arguments), ok: result.isError !== true };
  if (call.name === 'run_command') {
    await journal.write('command', result.summary, { ...extra, output: tail(result.output, LOG_OUTPUT_CHARS) });
  } else if (call.name === GOAL_DONE_TOOL || call.name === ASK_HUMAN_TOOL) {
    await journal.write('decision', result.summary, extra);
  } else {
    await journal.write('tool', result.summary, extra);
  }
}

/** The commit's log entry; `files` when the commit said them, else they are asked of git. */
async function logCommit(
  journal: Journal,
  workspace: GoalWorkspace,
  iteration: number,
  commit: string | null,
  files: readonly string[] | null,
): Promise<void> {
  if (commit === null) {
    await journal.write('commit', `iteration ${iteration} changed nothing: no commit`, { iteration, commit: null });
    return;
  }
  const names = files ?? (await workspace.diffStat().catch(() => [])).map((file) => file.path);
  const list = names.length === 0 ? '' : `: ${clip(names.join(', '), 200)}`;
  await journal.write(
    'commit',
    `committed ${commit.slice(0, 7)} on ${workspace.branch} (${names.length} ${names.length === 1 ? 'file' : 'files'})${list}`,
    {
      iteration,
      commit,
      files: names,
    },
  );
}

/** A call in a few words for a progress bar: `run_command npm test`. */
function describeCall(call: ToolCall): string {
  return clip(`${call.name} ${summarizeArguments(call.arguments)}`.trim(), 100);
}

/** The arguments as `key=value` pairs, long values (a file's content) replaced by their size. */
function summarizeArguments(raw: string): string {
  let parsed: unknown;
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return clip(raw, 120);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return clip(raw, 120);
  return Object.entries(parsed)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (text.length > 120 || text.includes('\n')) return `${key}=<${text.length} chars>`;
      return `${key}=${text}`;
    })
    .join(' ');
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'stopped';
}

function ordinal(n: number): string {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th'}`;
}
