/**
 * `ralph research "q1" "q2" …`: one research agent per question, in parallel, on the daemon. Progress
 * goes to stderr — one bar per agent, redrawn in place on a terminal; one plain line per change of an
 * agent's state otherwise — and the consolidated report to stdout (`--json`: the finished run).
 * Exit 0 when the run is done, 1 when it failed, 130 after Ctrl+C (which cancels the run).
 */
import { styleText } from 'node:util';
import type { RalphClient } from '../../protocol/client.ts';
import { describeWait, type EventEnvelope, type ResearchAgentStatus, type ResearchRun } from '../../protocol/index.ts';
import { INTERRUPTED_EXIT_CODE } from './chat-command.ts';
import type { CommandHandler } from './commands.ts';
import { CliError, UsageError } from './errors.ts';
import { print, printJson, truncate } from './output.ts';
import { withDaemon } from './session.ts';
import { oneLine } from '../terminal-text.ts';
import { followEvents, type FollowHandlers } from './follow-events.ts';

const MAX_QUESTIONS = 16;
/** After Ctrl+C, how long to wait for the daemon to confirm the cancellation before exiting anyway. */
const CANCEL_GRACE_MS = 5_000;

export const researchCommand: CommandHandler = async (context) => {
  const questions = context.args.map((question) => question.trim());
  if (questions.some((question) => question === '')) throw new UsageError('a question is empty', 'research');
  if (questions.length > MAX_QUESTIONS)
    throw new UsageError(`at most ${MAX_QUESTIONS} questions at once, got ${questions.length}`, 'research');
  const view = process.stderr.isTTY ? new TerminalView(process.stderr) : new LineView(process.stderr);
  return withDaemon(context, (client) => new ResearchFollower(client, view, context.json).run(questions));
};

// ---------------------------------------------------------------------------------------------
// Following a run

/** What a progress line shows of one agent. */
export interface AgentLine {
  id: string;
  question: string;
  status: ResearchAgentStatus;
  step: number;
  maxSteps: number;
  /** What it does now, or why it ended. */
  message?: string;
  tokens?: number;
  costUsd?: number | null;
}

/** Draws the agents' lines; told of every change, and once more at the end. */
export interface ProgressView {
  update(lines: readonly AgentLine[], changed: AgentLine): void;
  finish(lines: readonly AgentLine[]): void;
}

type Outcome = { run: ResearchRun } | { error: Error } | { exitNow: true };

/** Follows one run from research.start to its final research.updated, keeping the view up to date. */
class ResearchFollower {
  private readonly client: RalphClient;
  private readonly view: ProgressView;
  private readonly json: boolean;
  private runId: string | undefined;
  private readonly lines = new Map<string, AgentLine>();
  /** Events that came before research.start answered (the run id was not known yet). */
  private readonly early: EventEnvelope[] = [];
  private cancelledHere = false;
  private settle!: (outcome: Outcome) => void;
  private readonly ended = new Promise<Outcome>((resolve) => (this.settle = resolve));

  constructor(client: RalphClient, view: ProgressView, json: boolean) {
    this.client = client;
    this.view = view;
    this.json = json;
  }

  async run(questions: string[]): Promise<number> {
    const handlers: FollowHandlers = {
      event: (event) => (this.runId ? this.take(event) : this.early.push(event)),
      lost: () => this.settle({ error: new CliError('lost the connection to the daemon before the research ended') }),
      interrupt: () => this.interrupt(),
    };
    return followEvents(this.client, handlers, async () => {
      const { run } = await this.client.request('research.start', { questions, consolidate: true });
      this.runId = run.id;
      for (const agent of run.agents) {
        this.lines.set(agent.id, {
          id: agent.id,
          question: agent.question,
          status: agent.status,
          step: agent.step,
          maxSteps: agent.maxSteps,
        });
      }
      for (const line of this.lines.values()) this.view.update(this.allLines(), line);
      if (this.cancelledHere) this.requestCancel();
      for (const event of this.early.splice(0)) this.take(event);
      return this.finish(await this.ended);
    });
  }

