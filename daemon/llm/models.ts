/**
 * The model table: one row per model (context window, max output, prices, reasoning efforts, APIs).
 * Adding a model is adding a row, here or in `ralph.config.ts` (`models: [...]`), where a partial row
 * overrides the built-in one with the same id.
 *
 * The built-in rows hold published figures only. Where a figure was not found it stays null (the
 * cost is then unknown and the UI shows tokens only); an empty `reasoningEfforts` means "not known",
 * not "none". Every row names where its figures come from (`source`). Prices are OpenAI's standard
 * tier, USD per 1M tokens; batch, flex and priority tiers, and the long-prompt surcharge some rows
 * mention in their notes, are not modeled.
 */
import { z } from 'zod';
import { ModelInfo, ModelPricing, type CallUsage } from '../../protocol/index.ts';

export interface BuiltInModel {
  info: ModelInfo;
  /** Where the row's figures come from: the pages they were read from. */
  source: string;
}

const EFFORTS_NONE_TO_XHIGH = ['none', 'low', 'medium', 'high', 'xhigh'];
const BOTH_APIS: ModelInfo['apis'] = ['responses', 'chat'];
const LONG_PROMPT_NOTE = 'prompts over 272K input tokens are billed at higher rates (not modeled here)';

/**
 * Figures looked up in 2026 through public pages. OpenAI's own pricing page was read through pages
 * that quote it (named per row); where sources disagreed on a figure, it was left null.
 */
