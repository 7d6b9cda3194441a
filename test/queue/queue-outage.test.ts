/** Redis stopped and started under a daemon whose goals run on a queue worker: it says so, goals wait, none is lost or run twice. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, ralph } from '../helpers/cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { startRedis } from '../helpers/redis.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startWorkerProcess, twoIterationScenario } from './queue-helpers.ts';

test('Redis stopped and started: the daemon says "queue unreachable" meanwhile, a goal queued then waits, and every goal is done once', async (t) => {
  const redis = await startRedis({ appendOnly: true });
  defer(t, () => redis.dispose());
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': "export default { executor: { backend: 'queue' } };\n" });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const scratch = await makeTempDir(undefined, 'ralph-queue-');
  defer(t, () => rm(scratch, { recursive: true, force: true }));
  git(scratch, 'init', '--quiet', '--bare', path.join(scratch, 'remote.git'));
  git(repo, 'remote', 'add', 'origin', path.join(scratch, 'remote.git'));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  server.setScenario(twoIterationScenario);
  const env = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: '',
    RALPH_QUEUE_URL: redis.url,
  };
  const { connect } = await startTestDaemon(t, repo, { env, configWatch: false, pipeline: {} });
  const client = await connect('queue-outage');
  // Every client is told: the snapshot has the queue, each change comes as queue.changed.
  assert.deepEqual(client.snapshot.queue, { url: redis.url, reachable: true, workers: [] });
  const reachability: boolean[] = [];
  const named = new Set<string>();
  client.on('event', (event) => {
    if (event.type !== 'queue.changed') return;
    if (event.data.reachable !== reachability.at(-1)) reachability.push(event.data.reachable);
    for (const { goalId, worker } of event.data.workers) named.add(`#${goalId} on ${worker}`);
  });
  await startWorkerProcess(t, { name: 'w1', url: redis.url, scratch, modelUrl: server.url });
  const doneOf = (id: number) =>
    waitFor(async () => (await client.request('goal.get', { id })).goal.state === 'done', {
      timeoutMs: 20_000,
      message: `goal #${id} done`,
    });

  const { goal: before } = await client.request('goal.create', { title: 'Before the outage', queue: true });
  await doneOf(before.id);
  await waitFor(async () => (await client.request('daemon.status', {})).pipeline?.running.length === 0, { message: 'the run to end' });
  assert.deepEqual((await client.request('daemon.status', {})).queue, { url: redis.url, reachable: true, workers: [] });

  await redis.stop();
  await waitFor(async () => (await client.request('daemon.status', {})).queue?.reachable === false, { message: 'the queue unreachable' });
  const shown = await ralph(['daemon', 'status', '--repo', repo], { env: cliEnv() });
  assert.match(shown.stdout, /queue unreachable/);
  const { goal: during } = await client.request('goal.create', { title: 'During the outage', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: during.id })).goal.state === 'running', {
    message: 'the goal to start',
  });

  await redis.start();
  await doneOf(during.id);
  assert.equal((await client.request('daemon.status', {})).queue?.reachable, true);
  assert.deepEqual(reachability, [true, false, true], 'queue.changed: the worker named (reachable), unreachable, reachable again');
  assert.deepEqual([...named], [`#${before.id} on w1`, `#${during.id} on w1`]);
  for (const id of [before.id, during.id]) {
    const { goal } = await client.request('goal.get', { id });
    assert.deepEqual(
      goal.attempts.map((attempt) => attempt.iterations?.map((iteration) => iteration.number)),
      [[1, 2]],
      `goal #${id} ran once`,
    );
    assert.equal(git(repo, 'show', `ralph/goal-${id}:goal-${id}.txt`), `goal ${id}`);
  }
});