  private take(event: EventEnvelope): void {
    switch (event.type) {
      case 'progress.report': {
        const line = this.lineOf(event.data.token);
        if (!line) return;
        const { done, message, tokens, costUsd } = event.data;
        if (done !== undefined) line.step = done;
        if (message !== undefined) line.message = message;
        if (tokens !== undefined) line.tokens = tokens;
        if (costUsd !== undefined) line.costUsd = costUsd;
        if ((done ?? 0) > 0) advance(line, 'running');
        this.view.update(this.allLines(), line);
        return;
      }
      case 'progress.end': {
        const line = this.lineOf(event.data.token);
        if (!line) return;
        advance(line, event.data.outcome);
        if (event.data.message !== undefined) line.message = event.data.message;
        else delete line.message;
        this.view.update(this.allLines(), line);
        return;
      }
      case 'provider.wait': {
        const agentId = event.data.scope.agent?.startsWith(`${this.runId}:`)
          ? event.data.scope.agent.slice(this.runId!.length + 1)
          : undefined;
        const line = agentId ? this.lines.get(agentId) : undefined;
        if (!line || event.data.seconds < 1) return;
        line.message = describeWait(event.data);
        this.view.update(this.allLines(), line);
        return;
      }
      case 'research.updated': {
        const { run } = event.data;
        if (run.id !== this.runId) return;
        for (const agent of run.agents) {
          const line = this.lines.get(agent.id);
          if (!line || !advance(line, agent.status)) continue;
          line.step = Math.max(line.step, agent.step);
          this.view.update(this.allLines(), line);
        }
        if (run.status !== 'running') this.settle({ run });
        return;
      }
      default:
        return;
    }
  }

  /** The line of an agent's progress token (`research:<runId>:<agentId>`) of this run. */
  private lineOf(token: string): AgentLine | undefined {
    const prefix = `research:${this.runId}:`;
    return token.startsWith(prefix) ? this.lines.get(token.slice(prefix.length)) : undefined;
  }

  private allLines(): AgentLine[] {
    return [...this.lines.values()];
  }

  /** Ctrl+C: cancel the run and exit once it has ended; a second Ctrl+C exits at once. */
  private interrupt(): void {
    if (this.cancelledHere) {
      this.settle({ exitNow: true });
      return;
    }
    this.cancelledHere = true;
    if (this.runId) this.requestCancel();
    setTimeout(() => this.settle({ exitNow: true }), CANCEL_GRACE_MS).unref();
  }

  private requestCancel(): void {
    this.client.request('research.cancel', { runId: this.runId! }).catch(() => this.settle({ exitNow: true }));
  }

  private finish(outcome: Outcome): number {
    this.view.finish(this.allLines());
    if ('exitNow' in outcome) return INTERRUPTED_EXIT_CODE;
    if ('error' in outcome) throw outcome.error;
    const { run } = outcome;
    if (this.json) printJson(run);
    else print(run.consolidated?.trimEnd() ?? fallbackReport(run));
    if (run.status === 'done') return 0;
    if (run.status === 'cancelled' && this.cancelledHere) return INTERRUPTED_EXIT_CODE;
    if (run.status === 'cancelled') throw new CliError(`research run ${run.id} was cancelled (from another client)`);
    throw new CliError(`research run ${run.id} failed: no agent finished its report`);
  }
}

/**
 * Moves a line's status forward (queued → running → final), never back: events that were sent before
 * the answer to research.start arrive after it, older than the state it gave. Returns whether it moved.
 */
function advance(line: AgentLine, status: ResearchAgentStatus): boolean {
  const rank = (each: ResearchAgentStatus) => (each === 'queued' ? 0 : each === 'running' ? 1 : 2);
  if (rank(status) <= rank(line.status)) return false;
  line.status = status;
  return true;
}