export const BUILT_IN_MODELS: readonly BuiltInModel[] = [
  {
    info: {
      id: 'gpt-5.5',
      contextWindow: 1_050_000,
      maxOutputTokens: 128_000,
      pricing: { input: 5.0, cachedInput: 0.5, output: 30.0 },
      reasoningEfforts: EFFORTS_NONE_TO_XHIGH,
      apis: BOTH_APIS,
      notes: LONG_PROMPT_NOTE,
    },
    source:
      'prices: OpenAI pricing page (developers.openai.com/api/docs/pricing) as quoted by https://tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch and https://www.benchr.org/articles/gpt-5-5-pricing-explained; ' +
      'context, max output, efforts: https://docs.oxen.ai/inference-api/reference/models/gpt-5-5-2026-04-23.md; ' +
      'APIs: https://apidog.com/blog/how-to-use-gpt-5-5-api/ (Responses and Chat Completions)',
  },
  {
    info: {
      id: 'gpt-5.5-pro',
      contextWindow: 1_050_000,
      maxOutputTokens: 128_000,
      // No cached-input price is listed for the pro models.
      pricing: { input: 30.0, cachedInput: null, output: 180.0 },
      reasoningEfforts: [],
      apis: ['responses'],
      notes: LONG_PROMPT_NOTE,
    },
    source:
      'prices: OpenAI pricing page as quoted by https://www.morphllm.com/openai-api-pricing (cached input n/a) and https://apidog.com/blog/how-to-use-gpt-5-5-api/; ' +
      'context, max output: https://docs.oxen.ai/inference-api/reference/models/gpt-5-5-pro-2026-04-23.md; ' +
      'Responses API only: https://docs.apiyi.com/en/compare/llm-text-2026',
  },
  {
    info: {
      id: 'gpt-5.4',
      contextWindow: 1_050_000,
      maxOutputTokens: 128_000,
      pricing: { input: 2.5, cachedInput: 0.25, output: 15.0 },
      reasoningEfforts: EFFORTS_NONE_TO_XHIGH,
      apis: BOTH_APIS,
      notes: LONG_PROMPT_NOTE,
    },
    source:
      'prices: OpenAI pricing page as quoted by https://tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch; ' +
      'context, max output: https://vercel.com/ai-gateway/models/gpt-5.4.md and https://docs.oxen.ai/inference-api/reference/models/gpt-5-4-2026-03-05.md; ' +
      'efforts: https://replicate.com/openai/gpt-5.4 (none to xhigh); ' +
      'APIs: https://www.getmaxim.ai/bifrost/model-library/compare/openai/gpt-5.4 (/v1/chat/completions, /v1/responses)',
  },
  {
    info: {
      id: 'gpt-5.4-pro',
      contextWindow: 1_050_000,
      maxOutputTokens: 128_000,
      pricing: { input: 30.0, cachedInput: null, output: 180.0 },
      reasoningEfforts: [],
      // Responses only, as OpenAI documents for its other pro models (GPT-5 pro, GPT-5.5 pro).
      apis: ['responses'],
      notes: LONG_PROMPT_NOTE,
    },
    source:
      'prices: OpenAI pricing page as quoted by https://www.morphllm.com/openai-api-pricing (cached input n/a); ' +
      'context, max output: https://vercel.com/ai-gateway/models/gpt-5.4-pro.md',
  },
  {
    info: {
      id: 'gpt-5.4-mini',
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      pricing: { input: 0.75, cachedInput: 0.075, output: 4.5 },
      reasoningEfforts: EFFORTS_NONE_TO_XHIGH,
      apis: BOTH_APIS,
    },
    source:
      'prices: OpenAI pricing page as quoted by https://tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch; ' +
      'context, max output: https://vercel.com/ai-gateway/models/openai/gpt-5.4-mini.md and https://docs.oxen.ai/inference-api/reference/models/gpt-5-4-mini.md; ' +
      'efforts: https://docs.venice.ai/es/models/gpt-5-4-mini.md',
  },
  {
    info: {
      id: 'gpt-5.4-nano',
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      pricing: { input: 0.2, cachedInput: 0.02, output: 1.25 },
      reasoningEfforts: [],
      apis: BOTH_APIS,
    },
    source:
      'prices: OpenAI pricing page as quoted by https://tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch; ' +
      'context, max output: https://whichllm.io/models/digitalocean-openai-gpt-5-4-nano and https://therouter.ai/models/openai--gpt-5.4-nano/',
  },
  {
    info: {
      id: 'gpt-5.3-codex',
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      pricing: { input: 1.75, cachedInput: 0.175, output: 14.0 },
      // Published lists disagree (none…xhigh vs low…xhigh): left unknown.
      reasoningEfforts: [],
      // The codex models are served by the Responses API only (OpenAI's GPT-5-Codex page).
      apis: ['responses'],
    },
    source:
      'prices: https://raw.githubusercontent.com/github/docs/main/data/tables/copilot/models-and-pricing.yml and https://docs.venice.ai/models/gpt-5-3-codex.md; ' +
      'context, max output: https://docs.venice.ai/models/gpt-5-3-codex.md; ' +
      'Responses only: https://developers.openai.com/api/docs/models/gpt-5-codex',
  },
  {
    info: {
      id: 'gpt-5.2-codex',
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      pricing: { input: 1.75, cachedInput: 0.175, output: 14.0 },
      reasoningEfforts: ['low', 'medium', 'high', 'xhigh'],
      apis: ['responses'],
    },
    source:
      "context, max output, efforts: OpenAI's model page as quoted by https://api.koog.ai (OpenAIModels.Chat.GPT5_2Codex); " +
      'prices: https://raw.githubusercontent.com/github/docs/main/data/tables/copilot/models-and-pricing.yml',
  },
  {
    info: {
      id: 'gpt-5.1-codex-max',
      contextWindow: 400_000,
      maxOutputTokens: null,
      pricing: { input: null, cachedInput: null, output: null },
      reasoningEfforts: ['low', 'medium', 'high', 'xhigh'],
      apis: ['responses'],
    },
    source:
      'context: https://vercel.com/ai-gateway/models/gpt-5.1-codex-max/faq; ' +
      'efforts: https://github.com/RayBytes/ChatMock (README: gpt-5.1-codex-max adds xhigh)',
  },
  {
    info: {
      id: 'gpt-5.1-codex',
      contextWindow: 400_000,
      maxOutputTokens: null,
      pricing: { input: 1.25, cachedInput: null, output: 10.0 },
      reasoningEfforts: ['low', 'medium', 'high'],
      apis: ['responses'],
    },
    source:
      'context, prices: https://openrouter.ai/openai/gpt-5.1-codex; ' +
      'efforts: https://github.com/RayBytes/ChatMock (README: the gpt-5.1 family supports low, medium, high)',
  },
];

