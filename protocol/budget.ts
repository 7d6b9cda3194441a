/**
 * The daemon's spend budget as clients see it: what was spent today and this month across every
 * model call the daemon made (goals, research, chat), the limits the config sets, and how near they
 * are; and why the goal pipeline is held when something other than a person paused it (the budget
 * is spent, the provider's quota is exhausted, a rate limit asks for a long wait).
 */
import { z } from 'zod';
import { GoalId } from './goal.ts';

/** The share of a limit at which every client is warned, once per period. */
export const BUDGET_WARNING_SHARE = 0.8;

/** What some period's model calls used: dollars (the calls whose price is known), tokens, calls. */
export const SpendTotals = z.object({
  usd: z.number().nonnegative(),
  tokens: z.int().nonnegative(),
  calls: z.int().nonnegative(),
  /** Calls whose price is unknown: their dollars are missing from `usd` (their tokens are counted). */
  unpricedCalls: z.int().nonnegative(),
});
export type SpendTotals = z.infer<typeof SpendTotals>;

/** The config's `budget`: each limit is optional. */
export const BudgetLimits = z.object({
  dailyUsd: z.number().positive().optional(),
  monthlyUsd: z.number().positive().optional(),
  dailyTokens: z.int().positive().optional(),
});
export type BudgetLimits = z.infer<typeof BudgetLimits>;

export const SpendStatus = z.object({
  /** The local day and month the totals are for: `2026-12-03`, `2026-12`. */
  day: z.string(),
  month: z.string(),
  today: SpendTotals,
  thisMonth: SpendTotals,
  budget: BudgetLimits,
  /** `warning`: a limit is 80 % used; `spent`: one is used up (the pipeline is held, research and chat refused). */
  level: z.enum(['ok', 'warning', 'spent']),
  /** The limit nearest to being used up, in one line ("$0.82 of the daily $1.00 spent"); null without limits. */
  message: z.string().nullable(),
});
export type SpendStatus = z.infer<typeof SpendStatus>;

/**
 * Why the pipeline is held without a person pausing it: `budget` (a spend limit is used up, until
 * the period rolls over), `quota` (the provider said the account's quota is exhausted), `rate-limit`
 * (the provider asked for a wait longer than the config allows a goal to wait). It resumes by
 * itself at `until`.
 */
export const PipelineHold = z.object({
  reason: z.enum(['budget', 'quota', 'rate-limit']),
  message: z.string(),
  until: z.iso.datetime({ offset: true }).nullable(),
});
export type PipelineHold = z.infer<typeof PipelineHold>;

/** The pipeline as clients see it: paused (by a person or a hold), the goals it runs, and the hold when there is one. */
export const PipelineStatus = z.object({
  paused: z.boolean(),
  running: z.array(GoalId),
  hold: PipelineHold.optional(),
});
export type PipelineStatus = z.infer<typeof PipelineStatus>;

/** `$0.0123` below a dollar, `$1.23` from there: what spend looks like in the status bar and `ralph status`. */
export function formatUsd(usd: number): string {
  return usd < 1 ? `$${usd.toFixed(usd < 0.01 && usd > 0 ? 4 : 2)}` : `$${usd.toFixed(2)}`;
}