/** The agents' reports as they are, should a run end without a consolidated report. */
function fallbackReport(run: ResearchRun): string {
  return run.agents
    .map((agent) => `## ${agent.question}\n\n${agent.report ?? `(${agent.status}${agent.error ? `: ${agent.error}` : ''})`}`)
    .join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Drawing

/** Where the views write: stderr, or a stand-in in tests. */
export interface ViewStream {
  write(text: string): unknown;
  columns?: number;
}

/** `1.2k tokens`, `$0.0031` (what is known). */
function usageParts(line: AgentLine): string[] {
  const parts: string[] = [];
  if (line.tokens !== undefined && line.tokens > 0) {
    parts.push(`${line.tokens >= 1000 ? `${(line.tokens / 1000).toFixed(1)}k` : line.tokens} tokens`);
  }
  if (line.costUsd !== undefined && line.costUsd !== null && line.costUsd > 0) parts.push(`$${line.costUsd.toFixed(4)}`);
  return parts;
}

/** No terminal (a pipe, a log, CI): one line each time an agent's state changes. */
export class LineView implements ProgressView {
  private readonly out: ViewStream;
  private readonly shown = new Map<string, ResearchAgentStatus>();

  constructor(out: ViewStream) {
    this.out = out;
  }

  update(_lines: readonly AgentLine[], changed: AgentLine): void {
    if (this.shown.get(changed.id) === changed.status) return;
    this.shown.set(changed.id, changed.status);
    const ended = changed.status === 'done' || changed.status === 'failed' || changed.status === 'cancelled';
    const details = ended
      ? [`${changed.step}/${changed.maxSteps} steps`, ...usageParts(changed), changed.message ?? ''].filter(Boolean).join(', ')
      : '';
    this.out.write(
      `research ${oneLine(changed.id)} ${changed.status}: ${oneLine(changed.question)}${details ? ` (${oneLine(details)})` : ''}\n`,
    );
  }

  finish(): void {}
}

const BAR_WIDTH = 12;
const REDRAW_INTERVAL_MS = 80;
const STATUS_MARKS: Record<ResearchAgentStatus, string> = { queued: '·', running: '›', done: '✓', failed: '✗', cancelled: '⊘' };
const STATUS_STYLES: Record<ResearchAgentStatus, Parameters<typeof styleText>[0]> = {
  queued: 'gray',
  running: 'cyan',
  done: 'green',
  failed: 'red',
  cancelled: 'yellow',
};

/** A terminal: one bar per agent, redrawn in place (the cursor moves back up over the lines drawn last time). */
export class TerminalView implements ProgressView {
  private readonly out: ViewStream;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private latest: readonly AgentLine[] = [];

  constructor(out: ViewStream) {
    this.out = out;
  }

  update(lines: readonly AgentLine[]): void {
    this.latest = lines;
    // At most one redraw per interval: an agent reports up to ten times a second.
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        this.draw();
      },
      this.drawn === 0 ? 0 : REDRAW_INTERVAL_MS,
    );
  }

  finish(lines: readonly AgentLine[]): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = lines;
    this.draw();
  }

  /** The frame: the cursor up over the last one, each line cleared and written again. */
  draw(): void {
    // A terminal of unknown size reports 0 columns: assume the classic 80.
    const width = Math.max(40, (this.out.columns || 80) - 1);
    let frame = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const line of this.latest) frame += `\r\x1b[2K${formatBar(line, width)}\n`;
    // Fewer lines than last time (never, today): clear what is left below.
    frame += '\x1b[J';
    this.drawn = this.latest.length;
    this.out.write(frame);
  }
}

/** `✓ a1 ████████░░░░  4/20 What is A? — reading daemon/llm/models.ts · 1.2k tokens`, cut to `width`. */
export function formatBar(line: AgentLine, width: number): string {
  const filled = line.status === 'done' ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.round((line.step / Math.max(1, line.maxSteps)) * BAR_WIDTH));
  const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
  const steps = `${String(line.step).padStart(String(line.maxSteps).length)}/${line.maxSteps}`;
  const head = `${STATUS_MARKS[line.status]} ${oneLine(line.id)} ${bar} ${steps} `;
  const tail = [line.message ?? line.status, ...usageParts(line)].join(' · ');
  // The line must not wrap (the cursor moves count lines): the question gives way first, then the tail.
  const room = width - head.length;
  const questionRoom = Math.max(12, room - tail.length - 3);
  const text = truncate(`${truncate(oneLine(line.question), questionRoom)} — ${oneLine(tail)}`, Math.max(1, room));
  return styleText(STATUS_STYLES[line.status], head, { stream: process.stderr, validateStream: true }) + text;
}