/**
 * A row in `ralph.config.ts`: a new model (unknown figures default to null, APIs to both), or
 * a partial row that overrides the built-in one with the same id, field by field.
 */
export const ModelOverride = z.strictObject({
  id: z.string().trim().min(1),
  contextWindow: ModelInfo.shape.contextWindow.optional(),
  maxOutputTokens: ModelInfo.shape.maxOutputTokens.optional(),
  pricing: z
    .strictObject({
      input: ModelPricing.shape.input.optional(),
      cachedInput: ModelPricing.shape.cachedInput.optional(),
      output: ModelPricing.shape.output.optional(),
    })
    .optional(),
  reasoningEfforts: ModelInfo.shape.reasoningEfforts.optional(),
  apis: ModelInfo.shape.apis.min(1).optional(),
  notes: z.string().optional(),
});
export type ModelOverride = z.infer<typeof ModelOverride>;

/** A dated snapshot id (`gpt-5.4-mini-2026-03-17`), which servers report back, priced as its model. */
const DATED_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

const PER_MILLION = 1_000_000;

export class ModelTable {
  private readonly byId = new Map<string, ModelInfo>();

  constructor(overrides: readonly ModelOverride[] = [], builtIn: readonly BuiltInModel[] = BUILT_IN_MODELS) {
    for (const { info } of builtIn) this.byId.set(info.id, info);
    for (const override of overrides) this.byId.set(override.id, applyOverride(this.byId.get(override.id), override));
  }

  /** Every row: the built-in ones in their order, then the added ones in config order. */
  rows(): ModelInfo[] {
    return [...this.byId.values()];
  }

  /** The row for a model id, or for the model of a dated snapshot id; undefined when unknown. */
  get(id: string): ModelInfo | undefined {
    return this.byId.get(id) ?? this.byId.get(id.replace(DATED_SUFFIX, ''));
  }

  /** What a call cost in USD; null when the model is unknown or a price the usage needs is unknown. */
  cost(modelId: string, usage: CallUsage): number | null {
    const info = this.get(modelId);
    return info ? costOf(info.pricing, usage) : null;
  }
}

/**
 * USD for one call. `usage.inputTokens` includes the cached ones (as OpenAI reports them) and
 * reasoning tokens are part of `outputTokens`. A price is needed only when there are tokens to
 * price with it. Cached tokens without a published cached rate are priced at the input rate: the
 * cached rate is a discount, so the full rate is an upper bound and the cost is never understated.
 */
export function costOf(pricing: ModelInfo['pricing'], usage: CallUsage): number | null {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const cachedRate = pricing.cachedInput ?? pricing.input;
  if (uncached > 0 && pricing.input === null) return null;
  if (cached > 0 && cachedRate === null) return null;
  if (usage.outputTokens > 0 && pricing.output === null) return null;
  const dollars = uncached * (pricing.input ?? 0) + cached * (cachedRate ?? 0) + usage.outputTokens * (pricing.output ?? 0);
  return dollars / PER_MILLION;
}

/** The override's value where it sets one (null included: "unknown"), else the base row's. */
const either = <T>(value: T | undefined, fallback: T): T => (value !== undefined ? value : fallback);

function applyOverride(base: ModelInfo | undefined, override: ModelOverride): ModelInfo {
  const row: ModelInfo = {
    id: override.id,
    contextWindow: either(override.contextWindow, base?.contextWindow ?? null),
    maxOutputTokens: either(override.maxOutputTokens, base?.maxOutputTokens ?? null),
    pricing: {
      input: either(override.pricing?.input, base?.pricing.input ?? null),
      cachedInput: either(override.pricing?.cachedInput, base?.pricing.cachedInput ?? null),
      output: either(override.pricing?.output, base?.pricing.output ?? null),
    },
    reasoningEfforts: override.reasoningEfforts ?? base?.reasoningEfforts ?? [],
    apis: override.apis ?? base?.apis ?? ['responses', 'chat'],
  };
  const notes = override.notes ?? base?.notes;
  if (notes !== undefined) row.notes = notes;
  return row;
}
