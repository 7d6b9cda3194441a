/**
 * Token usage and cost, and their arithmetic, kept in one place: a model call reports a `CallUsage`
 * (its tokens), a goal adds its calls up into a `Usage` (tokens, number of calls and cost), chat
 * replies and research runs add calls' tokens and costs up as they stream.
 *
 * A cost is `null` when a price is unknown, and once any part of a sum is unknown the sum is too:
 * a total that quietly left out a call would look cheaper than it was.
 */
import { z } from 'zod';

/** What one model call used. */
export const CallUsage = z.object({
  inputTokens: z.int().nonnegative(),
  cachedInputTokens: z.int().nonnegative(),
  outputTokens: z.int().nonnegative(),
  reasoningTokens: z.int().nonnegative(),
});
export type CallUsage = z.infer<typeof CallUsage>;

/** What a goal's calls used together. */
export const Usage = z.object({
  inputTokens: z.int().nonnegative(),
  cachedInputTokens: z.int().nonnegative(),
  outputTokens: z.int().nonnegative(),
  calls: z.int().nonnegative(),
  /** null while any call's price is unknown: cost then shows tokens only. */
  costUsd: z.number().nonnegative().nullable(),
});
export type Usage = z.infer<typeof Usage>;

export const emptyUsage = (): Usage => ({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, calls: 0, costUsd: 0 });

export const emptyCallUsage = (): CallUsage => ({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 });

/** Two costs added up; unknown (null) once either is. */
export function addCost(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/** Two calls' tokens added up. */
export function addCallUsage(a: CallUsage, b: CallUsage): CallUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

/** Two usages added up; the cost is unknown (null) once either is. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    calls: a.calls + b.calls,
    costUsd: addCost(a.costUsd, b.costUsd),
  };
}
