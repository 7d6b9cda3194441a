/**
 * The agent's turn of an iteration when the goal's agent is an external CLI (Claude Code, Codex,
 * any command): one headless run of it in the worktree (daemon/agent/external/external-run.ts),
 * its events turned into the goal's log entries as they come, the same kinds Ralph's own agent
 * writes, so every client shows the iteration the same way:
 *
 * - `text` → a `model` entry (clipped); `tool.start` → the progress bar's message; `tool.end` → a
 *   `tool` entry with its one-line summary and whether it succeeded; `usage` → a `model` entry, its
 *   tokens and cost added to the iteration's spend (the bounds watch it); `error` and output that
 *   does not parse (`raw`) → `warning` entries.
 * - Done: a line `RALPH_GOAL_DONE: <summary>` in the final message (the result's text, else the
 *   words after its last tool call). The harness then commits and runs the check, as for goal_done.
 * - An auth, quota or rate-limit error the run did not recover from ends the turn with
 *   ExternalAgentError: the caller waits or stops the goal, and the iteration is not counted.
 */
import { addCallUsage, addCost, emptyCallUsage, type CallUsage, type Usage } from '../../protocol/index.ts';
import { ASK_MARKER, DONE_MARKER, type ExternalErrorKind, type ExternalEvent } from '../agent/external/backend.ts';
import { runExternalAgent, type ExternalAgent, type ExternalRunResult } from '../agent/external/external-run.ts';
import type { ModelTable } from '../llm/models.ts';
import type { EnvironmentRules } from '../secrets/environment.ts';
import { clip, tail } from '../tools/tool.ts';
import { describeModelCall, type Journal } from './journal.ts';

/** What of the agent's words one log entry keeps. */
const TEXT_ENTRY_CHARS = 2000;
const TOOL_OUTPUT_CHARS = 2000;
const RAW_LINE_CHARS = 500;
/** The final message is at most this many of its last lines (a `text` CLI prints everything as words). */
const FINAL_MESSAGE_LINES = 40;

