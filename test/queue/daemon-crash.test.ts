/** kill -9 a daemon whose goal runs on a queue worker: the next daemon catches up on the goal's log and finishes it. */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { EventBus } from '../../daemon/events/bus.ts';
import { connectionOptions, logStreamKey, QUEUE_PREFIX, queueNameFor } from '../../daemon/queue/queue.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import { RalphClient } from '../../protocol/client.ts';
import { Goal, type LogEntry } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { startRedis } from '../helpers/redis.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startWorkerProcess, twoIterationScenario } from './queue-helpers.ts';
import { scanKeys } from './redis-keys.ts';

async function startDaemon(t: TestContext, repo: string, env: NodeJS.ProcessEnv) {
  const daemon = spawnDaemon(t, repo, 'background', env);
  const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; error?: string };
  assert.equal(ready.ready, true, `the daemon started (${ready.error ?? ''})`);
  return daemon;
}

async function logEntries(repo: string, goalId: number): Promise<LogEntry[]> {
  return (await new GoalLog(repo, new EventBus()).read(goalId, { from: 0, limit: 10_000 })).entries;
}

test('kill -9 the daemon while a worker runs its goal: the next daemon writes every line the worker wrote, none twice, and the goal is done', async (t) => {
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
  const env: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: '',
    RALPH_QUEUE_URL: redis.url,
    XDG_STATE_HOME: path.join(scratch, 'state'),
  };
  const held = gate();
  t.after(() => held.open());
  let heldAsked = false;
  server.script(reply.write('a.txt', 'a\n'), async () => {
    heldAsked = true;
    await held.promise;
    return reply.text('Wrote a.txt.');
  });
  await startWorkerProcess(t, { name: 'w1', url: redis.url, scratch, modelUrl: server.url });

  const first = await startDaemon(t, repo, env);
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'queue-crash', requestTimeoutMs: 10_000 });
  defer(t, () => client.close());
  const { goal } = await client.request('goal.create', { title: 'Write a.txt', queue: true });
  await waitFor(() => heldAsked, { timeoutMs: 15_000, message: 'the held model call' });
  await waitFor(async () => (await logEntries(repo, goal.id)).some((entry) => entry.kind === 'tool' && entry.worker === 'w1'), {
    message: "the worker's first line in the daemon's log",
  });
  first.child.kill('SIGKILL');
  await first.exited;
  await client.close();
  // The worker goes on without a daemon: its iteration ends, commits and reports while no one reads.
  held.open();

  const second = await startDaemon(t, repo, env);
  const done = await waitFor(
    async () => {
      const parsed = Goal.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'goals', `${goal.id}.json`), 'utf8')));
      return parsed.state === 'done' || parsed.state === 'stuck' ? parsed : undefined;
    },
    { timeoutMs: 20_000, message: 'the goal to end' },
  );
  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  assert.deepEqual(
    done.attempts.at(-1)?.iterations?.map((iteration) => iteration.number),
    [1, 2],
    'iteration 1 ran once, across the restart',
  );
  assert.equal(git(repo, 'show', `ralph/goal-${goal.id}:a.txt`), 'a');

  const relayed = (await logEntries(repo, goal.id)).filter((entry) => typeof entry.streamId === 'string');
  const ids = relayed.map((entry) => entry.streamId);
  assert.equal(new Set(ids).size, ids.length, 'no line twice');
  const texts = relayed.map((entry) => entry.text);
  assert.equal(texts.filter((text) => text === 'worker w1 runs attempt 1').length, 1);
  assert.equal(relayed.filter((entry) => entry.kind === 'tool').length, 1, 'the one tool call, once');
  assert.ok(
    relayed.some((entry) => entry.kind === 'commit' && entry.iteration === 1),
    "iteration 1's commit line, written by the worker while no daemon ran",
  );

  // Nothing of the goal's is left in Redis: its stream relayed to its end and deleted, its jobs removed.
  const redisClient = new Redis(connectionOptions(redis.url));
  t.after(() => redisClient.disconnect());
  const name = await queueNameFor(repo);
  const key = logStreamKey(name, goal.id);
  const leftover = async (): Promise<string[]> =>
    (await scanKeys(redisClient, `${QUEUE_PREFIX}:${name}:*`)).filter((found) => found === key || found.includes(`:goal-${goal.id}-`));
  await waitFor(async () => ((await leftover()).length === 0 ? true : undefined), {
    message: `no stream or job of the goal left (${(await leftover()).join(', ')})`,
  });

  // A daemon killed after relaying a stream's end but before deleting it leaves the ended stream: the next start deletes it.
  second.child.kill('SIGKILL');
  await second.exited;
  await redisClient.xadd(key, '*', 'm', JSON.stringify({ type: 'end' }));
  await startDaemon(t, repo, env);
  await waitFor(async () => (await redisClient.exists(key)) === 0, { message: 'the ended stream deleted at start' });
  const after = (await logEntries(repo, goal.id)).filter((entry) => typeof entry.streamId === 'string');
  assert.equal(after.length, relayed.length, 'nothing written twice by the third daemon');
});
