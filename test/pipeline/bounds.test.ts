/** Each bound of an attempt ends the goal stuck with its reason (iterations, time, cost, tokens, stalls). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate, iterationsOf, PRICED_MODEL, reply, startExecutor, UNPRICED_MODEL } from './executor-helpers.ts';

/** Each iteration writes a different file, so no iteration is "no change". */
function writesEveryTime(h: Awaited<ReturnType<typeof startExecutor>>): void {
  h.server.setScenario((request) =>
    request.pendingToolResults.length > 0 ? reply.text('Wrote a file; more to do.') : reply.write(`file-${request.requestIndex}.txt`, 'x'),
  );
}

test('the iteration bound: a goal that never finishes is stuck after maxIterations', async (t) => {
  const h = await startExecutor(t, { executor: { maxIterations: 2, verify: 'false' } });
  writesEveryTime(h);
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.equal(iterationsOf(goal).length, 2);
  assert.match(
    goal.attempts[0]?.reason ?? '',
    /^iteration bound reached: 2 iterations without finishing \(the bound is 2, executor.maxIterations\)$/,
  );
  assert.equal(goal.history.at(-1)?.note, goal.attempts[0]?.reason, 'the reason is the transition’s note');
});

test('the time bound stops an iteration in the middle of a model call', async (t) => {
  // 0.02 minutes: 1.2 s of active time, while the model's answer is held back.
  const h = await startExecutor(t, { executor: { maxMinutes: 0.02 } });
  const held = gate();
  t.after(() => held.open());
  h.server.script(async () => {
    await held.promise;
    return reply.text('too late');
  });
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  held.open();
  assert.equal(goal.state, 'stuck');
  assert.match(goal.attempts[0]?.reason ?? '', /^time bound reached: .* \(the bound is 1\.2 s, executor\.maxMinutes\)$/);
  const [iteration] = iterationsOf(goal);
  assert.equal(iteration?.doneClaimed, false);
  assert.match(iteration?.summary ?? '', /stopped before a summary: time bound reached/);
  assert.ok(
    h.server.requests.some((request) => request.aborted),
    'the model request was aborted',
  );
});

test('the cost bound: a priced model and a tiny maxCostUsd stop the goal after the first call', async (t) => {
  const h = await startExecutor(t, { model: PRICED_MODEL, executor: { maxCostUsd: 0.000001 } });
  h.server.script({ ...reply.write('a.txt', 'a'), usage: { inputTokens: 1000, outputTokens: 100 } }, reply.done('never reached'));
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.match(
    goal.attempts[0]?.reason ?? '',
    /^cost bound reached: \$0\.0012 spent in this attempt \(the bound is \$0\.000001, executor\.maxCostUsd\)$/,
  );
  assert.equal(goal.usage.calls, 1, 'no second model call');
  assert.ok((goal.usage.costUsd ?? 0) > 0.001);
});

test('the token bound applies where the price is unknown', async (t) => {
  const h = await startExecutor(t, { model: UNPRICED_MODEL, executor: { maxTokens: 1000 } });
  h.server.script({ ...reply.write('a.txt', 'a'), usage: { inputTokens: 5000, outputTokens: 10 } });
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.equal(goal.usage.costUsd, null);
  assert.match(goal.attempts[0]?.reason ?? '', /^token bound reached: 5,010 tokens used in this attempt, at an unknown price/);
});

test('a stall: three iterations in a row that change nothing', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'false' } });
  h.server.setScenario(() => reply.text('I looked around and changed nothing.'));
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.equal(goal.attempts[0]?.reason, 'stalled: 3 iterations in a row changed nothing');
  assert.deepEqual(
    iterationsOf(goal).map((iteration) => iteration.commit),
    [null, null, null],
  );
});

test('a stall: the check fails the same way three times in a row (numbers such as durations aside)', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'echo "1 failing test in $RANDOM ms"; exit 1' } });
  writesEveryTime(h);
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.equal(goal.attempts[0]?.reason, 'stalled: the check failed the same way 3 times in a row');
  assert.equal(iterationsOf(goal).length, 3);
  assert.ok(
    iterationsOf(goal).every((iteration) => iteration.commit !== null),
    'each iteration changed something',
  );
});

test('a rate limit that outlasts the provider’s retries pauses the iteration instead of burning it', async (t) => {
  const h = await startExecutor(t, { executor: { maxIterations: 1 }, tuning: { retry: { rateLimitWaitMs: 20 } } });
  h.server.injectFaults({ kind: '429', retryAfterMs: 10 }, { times: 2 });
  h.server.script(reply.done('Done after the wait.'));
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'done', `done within one iteration (reason: ${goal.attempts[0]?.reason})`);
  assert.equal(iterationsOf(goal).length, 1);
  const warnings = (await h.logOf(created.id)).filter((entry) => entry.kind === 'warning').map((entry) => entry.text);
  assert.equal(warnings.filter((text) => /still rate limited/.test(text)).length, 2);
});

test('server failures are tried again a few times, then the goal is stuck with the provider’s message', async (t) => {
  const h = await startExecutor(t, { tuning: { retry: { providerRetryMs: 10, providerFailureLimit: 2 } } });
  h.server.injectFaults({ kind: '500' });
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.match(goal.attempts[0]?.reason ?? '', /^the model provider failed 2 times in a row: /);
  assert.equal(iterationsOf(goal).length, 0);
});
