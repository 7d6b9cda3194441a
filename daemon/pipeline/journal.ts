/**
 * What a running goal tells the world: entries in its log (`.ralph/logs/<id>.jsonl`, pushed as
 * log.appended events), progress units per iteration, and the provider's waits. Reporting never
 * fails the goal: a log that cannot be written is reported on the daemon's own log instead.
 */
import type { CallUsage, EventData, EventEnvelope } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import type { Log } from '../log.ts';
import type { GoalLog } from '../store/goal-log.ts';

/** The kinds of entry the executor writes (the store adds `created` and `transition`). */
export type JournalKind = 'model' | 'tool' | 'command' | 'check' | 'commit' | 'note' | 'decision' | 'warning';

type Cause = EventEnvelope['cause'];

/**
 * What an iteration reports through: the goal's log and the daemon's bus here (GoalJournal), a
 * Redis stream on a queue worker (daemon/queue/), which the daemon relays to the same log and bus.
 */
export interface Journal {
  readonly goalId: number;
  /** What the goal's agent, commands and commits must not carry. */
  readonly secrets: DaemonSecrets;
  write(kind: JournalKind, text: string, extra?: Record<string, unknown>, cause?: Cause): Promise<void>;
  progressBegin(data: Omit<EventData<'progress.begin'>, 'kind'>): void;
  progressReport(data: EventData<'progress.report'>): void;
  progressEnd(data: EventData<'progress.end'>): void;
  providerWait(wait: Omit<EventData<'provider.wait'>, 'scope'>): void;
}

export class GoalJournal implements Journal {
  readonly goalId: number;
  private readonly log: GoalLog;
  private readonly bus: EventBus;
  private readonly report: Log;

  constructor(options: { goalId: number; log: GoalLog; bus: EventBus; report: Log }) {
    this.goalId = options.goalId;
    this.log = options.log;
    this.bus = options.bus;
    this.report = options.report;
  }

  /** Appends one entry; resolves once it is written (or reported as unwritable). */
  async write(kind: JournalKind, text: string, extra: Record<string, unknown> = {}, cause?: Cause): Promise<void> {
    try {
      await this.log.append(this.goalId, { ...extra, kind, text }, cause);
    } catch (error) {
      this.report(`goal #${this.goalId}: could not write its log (${(error as Error).message}): ${kind}: ${text}`);
    }
  }

  /** The daemon's secrets (the log's): what the goal's agent, commands and commits must not carry. */
  get secrets(): DaemonSecrets {
    return this.log.secrets;
  }

  progressBegin(data: Omit<EventData<'progress.begin'>, 'kind'>): void {
    this.bus.publish('progress.begin', { ...data, kind: 'iteration' });
  }

  progressReport(data: EventData<'progress.report'>): void {
    this.bus.publish('progress.report', data);
  }

  progressEnd(data: EventData<'progress.end'>): void {
    this.bus.publish('progress.end', data);
  }

  /** The provider waits before its next try (rate limit, server error): every client shows it. */
  providerWait(wait: Omit<EventData<'provider.wait'>, 'scope'>): void {
    this.bus.publish('provider.wait', { scope: { goalId: this.goalId }, ...wait });
  }
}

/** The progress token of one iteration: `goal:<id>:<n>`. */
export function iterationToken(goalId: number, iteration: number): string {
  return `goal:${goalId}:${iteration}`;
}

/** A model call's log line: "gpt-5.4-mini: 1,234 tokens in (200 cached), 56 out, $0.0012". */
export function describeModelCall(model: string, usage: CallUsage, costUsd: number | null): string {
  const cached = usage.cachedInputTokens > 0 ? ` (${usage.cachedInputTokens.toLocaleString('en-US')} cached)` : '';
  const cost = costUsd === null ? 'price unknown' : `$${costUsd.toFixed(4)}`;
  return `${model}: ${usage.inputTokens.toLocaleString('en-US')} tokens in${cached}, ${usage.outputTokens.toLocaleString('en-US')} out, ${cost}`;
}
