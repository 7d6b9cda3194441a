import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCallUsage, addCost, addUsage, CallUsage, emptyCallUsage, emptyUsage, Usage } from './usage.ts';

const call = (inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): CallUsage => ({
  inputTokens,
  cachedInputTokens,
  outputTokens,
  reasoningTokens,
});

describe('usage arithmetic', () => {
  it('adds costs, and a sum with an unknown price is unknown', () => {
    assert.equal(addCost(0.25, 0.5), 0.75);
    assert.equal(addCost(null, 0.5), null);
    assert.equal(addCost(0.25, null), null);
    assert.equal(addCost(null, null), null);
  });

  it("adds calls' tokens, every kind of them, without touching either side", () => {
    const a = call(100, 20, 60, 5);
    const b = call(7, 3, 1, 2);
    assert.deepEqual(addCallUsage(a, b), { inputTokens: 107, cachedInputTokens: 61, outputTokens: 23, reasoningTokens: 7 });
    assert.deepEqual(a, call(100, 20, 60, 5));
    assert.deepEqual(addCallUsage(emptyCallUsage(), b), b);
    assert.notEqual(addCallUsage(emptyCallUsage(), b), b);
    assert.ok(CallUsage.safeParse(emptyCallUsage()).success);
  });

  it("adds a goal's usages: tokens, calls and cost, unknown once a price is", () => {
    const one: Usage = { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 200, calls: 1, costUsd: 0.01 };
    const unpriced: Usage = { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, calls: 1, costUsd: null };
    const two = addUsage(one, { inputTokens: 10, cachedInputTokens: 0, outputTokens: 2, calls: 1, costUsd: 0.02 });
    assert.deepEqual(two, { inputTokens: 1010, cachedInputTokens: 400, outputTokens: 202, calls: 2, costUsd: 0.01 + 0.02 });
    assert.equal(addUsage(two, unpriced).costUsd, null);
    assert.equal(addUsage(addUsage(two, unpriced), one).costUsd, null);
    assert.deepEqual(addUsage(emptyUsage(), one), one);
    assert.ok(Usage.safeParse(two).success);
  });
});
