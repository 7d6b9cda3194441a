import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelInfo, type CallUsage } from '../../protocol/index.ts';
import { BUILT_IN_MODELS, ModelTable, costOf } from './models.ts';

const usage = (partial: Partial<CallUsage>): CallUsage => ({
  inputTokens: 0,
  cachedInputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  ...partial,
});

/** Every number a row states (null means unknown and needs no source). */
function statedNumbers(info: ModelInfo): number[] {
  return [info.contextWindow, info.maxOutputTokens, info.pricing.input, info.pricing.cachedInput, info.pricing.output].filter(
    (value): value is number => value !== null,
  );
}

describe('the built-in model table', () => {
  it('seeds the GPT-5.x family: 5.3 codex, 5.4 (mini, nano, pro) and 5.5 (pro)', () => {
    const ids = new ModelTable().rows().map((row) => row.id);
    for (const id of ['gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-nano', 'gpt-5.4-pro', 'gpt-5.5', 'gpt-5.5-pro', 'gpt-5.3-codex']) {
      assert.ok(ids.includes(id), `${id} is in the table`);
    }
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  });

  it('holds valid rows, each stated number in a row that names its source pages', () => {
    for (const { info, source } of BUILT_IN_MODELS) {
      ModelInfo.parse(info);
      if (statedNumbers(info).length === 0 && info.reasoningEfforts.length === 0) continue;
      assert.match(source, /https:\/\/\S+/, `${info.id}: its figures name where they come from`);
    }
  });

  it('leaves unpublished figures unknown rather than guessing them', () => {
    const table = new ModelTable();
    // OpenAI lists no cached-input price for the pro models.
    assert.equal(table.get('gpt-5.5-pro')?.pricing.cachedInput, null);
    assert.equal(table.get('gpt-5.4-pro')?.pricing.cachedInput, null);
    // No price was found for gpt-5.1-codex-max.
    assert.deepEqual(table.get('gpt-5.1-codex-max')?.pricing, { input: null, cachedInput: null, output: null });
  });

  it('finds a dated snapshot id under its model', () => {
    const table = new ModelTable();
    assert.equal(table.get('gpt-5.4-mini-2026-03-17')?.id, 'gpt-5.4-mini');
    assert.equal(table.get('gpt-5.4-mini-latest'), undefined);
    assert.equal(table.get('no-such-model'), undefined);
  });
});

describe('config rows', () => {
  it('add a model, unknown figures null and both APIs by default', () => {
    const table = new ModelTable([{ id: 'llama3.2', contextWindow: 131_072 }]);
    assert.deepEqual(table.get('llama3.2'), {
      id: 'llama3.2',
      contextWindow: 131_072,
      maxOutputTokens: null,
      pricing: { input: null, cachedInput: null, output: null },
      reasoningEfforts: [],
      apis: ['responses', 'chat'],
    });
    assert.equal(table.rows().at(-1)?.id, 'llama3.2', 'added rows come after the built-in ones');
  });

  it('override a built-in row field by field, keeping the rest', () => {
    const builtIn = new ModelTable().get('gpt-5.4')!;
    const table = new ModelTable([{ id: 'gpt-5.4', pricing: { output: 20 }, maxOutputTokens: null }]);
    const row = table.get('gpt-5.4')!;
    assert.deepEqual(row.pricing, { ...builtIn.pricing, output: 20 });
    assert.equal(row.maxOutputTokens, null, 'an explicit null marks a figure unknown');
    assert.equal(row.contextWindow, builtIn.contextWindow);
    assert.deepEqual(row.apis, builtIn.apis);
    assert.equal(table.rows().length, new ModelTable().rows().length, 'an override adds no row');
  });
});

describe('cost', () => {
  const pricing = { input: 2.5, cachedInput: 0.25, output: 15 };

  it('prices input, cached input and output per 1M tokens', () => {
    // 600k uncached × $2.50 + 400k cached × $0.25 + 100k out × $15 (reasoning tokens are part of the output)
    const cost = costOf(
      pricing,
      usage({ inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 100_000, reasoningTokens: 60_000 }),
    );
    assert.ok(cost !== null);
    assert.ok(Math.abs(cost - (1.5 + 0.1 + 1.5)) < 1e-9, `got ${cost}`);
  });

  it('prices cached tokens at the input rate when no cached rate is published (never understated)', () => {
    const cost = costOf({ input: 30, cachedInput: null, output: 180 }, usage({ inputTokens: 1_000_000, cachedInputTokens: 1_000_000 }));
    assert.equal(cost, 30);
  });

  it('is null when a price the usage needs is unknown, and computed when it is not needed', () => {
    const noOutputPrice = { input: 1, cachedInput: null, output: null };
    assert.equal(costOf(noOutputPrice, usage({ inputTokens: 10, outputTokens: 5 })), null);
    assert.equal(costOf(noOutputPrice, usage({ inputTokens: 1_000_000 })), 1);
    assert.equal(costOf({ input: null, cachedInput: null, output: null }, usage({})), 0);
  });

  it('through the table: known model, dated snapshot, unknown model', () => {
    const table = new ModelTable();
    const call = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    assert.equal(table.cost('gpt-5.4-nano', call), 0.2 + 1.25);
    assert.equal(table.cost('gpt-5.4-nano-2026-03-17', call), 0.2 + 1.25);
    assert.equal(table.cost('my-local-model', call), null);
    assert.equal(table.cost('gpt-5.1-codex-max', call), null);
  });
});
