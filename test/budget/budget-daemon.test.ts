/**
 * The daemon's spend budget on real parts: a real daemon with a clock the test moves, three goals
 * against fake-openai with a priced model, the ledger on disk, `ralph status` as a user runs it.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { EventEnvelope, Goal } from '../../protocol/index.ts';
import { SpendEntry } from '../../daemon/budget/ledger.ts';
import { ralphPaths } from '../../daemon/paths.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { recordEvents } from '../helpers/events.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { pause, waitFor } from '../helpers/wait.ts';
import { gate, PRICED_MODEL, reply } from '../pipeline/executor-helpers.ts';

/** 4,000 input tokens of gpt-5.4-mini ($0.75 a million): $0.003 a call. */
const CALL_USAGE = { inputTokens: 4000, outputTokens: 0 };
const CALL_USD = 0.003;
/** Two calls fit in a day, the third uses the budget up. */
const DAILY_USD = 0.007;

test('a daily budget: work stops within one call of it, the pipeline is held, research and chat are refused, the next day goes on', async (t) => {
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default { budget: { dailyUsd: ${DAILY_USD} } };\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  // Each goal: one call writes a file, the next says done.
  server.setScenario((request) =>
    request.pendingToolResults.length > 0
      ? { ...reply.done('Wrote it.'), usage: CALL_USAGE }
      : { ...reply.write(`file-${request.requestIndex}.txt`, 'x'), usage: CALL_USAGE },
  );
  // The middle of a local day; the test moves the daemon's clock on a day at a time.
  const clock = { at: new Date(2026, 11, 3, 12, 0, 0) };
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: PRICED_MODEL };
  const { connect, daemon } = await startTestDaemon(t, repo, {
    env,
    worktreesRoot,
    configWatch: false,
    pipeline: { paused: true },
    clock: { now: () => clock.at, tickMs: 20 },
  });
  const client = await connect('budget-test');
  const events = recordEvents(client);
  const ids: number[] = [];
  for (const title of ['First', 'Second', 'Third']) ids.push((await client.request('goal.create', { title, queue: true })).goal.id);
  await client.request('pipeline.resume', {});

  const goals = async (): Promise<Goal[]> => (await client.request('goal.list', {})).goals.filter((goal) => ids.includes(goal.id));
  const held = () => {
    const last = events.filter((event) => event.type === 'pipeline.changed').at(-1) as
      | Extract<EventEnvelope, { type: 'pipeline.changed' }>
      | undefined;
    return last?.data.hold?.reason === 'budget' ? last.data.hold : null;
  };

  let days = 0;
  for (;;) {
    await waitFor(async () => held() ?? (await goals()).every((goal) => goal.state === 'done'), {
      timeoutMs: 15_000,
      message: 'the goals to be done or the budget to hold the pipeline',
    });
    if (!held()) break;
    days++;
    // Nothing more is asked of the model while the pipeline is held.
    const requests = server.modelRequests().length;
    await pause(200);
    assert.equal(server.modelRequests().length, requests, 'no model call while held');

    const { spend, pipeline } = await client.request('daemon.status', {});
    assert.equal(pipeline?.paused, true);
    assert.equal(spend?.level, 'spent');
    // The call that crossed the limit is the day's last: without it the day was within the budget.
    assert.ok(spend!.today.usd >= DAILY_USD && spend!.today.usd - CALL_USD < DAILY_USD, `today: ${spend!.today.usd}`);

    if (days === 1) {
      await assert.rejects(
        client.request('research.start', { questions: ['Why?'] }),
        /spend budget is used up .*: research waits until the day rolls over/,
      );
      await assert.rejects(client.request('chat.send', { text: 'hello' }), /spend budget is used up/);
      assert.deepEqual(await client.request('pipeline.resume', {}), { paused: true }, 'a person cannot resume past the budget');
      assert.ok(
        events.some((event) => event.type === 'budget.warning'),
        'warned at 80 % first',
      );
      assert.ok(events.some((event) => event.type === 'notification' && event.data.kind === 'budget'));
      const status = JSON.parse(succeeded(await ralph(['status', '--json'], { cwd: repo, env: cliEnv() })));
      assert.equal(status.pipeline.hold.reason, 'budget');
      assert.equal(status.spend.level, 'spent');
      const plain = succeeded(await ralph(['status'], { cwd: repo, env: cliEnv() }));
      assert.match(plain, /pipeline +held: the spend budget is used up: \$0\.0090 of the daily \$0\.0070 spent; goes on by itself at /);
      assert.match(plain, /spend today +\$0\.0090, 3 calls of \$0\.0070 a day/);
    }
    assert.ok(days < 4, 'three goals need three days at most');
    // The next day: the daemon's clock moves on, and the pipeline goes on by itself.
    clock.at = new Date(clock.at.getFullYear(), clock.at.getMonth(), clock.at.getDate() + 1, 0, 0, 5);
    await waitFor(() => !held(), { message: 'the pipeline to go on the next day' });
  }
  assert.equal(days, 2, 'the first day ends in the second goal, the second day in the third');

  // The ledger adds up to what the goals recorded, goal by goal.
  await daemon.budget.flush();
  const lines = (await readFile(path.join(ralphPaths(repo).spend, '2026-12.jsonl'), 'utf8')).trim().split('\n');
  const entries = lines.map((line) => SpendEntry.parse(JSON.parse(line)));
  assert.equal(entries.length, server.modelRequests().length, 'one line per model call');
  for (const goal of await goals()) {
    assert.equal(goal.state, 'done');
    const mine = entries.filter((entry) => 'goalId' in entry.scope && entry.scope.goalId === goal.id);
    assert.equal(mine.length, goal.usage.calls);
    assert.equal(
      mine.reduce((sum, entry) => sum + entry.inputTokens, 0),
      goal.usage.inputTokens,
    );
    assert.ok(Math.abs(mine.reduce((sum, entry) => sum + (entry.costUsd ?? 0), 0) - (goal.usage.costUsd ?? 0)) < 1e-9);
  }
  const [, second] = await goals();
  assert.equal(second?.usage.calls, 3, 'the second goal’s stopped iteration spent its one call, then two more the next day');
});

