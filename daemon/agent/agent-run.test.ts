import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallUsage } from '../../protocol/index.ts';
import { ModelTable } from '../llm/models.ts';
import type { AgentEvent } from './agent-loop.ts';
import { AgentRun, type PricedCall } from './agent-run.ts';

/** Priced at $1 per million in, $10 per million out (no cached rate: cached tokens at the input rate). */
const models = new ModelTable([{ id: 'priced', pricing: { input: 1, cachedInput: null, output: 10 } }]);

const usage = (inputTokens: number, outputTokens: number, reasoningTokens = 0): CallUsage => ({
  inputTokens,
  cachedInputTokens: 0,
  outputTokens,
  reasoningTokens,
});

const done = (text: string): AgentEvent => ({ type: 'done', text, items: [], steps: 1, reason: 'answered' });

async function* loop(...events: AgentEvent[]): AsyncGenerator<AgentEvent> {
  for (const event of events) yield event;
}

describe('agent run', () => {
  test('adds up the usage, the cost, the calls and the waits of every loop it follows', async () => {
    const run = new AgentRun(models);
    await run.follow(
      loop(
        { type: 'step', step: 1, maxSteps: 2 },
        { type: 'wait', reason: 'rate-limit', seconds: 1.5, attempt: 1 },
        { type: 'usage', step: 1, model: 'priced', usage: usage(1_000_000, 100_000, 40) },
        { type: 'step', step: 2, maxSteps: 2 },
        { type: 'usage', step: 2, model: 'priced', usage: usage(2_000_000, 0) },
        done('first'),
      ),
      {},
    );
    assert.deepEqual(run.usage, { inputTokens: 3_000_000, cachedInputTokens: 0, outputTokens: 100_000, reasoningTokens: 40 });
    assert.equal(run.costUsd, 4);
    assert.equal(run.calls, 2);
    assert.equal(run.waitedMs, 1500);

    // A second loop (a research agent's report step) goes on from these totals.
    await run.follow(loop({ type: 'usage', step: 1, model: 'priced', usage: usage(0, 100_000) }, done('second')), {});
    assert.deepEqual(run.spend(), { inputTokens: 3_000_000, cachedInputTokens: 0, outputTokens: 200_000, calls: 3, costUsd: 5 });
  });

  test('the cost becomes unknown once one call is of a model without a price, and stays unknown', async () => {
    const run = new AgentRun(models);
    const priced: (number | null)[] = [];
    await run.follow(
      loop(
        { type: 'usage', step: 1, model: 'priced', usage: usage(1_000_000, 0) },
        { type: 'usage', step: 2, model: 'no-such-model', usage: usage(10, 10) },
        { type: 'usage', step: 3, model: 'priced', usage: usage(1_000_000, 0) },
        done(''),
      ),
      { usage: (call) => void priced.push(call.costUsd) },
    );
    assert.deepEqual(priced, [1, null, 1]);
    assert.equal(run.costUsd, null);
    assert.equal(run.usage.inputTokens, 2_000_010);
  });

  test('hands each event to its hook in order, the usage priced and already in the totals; returns the done', async () => {
    const run = new AgentRun(models);
    const seen: string[] = [];
    let call: PricedCall | undefined;
    const end = await run.follow(
      loop(
        { type: 'step', step: 1, maxSteps: 1 },
        { type: 'text.delta', step: 1, delta: 'hi' },
        { type: 'usage', step: 1, model: 'priced', usage: usage(1_000_000, 0) },
        done('hi'),
      ),
      {
        step: (event) => void seen.push(`step ${event.step}`),
        'text.delta': async (event) => {
          // Awaited before the next event: what a hook writes is written in order.
          await new Promise((resolve) => setImmediate(resolve));
          seen.push(`text ${event.delta}`);
        },
        usage: (priced) => {
          call = priced;
          seen.push(`usage, total ${run.usage.inputTokens}`);
        },
        done: (event) => void seen.push(`done ${event.text}`),
      },
    );
    assert.deepEqual(seen, ['step 1', 'text hi', 'usage, total 1000000', 'done hi']);
    assert.equal(call?.costUsd, 1);
    assert.equal(call?.model, 'priced');
    assert.equal(end.text, 'hi');
  });

  test('a hook that throws ends the follow with its error', async () => {
    const run = new AgentRun(models);
    await assert.rejects(
      run.follow(loop({ type: 'step', step: 1, maxSteps: 1 }, done('')), {
        step: () => {
          throw new Error('stop here');
        },
      }),
      /stop here/,
    );
  });

  test('a loop that ends without its done is an error', async () => {
    await assert.rejects(new AgentRun(models).follow(loop({ type: 'step', step: 1, maxSteps: 1 }), {}), /without a result/);
  });
});
