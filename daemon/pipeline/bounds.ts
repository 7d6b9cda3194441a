/**
 * The bounds of an attempt, all on by default (config `executor`): iterations, active time, cost
 * in USD (tokens while the cost is unknown), and stall detection. Hitting one ends the goal
 * `stuck` with the reason as its note.
 *
 * Time is ACTIVE time: the sum of the iterations' durations less the time spent waiting on the
 * model provider's rate limits (waits pause an iteration rather than burn it), so neither a
 * rate-limited provider, nor a daemon that was down for the night, nor a goal `waiting` for a
 * person's answer (no iteration runs meanwhile: its clocks stop) uses up a goal's time.
 */
import { addUsage, formatSeconds, type Iteration, type Usage } from '../../protocol/index.ts';
import type { RalphConfig } from '../config/schema.ts';

export interface Bounds {
  maxIterations: number;
  maxActiveMs: number;
  maxCostUsd: number;
  /** Applies while the attempt's cost is unknown (a model without prices). */
  maxTokens: number;
  /** This many iterations in a row without a change is a stall. */
  stallNoChange: number;
  /** The check failing with the same output this many times in a row is a stall. */
  stallSameFailure: number;
}

export const STALL_DEFAULTS = { stallNoChange: 3, stallSameFailure: 3 };

export function boundsFrom(executor: RalphConfig['executor'], overrides: Partial<Bounds> = {}): Bounds {
  return {
    maxIterations: executor.maxIterations,
    maxActiveMs: executor.maxMinutes * 60_000,
    maxCostUsd: executor.maxCostUsd,
    maxTokens: executor.maxTokens,
    ...STALL_DEFAULTS,
    ...overrides,
  };
}

/** An iteration as the bounds see it (recorded ones carry `durationMs`/`waitedMs` as extra fields). */
export type BoundedIteration = Pick<Iteration, 'number' | 'commit' | 'check' | 'usage'> & {
  durationMs?: unknown;
  waitedMs?: unknown;
  asked?: unknown;
};

/** What an attempt has used so far. */
export interface AttemptSpend {
  iterations: number;
  activeMs: number;
  usage: Usage;
}

/** Sums the recorded iterations of an attempt, plus what the run in progress spent beyond them. */
export function spendOf(iterations: readonly BoundedIteration[], extra: { activeMs: number; usage: Usage }): AttemptSpend {
  let usage = extra.usage;
  let activeMs = extra.activeMs;
  for (const iteration of iterations) {
    usage = addUsage(usage, iteration.usage);
    activeMs += activeMsOf(iteration);
  }
  return { iterations: iterations.length, activeMs, usage };
}

function activeMsOf(iteration: BoundedIteration): number {
  const duration = typeof iteration.durationMs === 'number' ? iteration.durationMs : 0;
  const waited = typeof iteration.waitedMs === 'number' ? iteration.waitedMs : 0;
  return Math.max(0, duration - waited);
}

/**
 * The spending bound that is reached, as the reason the goal is stuck; null while within bounds.
 * `iterationsDone` is checked too: call it before an iteration (it may not start) and during one
 * (time and money end it early).
 */
export function spendingBoundReached(spend: AttemptSpend, bounds: Bounds): string | null {
  if (spend.activeMs >= bounds.maxActiveMs) {
    return `time bound reached: ${formatMinutes(spend.activeMs)} of work in this attempt (the bound is ${formatMinutes(bounds.maxActiveMs)}, executor.maxMinutes)`;
  }
  const cost = spend.usage.costUsd;
  if (cost !== null && cost >= bounds.maxCostUsd) {
    return `cost bound reached: $${formatUsd(cost)} spent in this attempt (the bound is $${formatUsd(bounds.maxCostUsd)}, executor.maxCostUsd)`;
  }
  const tokens = spend.usage.inputTokens + spend.usage.outputTokens;
  if (cost === null && tokens >= bounds.maxTokens) {
    return `token bound reached: ${tokens.toLocaleString('en-US')} tokens used in this attempt, at an unknown price (the bound is ${bounds.maxTokens.toLocaleString('en-US')}, executor.maxTokens)`;
  }
  return null;
}

