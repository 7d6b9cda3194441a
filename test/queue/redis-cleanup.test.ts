/** What finished goals leave in Redis: no stream, no job; the few small keys queue.ts names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConnectionOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { connectionOptions, jobIdFor, logStreamKey, QUEUE_PREFIX, queueNameFor } from '../../daemon/queue/queue.ts';
import { QUEUES_KEY, turnKey } from '../../daemon/queue/turns.ts';
import { waitFor } from '../helpers/wait.ts';
import { startQueue } from './queue-helpers.ts';
import { scanKeys } from './redis-keys.ts';

test('three goals done on two workers: no stream and no job of theirs is left in Redis', async (t) => {
  const queue = await startQueue(t);
  await Promise.all([queue.startWorker('w1'), queue.startWorker('w2')]);
  const goals = [await queue.addGoal('First'), await queue.addGoal('Second'), await queue.addGoal('Third')];
  for (const goal of goals) await queue.waitForState(goal.id, 'done', 25_000);

  const redis = new Redis(connectionOptions(queue.redis.url));
  t.after(() => redis.disconnect());
  const name = await queueNameFor(queue.repoRoot);
  const prefix = `${QUEUE_PREFIX}:${name}:`;
  const leftover = async (): Promise<string[]> =>
    (await scanKeys(redis, `${prefix}*`)).filter((key) => /^(log:\d+|goal-\d+-a\d+-r\d+(:.*)?)$/.test(key.slice(prefix.length)));
  // The last end of each goal's stream is relayed, then the stream goes; each job goes as it finishes.
  await waitFor(async () => ((await leftover()).length === 0 ? true : undefined), {
    timeoutMs: 15_000,
    message: `no stream or job left (${(await leftover()).join(', ')})`,
  });
  assert.equal(await redis.zcard(`${prefix}completed`), 0, 'no completed job kept');
  assert.equal(await redis.zcard(`${prefix}failed`), 0, 'no failed job kept');

  // What stays: each goal's turn, answered and turn-counter keys and its attempt's resume counter (bytes each).
  const kept = (await scanKeys(redis, `${prefix}*`)).map((key) => key.slice(prefix.length));
  for (const goal of goals) {
    for (const small of [`turn:${goal.id}`, `turnseq:${goal.id}`, `answered:${goal.id}`, `resume:${goal.id}:1`]) {
      assert.ok(kept.includes(small), `${small} kept`);
    }
    assert.equal(await redis.get(`${prefix}resume:${goal.id}:1`), '1', 'the next run of the attempt would be r1');
  }

  // Each goal's log holds its worker's lines to the end, streams gone or not.
  for (const goal of goals) {
    const relayed = (await queue.logOf(goal.id)).filter((entry) => typeof entry.streamId === 'string');
    assert.ok(relayed.some((entry) => entry.kind === 'commit'));
    assert.ok(!relayed.some((entry) => entry.refused === true), 'no warning: the worker’s end was taken');
  }
});

test('a job of an attempt that is over, taken late (a stalled job handed on), ends without writing to its goal’s stream', async (t) => {
  const queue = await startQueue(t);
  const name = await queueNameFor(queue.repoRoot);
  const redis = new Redis(connectionOptions(queue.redis.url));
  t.after(() => redis.disconnect());
  await redis.sadd(QUEUES_KEY, name);
  // The daemon ended goal #77's attempt 1 (its turn key says so); its job is still in the queue.
  await redis.set(turnKey(name, 77), JSON.stringify({ end: true }));
  const bull = new Queue(name, { connection: connectionOptions(queue.redis.url) as ConnectionOptions, prefix: QUEUE_PREFIX });
  t.after(() => bull.close());
  const data = { queue: name, goalId: 77, title: 'Over', attempt: 1, remote: queue.remote, branch: 'ralph/goal-77' };
  await bull.add('attempt', data, { jobId: jobIdFor(77, 1, 0), removeOnComplete: true });
  const worker = await queue.startWorker('w1');
  await waitFor(() => worker.stdout().includes('goal #77: attempt 1 is over already'), {
    timeoutMs: 15_000,
    message: `the worker to end the job (worker: ${worker.stdout().slice(-300)})`,
  });
  await waitFor(async () => ((await redis.exists(`${QUEUE_PREFIX}:${name}:${jobIdFor(77, 1, 0)}`)) === 0 ? true : undefined), {
    message: 'the job removed',
  });
  assert.equal(await redis.exists(logStreamKey(name, 77)), 0, 'no line written to a stream no one follows');
});
