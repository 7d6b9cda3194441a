/**
 * One spend budget for the whole daemon (config `budget: {dailyUsd, monthlyUsd, dailyTokens}`):
 * every model call the daemon pays for — a goal's iterations (Ralph's agent, or an agent CLI that
 * reports usage), research runs, chat turns — is `record`ed once, where each kind of spend is
 * already counted, into the ledger (ledger.ts) and into today's and this month's totals.
 *
 * After every call and on a clock tick the totals are held against the limits:
 * - at 80 % of a limit every client is warned once per period (`budget.warning`);
 * - at 100 % the goal pipeline is held (reason `budget`, until the period rolls over), new research
 *   and chat turns are refused with BudgetSpentError, and the `budget` notification is raised; a
 *   goal's iteration in flight is stopped after the call that spent the last of it (`isSpent`);
 * - when the day or month rolls over (local time), or the config raises the limit, it is released.
 *
 * The clock is injectable (`now`, `tickMs`): tests move to the next day without waiting for it.
 */
import {
  BUDGET_WARNING_SHARE,
  formatUsd,
  type BudgetLimits,
  type CallUsage,
  type EventData,
  type SpendStatus,
  type SpendTotals,
  type Usage,
} from '../../protocol/index.ts';
import type { RalphConfig } from '../config/schema.ts';
import { UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import type { Log } from '../log.ts';
import { ralphPaths } from '../paths.ts';
import { dayKey, monthKey, SpendLedger, type SpendEntry, type SpendScope } from './ledger.ts';

/** How often the totals are held against the clock (a new day, a new month) by default. */
const DEFAULT_TICK_MS = 60_000;

/** Research or a chat turn refused because a spend limit is used up: the server maps it once, as `unavailable`. */
export class BudgetSpentError extends UnavailableError {}

/** What a service that spends needs of the budget: count a call, refuse new work while a limit is used up. */
export type SpendCounter = Pick<BudgetService, 'record' | 'ensureAvailable' | 'isSpent'>;

/** The daemon's clock: tests inject one to move to the next day. */
export interface BudgetClock {
  now: () => Date;
  /** How often the totals are held against the clock. Default 60 s. */
  tickMs?: number;
}

/** What the budget does to the pipeline: hold it (with why, and until when) or let it go. */
export interface BudgetPipeline {
  hold(message: string, until: Date): void;
  release(): void;
}

export interface BudgetServiceOptions {
  repoRoot: string;
  bus: EventBus;
  settings: () => RalphConfig['budget'];
  log: Log;
  clock?: BudgetClock;
  /** Raises the `budget` notification (notify-service.ts). */
  notify?: (content: { kind: 'budget'; title: string; body: string }) => void;
}

/** One call as its counter saw it: the tokens and the price (null: unknown). */
export interface SpentCall {
  model: string;
  usage: Pick<CallUsage, 'inputTokens' | 'cachedInputTokens' | 'outputTokens'>;
  costUsd: number | null;
}

const emptyTotals = (): SpendTotals => ({ usd: 0, tokens: 0, calls: 0, unpricedCalls: 0 });

function addEntry(totals: SpendTotals, entry: SpendEntry): void {
  totals.tokens += entry.inputTokens + entry.outputTokens;
  totals.calls++;
  if (entry.costUsd === null) totals.unpricedCalls++;
  else totals.usd += entry.costUsd;
}

/** One limit held against what was spent: its share used, and a line saying so. */
interface LimitUse {
  key: 'dailyUsd' | 'monthlyUsd' | 'dailyTokens';
  period: 'day' | 'month';
  share: number;
  message: string;
}

export class BudgetService {
  private readonly options: BudgetServiceOptions;
  private readonly ledger: SpendLedger;
  private readonly now: () => Date;
  private month: string;
  private day: string;
  private monthTotals: SpendTotals = emptyTotals();
  /** This month's totals by day. */
  private days = new Map<string, SpendTotals>();
  /** Limits warned about, by period and limit (`2026-12-03:dailyUsd`): once each. */
  private readonly warned = new Set<string>();
  /** The period and limit the pipeline is held for, or null. */
  private spentOn: string | null = null;
  private pipeline: BudgetPipeline | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(options: BudgetServiceOptions) {
    this.options = options;
    this.now = options.clock?.now ?? (() => new Date());
    this.ledger = new SpendLedger(ralphPaths(options.repoRoot).spend, (message) => options.log(`spend ledger: ${message}`));
    const now = this.now();
    this.month = monthKey(now);
    this.day = dayKey(now);
  }

  /** Reads this month's ledger and starts the clock's tick. */
  static async open(options: BudgetServiceOptions): Promise<BudgetService> {
    const service = new BudgetService(options);
    await service.loadMonth();
    const tickMs = options.clock?.tickMs ?? DEFAULT_TICK_MS;
    service.timer = setInterval(() => void service.tick(), tickMs);
    service.timer.unref();
    return service;
  }

  /** The pipeline to hold when a limit is used up; applied at once (a budget spent before a restart still holds it). */
  attach(pipeline: BudgetPipeline): void {
    this.pipeline = pipeline;
    this.evaluate();
  }

  status(): SpendStatus {
    const budget = this.limits();
    const uses = this.uses(budget);
    const top = uses.reduce<LimitUse | null>((best, use) => (best && best.share >= use.share ? best : use), null);
    const level = top === null ? 'ok' : top.share >= 1 ? 'spent' : top.share >= BUDGET_WARNING_SHARE ? 'warning' : 'ok';
    return {
      day: this.day,
      month: this.month,
      today: { ...this.today() },
      thisMonth: { ...this.monthTotals },
      budget,
      level,
      message: top?.message ?? null,
    };
  }

  /** Whether a limit is used up now: work in flight stops after the call that spent it. */
  isSpent(): boolean {
    return this.status().level === 'spent';
  }

  /** Refuses new work (a research run, a chat turn) while a limit is used up. */
  ensureAvailable(what: string): void {
    // A new day may have begun since the last tick: it frees the budget for this request (and the pipeline).
    this.rollOver(this.now());
    this.evaluate();
    const status = this.status();
    if (status.level !== 'spent') return;
    throw new BudgetSpentError(`the spend budget is used up (${status.message}): ${what} waits until ${this.resetPhrase()}`, {
      reason: 'budget',
      spend: status,
    });
  }

  /** Counts one model call: into the ledger and the totals, then held against the limits. */
  record(scope: SpendScope, call: SpentCall): void {
    if (this.closed) return;
    const now = this.now();
    this.rollOver(now);
    const entry: SpendEntry = {
      at: now.toISOString(),
      scope,
      model: call.model.slice(0, 200),
      inputTokens: call.usage.inputTokens,
      cachedInputTokens: call.usage.cachedInputTokens,
      outputTokens: call.usage.outputTokens,
      costUsd: call.costUsd,
    };
    addEntry(this.monthTotals, entry);
    addEntry(this.todayEntry(), entry);
    void this.ledger.append(entry);
    this.publish('spend.changed', this.status());
    this.evaluate();
  }

  /**
   * A counter for one goal iteration, whose spend arrives as running totals (the iteration's usage
   * hook): each call becomes its difference from the last. True when a limit is used up now.
   */
  iterationMeter(scope: { goalId: number; iteration: number }, model: string): (total: Usage) => boolean {
    let last: Usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, calls: 0, costUsd: 0 };
    return (total) => {
      // Totals an agent CLI reports at its end may replace a larger sum: only growth is spend.
      const usage = {
        inputTokens: Math.max(0, total.inputTokens - last.inputTokens),
        cachedInputTokens: Math.max(0, total.cachedInputTokens - last.cachedInputTokens),
        outputTokens: Math.max(0, total.outputTokens - last.outputTokens),
      };
      const costUsd = total.costUsd === null ? null : Math.max(0, total.costUsd - (last.costUsd ?? 0));
      const grew = usage.inputTokens + usage.outputTokens + usage.cachedInputTokens > 0 || (costUsd ?? 0) > 0 || total.calls > last.calls;
      if (grew) this.record(scope, { model, usage, costUsd });
      last = total;
      return this.isSpent();
    };
  }

  /** The ledger's writes so far are on disk (tests, and stopping). */
  flush(): Promise<void> {
    return this.ledger.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ledger.flush();
  }

  // ---- internals ----

  private limits(): BudgetLimits {
    const { dailyUsd, monthlyUsd, dailyTokens } = this.options.settings();
    return {
      ...(dailyUsd !== undefined ? { dailyUsd } : {}),
      ...(monthlyUsd !== undefined ? { monthlyUsd } : {}),
      ...(dailyTokens !== undefined ? { dailyTokens } : {}),
    };
  }

  private today(): SpendTotals {
    return this.days.get(this.day) ?? emptyTotals();
  }

  private todayEntry(): SpendTotals {
    let totals = this.days.get(this.day);
    if (!totals) {
      totals = emptyTotals();
      this.days.set(this.day, totals);
    }
    return totals;
  }

  private uses(budget: BudgetLimits): LimitUse[] {
    const today = this.today();
    const uses: LimitUse[] = [];
    if (budget.dailyUsd !== undefined) {
      uses.push({
        key: 'dailyUsd',
        period: 'day',
        share: today.usd / budget.dailyUsd,
        message: `${formatUsd(today.usd)} of the daily ${formatUsd(budget.dailyUsd)} spent`,
      });
    }
    if (budget.monthlyUsd !== undefined) {
      uses.push({
        key: 'monthlyUsd',
        period: 'month',
        share: this.monthTotals.usd / budget.monthlyUsd,
        message: `${formatUsd(this.monthTotals.usd)} of the monthly ${formatUsd(budget.monthlyUsd)} spent`,
      });
    }
    if (budget.dailyTokens !== undefined) {
      uses.push({
        key: 'dailyTokens',
        period: 'day',
        share: today.tokens / budget.dailyTokens,
        message: `${today.tokens.toLocaleString('en-US')} of the daily ${budget.dailyTokens.toLocaleString('en-US')} tokens used`,
      });
    }
    return uses;
  }

  /** The next tick: a new day or month may free the budget; a config change may have raised a limit. */
  private async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    if (monthKey(now) !== this.month) await this.loadMonth();
    else this.rollOver(now);
    this.evaluate();
  }

  /** A new day within the month starts from that day's totals (a new month is read by `tick`). */
  private rollOver(now: Date): void {
    const day = dayKey(now);
    if (day === this.day) return;
    if (monthKey(now) !== this.month) {
      // Calls recorded before the tick read the new month: it starts empty (its file is new).
      this.month = monthKey(now);
      this.monthTotals = emptyTotals();
      this.days = new Map();
    }
    this.day = day;
    this.publish('spend.changed', this.status());
  }

  private async loadMonth(): Promise<void> {
    const now = this.now();
    const month = monthKey(now);
    const entries = await this.ledger.read(month);
    const totals = emptyTotals();
    const days = new Map<string, SpendTotals>();
    for (const entry of entries) {
      const at = new Date(entry.at);
      // A line of another month (a file copied, a clock set back) is not this month's spend.
      if (monthKey(at) !== month) continue;
      addEntry(totals, entry);
      const key = dayKey(at);
      const day = days.get(key) ?? emptyTotals();
      days.set(key, day);
      addEntry(day, entry);
    }
    this.month = month;
    this.day = dayKey(now);
    this.monthTotals = totals;
    this.days = days;
    if (this.pipeline) this.publish('spend.changed', this.status());
  }

  /** Warns at 80 %, holds the pipeline at 100 %, lets it go once no limit is used up. */
  private evaluate(): void {
    if (this.closed) return;
    const status = this.status();
    for (const use of this.uses(status.budget)) {
      const period = use.period === 'day' ? this.day : this.month;
      const key = `${period}:${use.key}`;
      if (use.share >= BUDGET_WARNING_SHARE && use.share < 1 && !this.warned.has(key)) {
        this.warned.add(key);
        this.options.log(`budget: ${use.message}`);
        this.publish('budget.warning', { message: `${Math.floor(use.share * 100)} % of the budget: ${use.message}`, spend: status });
      }
    }
    if (status.level === 'spent') {
      const key = `${this.day}:${status.message}`;
      if (this.spentOn === null) {
        this.options.log(`budget: ${status.message}: the pipeline is held until ${this.resetPhrase()}`);
        this.options.notify?.({
          kind: 'budget',
          title: 'Ralph: the spend budget is used up',
          body: `${status.message}. Goals wait, research and chat are refused until ${this.resetPhrase()}.`,
        });
      }
      // Held again only when what it says changed (the spend went on, a limit was lowered).
      if (this.spentOn !== key) this.pipeline?.hold(`the spend budget is used up: ${status.message}`, this.resetTime());
      this.spentOn = key;
    } else if (this.spentOn !== null) {
      this.spentOn = null;
      this.options.log('budget: spend is within the budget again: the pipeline goes on');
      this.pipeline?.release();
    }
  }

  /** When the limits used up now are free again: the next local midnight, or the next month for a monthly one. */
  private resetTime(): Date {
    const now = this.now();
    return this.monthSpentNow()
      ? new Date(now.getFullYear(), now.getMonth() + 1, 1)
      : new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  }

  private resetPhrase(): string {
    return this.monthSpentNow() ? 'the month rolls over' : 'the day rolls over (local midnight)';
  }

  private monthSpentNow(): boolean {
    const { monthlyUsd } = this.limits();
    return monthlyUsd !== undefined && this.monthTotals.usd >= monthlyUsd;
  }

  private publish<T extends 'spend.changed' | 'budget.warning'>(type: T, data: EventData<T>): void {
    if (!this.closed) this.options.bus.publish(type, data);
  }
}