/** The iteration bound, checked before an iteration starts. */
export function iterationBoundReached(spend: AttemptSpend, bounds: Bounds): string | null {
  if (spend.iterations < bounds.maxIterations) return null;
  return `iteration bound reached: ${spend.iterations} iterations without finishing (the bound is ${bounds.maxIterations}, executor.maxIterations)`;
}

/**
 * A stall: the last iterations changed nothing, or the check failed the same way each time. Outputs
 * are compared with their numbers masked, so durations and timestamps in a test runner's output do
 * not hide a failure that repeats. An iteration that asked a person is no stall, and what came
 * before it is not counted: the answer may change everything.
 */
export function stallDetected(all: readonly BoundedIteration[], bounds: Bounds): string | null {
  const iterations = all.slice(all.findLastIndex((iteration) => iteration.asked !== undefined) + 1);
  const noChange = iterations.slice(-bounds.stallNoChange);
  if (noChange.length === bounds.stallNoChange && noChange.every((iteration) => iteration.commit === null)) {
    return `stalled: ${bounds.stallNoChange} iterations in a row changed nothing`;
  }
  const failures = iterations.slice(-bounds.stallSameFailure);
  if (failures.length === bounds.stallSameFailure && failures.every((iteration) => iteration.check !== null && !iteration.check.ok)) {
    const outputs = new Set(failures.map((iteration) => maskNumbers(iteration.check!.output)));
    if (outputs.size === 1) return `stalled: the check failed the same way ${bounds.stallSameFailure} times in a row`;
  }
  return null;
}

function maskNumbers(text: string): string {
  return text.replace(/\d+(\.\d+)?/g, '#').trim();
}

function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes >= 1) return `${Number(minutes.toFixed(1))} min`;
  return formatSeconds(ms / 1000);
}

function formatUsd(usd: number): string {
  return usd >= 0.01 ? usd.toFixed(2) : String(Number(usd.toPrecision(2)));
}

/**
 * Watches one iteration against the spending bounds while it runs: the active time (a timer, pushed
 * back by the time spent waiting on the provider) and the money (after every model call). Calls
 * `onReached` once, with the reason, when one is reached.
 */
export class SpendingWatch {
  private readonly before: AttemptSpend;
  private readonly bounds: Bounds;
  private readonly onReached: (reason: string) => void;
  private readonly startedAt = performance.now();
  private usage: Usage;
  private waitedMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  /** `before`: what the attempt spent before this iteration. */
  constructor(before: AttemptSpend, bounds: Bounds, onReached: (reason: string) => void) {
    this.before = before;
    this.bounds = bounds;
    this.onReached = onReached;
    this.usage = before.usage;
    this.arm();
  }

  /** The iteration's usage and provider waits so far. */
  update(iteration: { usage: Usage; waitedMs: number }): void {
    this.usage = addUsage(this.before.usage, iteration.usage);
    this.waitedMs = iteration.waitedMs;
    this.check();
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.timer);
  }

  private activeMs(): number {
    return this.before.activeMs + Math.max(0, performance.now() - this.startedAt - this.waitedMs);
  }

  private check(): boolean {
    if (this.ended) return true;
    const reached = spendingBoundReached({ iterations: this.before.iterations, activeMs: this.activeMs(), usage: this.usage }, this.bounds);
    if (!reached) return false;
    this.stop();
    this.onReached(reached);
    return true;
  }

  /** A timer for the active time left; when it fires early (waits pushed the bound back) it is armed again. */
  private arm(): void {
    const left = this.bounds.maxActiveMs - this.activeMs();
    this.timer = setTimeout(
      () => {
        if (!this.check()) this.arm();
      },
      Math.max(10, Math.min(left, 2 ** 31 - 1)),
    );
  }
}