/** The run could not do its work for a reason trying at once will not fix: not an iteration. */
export class ExternalAgentError extends Error {
  readonly kind: Exclude<ExternalErrorKind, 'other'>;
  readonly retryAfterSeconds: number | undefined;
  constructor(kind: Exclude<ExternalErrorKind, 'other'>, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ExternalAgentError';
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface ExternalTurnInput {
  agent: ExternalAgent;
  prompt: string;
  workspacePath: string;
  ralphDir: string;
  goalId: number;
  iteration: number;
  /** The iteration's progress unit. */
  token: string;
  /** The progress bar's total: tool calls fill it up to one short of it (the commit and check do the rest). */
  progressTotal: number;
  journal: Journal;
  secrets: readonly string[];
  envRules: EnvironmentRules;
  timeoutMs: number;
  stopSignal: AbortSignal;
  boundSignal: AbortSignal;
  models: Pick<ModelTable, 'cost'>;
  onSpend?: (spend: { usage: Usage; waitedMs: number }) => void;
  /** Once the agent has started (runExternalAgent's onStarted). */
  onStarted?: () => void;
}

export interface ExternalTurnResult {
  ended: ExternalRunResult['ended'];
  /** The final message, the done marker's line left out. */
  text: string;
  /** The done marker's summary when the agent claimed done (the final message when the line has none). */
  claimed: string | null;
  /** The question of its ask marker's line (`RALPH_ASK_HUMAN: …`), when it asked the developer something. */
  asked: string | null;
}

/** One external agent's turn: run it, log what it does, add up what it spends. */
export class ExternalTurn {
  private readonly input: ExternalTurnInput;
  private usage: CallUsage = emptyCallUsage();
  private costUsd: number | null = 0;
  private calls = 0;
  private tools = 0;
  /** Tool calls begun and not yet ended. */
  private openTools = 0;
  /** The words since its last tool call: its final message unless a result says otherwise. */
  private lastWords: string[] = [];
  private result: Extract<ExternalEvent, { type: 'result' }> | null = null;
  /** An auth, quota or rate-limit error not followed by a successful result. */
  private blocking: ExternalAgentError | null = null;

  constructor(input: ExternalTurnInput) {
    this.input = input;
  }

  /** What the turn spent so far, as a goal records it. */
  spend(): Usage {
    const { inputTokens, cachedInputTokens, outputTokens } = this.usage;
    return { inputTokens, cachedInputTokens, outputTokens, calls: this.calls, costUsd: this.costUsd };
  }

  /** Runs the agent to its end. Throws AgentStartError (it could not start) or ExternalAgentError. */
  async run(): Promise<ExternalTurnResult> {
    const { input } = this;
    const { journal } = input;
    const run = await runExternalAgent({
      agent: input.agent,
      prompt: input.prompt,
      cwd: input.workspacePath,
      ralphDir: input.ralphDir,
      goalId: input.goalId,
      iteration: input.iteration,
      secrets: input.secrets,
      envRules: input.envRules,
      redact: journal.secrets.redactValue,
      timeoutMs: input.timeoutMs,
      stopSignal: input.stopSignal,
      boundSignal: input.boundSignal,
      onEvent: (event) => this.onEvent(event),
      ...(input.onStarted ? { onStarted: input.onStarted } : {}),
    });
    if (run.ended === 'stopped' || run.ended === 'bound') return { ended: run.ended, ...this.finalMessage() };
    if (this.blocking) throw this.blocking;
    await this.noteEnd(run);
    const final = this.finalMessage();
    // No words at all from a run that failed: its error is the note the next iteration reads.
    if (final.text === '' && final.claimed === null && run.ended === 'exited' && run.exitCode !== 0) {
      const stderr = lastLines(run.stderr, 1);
      const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
      final.text = `(${input.agent.backend.displayName} ${how}${stderr ? `: ${clip(stderr, 300)}` : ''})`;
    }
    return { ended: run.ended, ...final };
  }

  private async onEvent(event: ExternalEvent): Promise<void> {
    const { journal, iteration } = this.input;
    const agent = this.input.agent.backend.name;
    switch (event.type) {
      case 'text':
        this.lastWords.push(event.text);
        if (this.lastWords.length > FINAL_MESSAGE_LINES) this.lastWords.shift();
        await journal.write('model', clip(event.text.trim(), TEXT_ENTRY_CHARS), { iteration, agent });
        return;
      case 'tool.start':
        this.openTools++;
        this.toolBegan(event.summary || event.name);
        return;
      case 'tool.end': {
        // Some CLIs report a tool call only once it has ended: it moves the progress bar then.
        if (this.openTools > 0) this.openTools--;
        else this.toolBegan(event.summary || event.name);
        const extra: Record<string, unknown> = { iteration, agent, tool: event.name, ok: event.ok };
        if (event.output) extra.output = tail(event.output, TOOL_OUTPUT_CHARS);
        await journal.write('tool', clip(`${event.summary || event.name}${event.ok ? '' : ': failed'}`, 300), extra);
        return;
      }
      case 'usage':
        await this.count(event.model, event.usage, event.costUsd);
        return;
      case 'result':
        this.result = event;
        if (event.ok) this.blocking = null;
        await this.takeTotals(event);
        return;
      case 'error': {
        const { displayName, auth } = this.input.agent.backend;
        const message =
          event.kind === 'auth'
            ? `${displayName} is not logged in: ${auth} (it said: ${event.message})`
            : `${displayName}: ${event.message}`;
        if (event.kind !== 'other') this.blocking = new ExternalAgentError(event.kind, message, event.retryAfterSeconds);
        await journal.write('warning', clip(message, 1000), {
          iteration,
          agent,
          error: event.kind,
        });
        return;
      }
      case 'raw':
        if (event.line.trim() === '') return;
        await journal.write('warning', `output Ralph could not read: ${clip(event.line, RAW_LINE_CHARS)}`, { iteration, agent, raw: true });
        return;
    }
  }

  /** A tool call: the progress bar moves and says it; the words before it were not the final message. */
  private toolBegan(summary: string): void {
    this.lastWords = [];
    this.tools++;
    this.input.journal.progressReport({
      token: this.input.token,
      done: Math.min(this.tools, this.input.progressTotal - 1),
      message: clip(summary, 100),
    });
  }

  /** One model call (or turn) the CLI reported: logged, added up, shown, and handed to the bounds' watch. */
  private async count(model: string | null, usage: CallUsage, reported: number | null): Promise<void> {
    const { journal, iteration, models } = this.input;
    const costUsd = reported ?? (model ? models.cost(model, usage) : null);
    this.usage = addCallUsage(this.usage, usage);
    this.costUsd = addCost(this.costUsd, costUsd);
    this.calls++;
    const name = model ?? this.input.agent.backend.displayName;
    await journal.write('model', describeModelCall(name, usage, costUsd), { iteration, model: name, usage, costUsd });
    this.reportSpend();
  }

  /** Totals the CLI reports at its end replace the sum of what it reported before (some report totals only). */
  private async takeTotals(result: Extract<ExternalEvent, { type: 'result' }>): Promise<void> {
    if (result.usage === undefined && result.totalCostUsd === undefined) return;
    const before = this.spend();
    if (result.usage) this.usage = result.usage;
    if (result.totalCostUsd !== undefined) this.costUsd = result.totalCostUsd;
    this.calls = Math.max(this.calls, 1);
    const after = this.spend();
    const changed =
      after.inputTokens !== before.inputTokens || after.outputTokens !== before.outputTokens || after.costUsd !== before.costUsd;
    if (changed) {
      const name = result.model ?? this.input.agent.backend.displayName;
      await this.input.journal.write('model', `${describeModelCall(name, this.usage, this.costUsd)} in all`, {
        iteration: this.input.iteration,
        model: name,
        usage: this.usage,
        costUsd: this.costUsd,
        total: true,
      });
    }
    this.reportSpend();
  }

  private reportSpend(): void {
    const spend = this.spend();
    this.input.journal.progressReport({ token: this.input.token, tokens: spend.inputTokens + spend.outputTokens, costUsd: spend.costUsd });
    this.input.onSpend?.({ usage: spend, waitedMs: 0 });
  }

  /** A run that timed out, failed or exited with an error says so in the log (its work is still committed and checked). */
  private async noteEnd(run: ExternalRunResult): Promise<void> {
    const { journal, iteration } = this.input;
    const name = this.input.agent.backend.displayName;
    const agent = this.input.agent.backend.name;
    const stderr = lastLines(run.stderr, 5);
    if (run.ended === 'timed-out') {
      await journal.write(
        'warning',
        `${name} was stopped after ${Math.round(run.durationMs / 60_000)} min (executor.agentTimeoutMinutes): its work so far is committed and checked`,
        { iteration, agent, timedOut: true },
      );
    } else if (run.exitCode !== 0 || this.result?.ok === false) {
      const how = run.signal
        ? `was killed by ${run.signal}`
        : run.exitCode !== 0
          ? `exited with code ${run.exitCode}`
          : 'reported a failure';
      await journal.write('warning', `${name} ${how}${stderr ? `: ${clip(stderr, 1000)}` : ''}`, {
        iteration,
        agent,
        exitCode: run.exitCode,
        stderr: tail(run.stderr, TOOL_OUTPUT_CHARS),
      });
    }
  }

  /** The final message, and the done and ask markers in it. */
  private finalMessage(): { text: string; claimed: string | null; asked: string | null } {
    const text = this.result?.text.trim() ? this.result.text : this.lastWords.join('\n');
    const { text: rest, asked } = findAskMarker(text);
    return { ...findDoneMarker(rest), asked };
  }
}

/**
 * The done marker in a final message: its last line that starts with `RALPH_GOAL_DONE` (markdown
 * emphasis, a quote or a list dash before it allowed). The summary is what follows it on the
 * line, else the rest of the message.
 */
export function findDoneMarker(message: string): { text: string; claimed: string | null } {
  const lines = message.split('\n');
  const pattern = new RegExp(`^[\\s>*_\`-]*${DONE_MARKER}[*_\`]*(?:\\s*:\\s*|\\s+|$)(.*)$`);
  for (let index = lines.length - 1; index >= 0; index--) {
    const match = pattern.exec(lines[index]!);
    if (!match) continue;
    const rest = [...lines.slice(0, index), ...lines.slice(index + 1)].join('\n').trim();
    const summary = match[1]!.replace(/[*_`]+$/, '').trim();
    return { text: rest, claimed: summary || rest || 'the agent said the goal is done' };
  }
  return { text: message.trim(), claimed: null };
}

/** The ask marker in a final message: its last line `RALPH_ASK_HUMAN: <question>` (a marker without a question is no ask). */
export function findAskMarker(message: string): { text: string; asked: string | null } {
  const lines = message.split('\n');
  const pattern = new RegExp(`^[\\s>*_\`-]*${ASK_MARKER}[*_\`]*\\s*:?\\s*(.*)$`);
  for (let index = lines.length - 1; index >= 0; index--) {
    const match = pattern.exec(lines[index]!);
    const question = (match?.[1] ?? '').replace(/[*_`]+$/, '').trim();
    if (!question) continue;
    return { text: [...lines.slice(0, index), ...lines.slice(index + 1)].join('\n'), asked: question };
  }
  return { text: message, asked: null };
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n').trim();
}
