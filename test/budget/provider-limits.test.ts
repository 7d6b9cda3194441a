/**
 * The provider's limits hold the pipeline rather than fail a goal: a 429 with a long retry-after,
 * and OpenAI's insufficient_quota, in a real daemon against fake-openai, with a clock the test moves.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { EventEnvelope, Goal, PipelineHold } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { recordEvents } from '../helpers/events.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { pause, waitFor } from '../helpers/wait.ts';
import { iterationsOf, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { daemonWithAgent, ended, script } from '../pipeline/external-agent-helpers.ts';

test('a long rate limit and a used-up quota hold the pipeline until the reset, then the goal goes on with its iteration uncounted', async (t) => {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  server.setScenario(() => reply.done('Done.'));
  const clock = { at: new Date(2026, 11, 3, 12, 0, 0) };
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: UNPRICED_MODEL };
  const { connect } = await startTestDaemon(t, repo, {
    env,
    worktreesRoot,
    configWatch: false,
    pipeline: { paused: false },
    clock: { now: () => clock.at, tickMs: 20 },
  });
  const client = await connect('limits-test');
  const events = recordEvents(client);
  const hold = (): PipelineHold | null => {
    const last = events.filter((event) => event.type === 'pipeline.changed').at(-1) as
      | Extract<EventEnvelope, { type: 'pipeline.changed' }>
      | undefined;
    return last?.data.hold ?? null;
  };
  const goal = async (id: number): Promise<Goal> => (await client.request('goal.get', { id })).goal;

  const cases = [
    {
      fault: { kind: '429', retryAfterSeconds: 600 } as const,
      reason: 'rate-limit',
      heldMs: 600_000,
      message: /^rate limited by 127\.0\.0\.1:\d+ after 1 try: /,
    },
    {
      fault: {
        kind: 'status',
        status: 429,
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        message: 'You exceeded your current quota',
      } as const,
      reason: 'quota',
      // No reset given: an hour.
      heldMs: 3_600_000,
      message: /says the account's quota is used up \(429\): You exceeded your current quota$/,
    },
  ];
  for (const { fault, reason, heldMs, message } of cases) {
    server.injectFaults(fault, { times: 1 });
    const requestsBefore = server.modelRequests().length;
    const { goal: created } = await client.request('goal.create', { title: `Through a ${reason}`, queue: true });
    await waitFor(hold, { message: `the ${reason} to hold the pipeline` });
    const held = hold()!;
    assert.equal(held.reason, reason);
    assert.match(held.message, message);
    assert.equal(new Date(held.until!).getTime(), clock.at.getTime() + heldMs, 'held until the reset the provider gave (or an hour)');
    assert.equal(server.modelRequests().length, requestsBefore + 1, 'one try: the SDK does not retry what no retry can cure');

    // Held, visibly: the goal is still running, no iteration was counted, nothing more is asked.
    await pause(200);
    assert.equal(server.modelRequests().length, requestsBefore + 1);
    const waiting = await goal(created.id);
    assert.equal(waiting.state, 'running');
    assert.equal(iterationsOf(waiting).length, 0);
    const status = succeeded(await ralph(['pipeline', 'status'], { cwd: repo, env: cliEnv() }));
    assert.match(status, /pipeline +held: .*; goes on by itself at /);
    assert.equal((await client.request('daemon.status', {})).pipeline?.hold?.reason, reason);

    // The reset comes: the pipeline goes on by itself and the goal is done in its first iteration.
    clock.at = new Date(clock.at.getTime() + heldMs);
    await waitFor(() => !hold(), { message: 'the pipeline to go on at the reset' });
    await waitFor(async () => (await goal(created.id)).state === 'done', { timeoutMs: 10_000, message: 'the goal to be done' });
    const done = await goal(created.id);
    assert.equal(iterationsOf(done).length, 1, 'the try the limit refused is not an iteration');
  }
});

test('an agent CLI out of quota holds the pipeline too, until the reset it gave; its iteration is not counted', async (t) => {
  const dir = await makeTempDir(undefined, 'ralph-agent-');
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const once = path.join(dir, 'out-of-quota-once');
  const line = (event: object) => `echo '${JSON.stringify(event)}'`;
  const agent = await script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      `if [ ! -e '${once}' ]; then touch '${once}'; ${line({ type: 'error', kind: 'quota', message: 'You have run out of credits', retryAfterSeconds: 0.3 })}; exit 1; fi`,
      'echo hello > hello.txt',
      line({ type: 'result', text: 'RALPH_GOAL_DONE: hello.txt is written', ok: true }),
    ].join('\n'),
  );
  const { client } = await daemonWithAgent(t, { command: [agent], output: 'stream-json' });
  const events = recordEvents(client);
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const done = await ended(client, goal.id);
  assert.equal(done.state, 'done');
  assert.equal(iterationsOf(done).length, 1, 'the refused try is not an iteration');
  const holds = events.flatMap((event) => (event.type === 'pipeline.changed' && event.data.hold ? [event.data.hold] : []));
  assert.equal(holds[0]?.reason, 'quota');
  assert.match(holds[0]?.message ?? '', /You have run out of credits/);
});
