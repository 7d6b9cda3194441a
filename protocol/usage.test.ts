import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCallUsage, addCost, addUsage, CallUsage, emptyCallUsage, emptyUsage, Usage, usageOfCall } from './usage.ts';

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
    const one = usageOfCall(call(1000, 200, 400, 50), 0.01);
    assert.deepEqual(one, { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 200, calls: 1, costUsd: 0.01 });
    const two = addUsage(one, usageOfCall(call(10, 2), 0.02));
    assert.deepEqual(two, { inputTokens: 1010, cachedInputTokens: 400, outputTokens: 202, calls: 2, costUsd: 0.01 + 0.02 });
    assert.equal(addUsage(two, usageOfCall(call(1, 1), null)).costUsd, null);
    assert.equal(addUsage(addUsage(two, usageOfCall(call(1, 1), null)), one).costUsd, null);
    assert.deepEqual(addUsage(emptyUsage(), one), one);
    assert.ok(Usage.safeParse(two).success);
  });
});