test('the call that uses the budget up ends a chat turn and a research run in flight', async (t) => {
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': 'export default { budget: { dailyUsd: 0.002 } };\n' });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  // Every answer calls a tool, so each turn or agent would go on to another call if nothing stopped it.
  server.setScenario((request) =>
    request.toolNames.includes('list_goals')
      ? { toolCalls: [{ name: 'list_goals', arguments: {} }], usage: CALL_USAGE }
      : { toolCalls: [{ name: 'list_files', arguments: {} }], usage: CALL_USAGE },
  );
  const clock = { at: new Date(2026, 11, 3, 12, 0, 0) };
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: PRICED_MODEL };
  const { connect } = await startTestDaemon(t, repo, { env, configWatch: false, clock: { now: () => clock.at, tickMs: 20 } });
  const client = await connect('budget-test');
  const events = recordEvents(client);

  // Two messages, the second queued behind the first, whose call is held until both are in.
  const held = gate();
  t.after(() => held.open());
  server.script(async () => {
    await held.promise;
    return { toolCalls: [{ name: 'list_goals', arguments: {} }], usage: CALL_USAGE };
  });
  const sent = await client.request('chat.send', { text: 'what goals are there?' });
  const queued = await client.request('chat.send', { text: 'and then?' });
  held.open();
  const replyTo = (id: string) =>
    waitFor(
      () => events.flatMap((event) => (event.type === 'chat.message.done' && event.data.message.id === id ? [event.data.message] : []))[0],
      { message: 'the chat turn to end' },
    );
  const reply = await replyTo(sent.replyMessageId);
  assert.equal(reply.status, 'interrupted');
  assert.equal(reply.error, 'the spend budget was used up during this turn');
  const next = await replyTo(queued.replyMessageId);
  assert.equal(next.status, 'error');
  assert.equal(next.error, 'the spend budget is used up: this turn was not started');
  assert.equal(server.modelRequests().length, 1, 'no second call in the turn, none for the queued turn');

  // The next day, a research run: its first call uses the day's budget up, and the run ends there.
  clock.at = new Date(2026, 11, 4, 9, 0, 0);
  await waitFor(async () => (await client.request('daemon.status', {})).spend?.level === 'ok', { message: 'the new day' });
  const { run } = await client.request('research.start', { questions: ['What is in the repository?'] });
  const ended = await waitFor(
    () =>
      events.flatMap((event) =>
        event.type === 'research.updated' && event.data.run.id === run.id && event.data.run.endedAt ? [event.data.run] : [],
      )[0],
    { message: 'the research run to end' },
  );
  assert.equal(ended.status, 'cancelled');
  assert.equal(ended.agents[0]?.error, 'the spend budget is used up');
  assert.equal(server.modelRequests().length, 2, 'one call for the run: no second step, no consolidation');
});
