import assert from 'node:assert/strict';
import { truncate, stat } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { EventEnvelope } from '../../protocol/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { EventBus } from '../events/bus.ts';
import { GoalLog } from '../store/goal-log.ts';
import { LogStreamFollower, LogStreamWriter } from './log-stream.ts';
import { connectionOptions, logStreamKey } from './queue.ts';

async function fixture(t: TestContext, options: Parameters<typeof startRedis>[0] = {}) {
  const redis = await startRedis(options);
  const clients: Redis[] = [];
  const client = (): Redis => {
    const made = new Redis(connectionOptions(redis.url));
    clients.push(made);
    return made;
  };
  t.after(async () => {
    for (const made of clients) made.disconnect();
    await redis.dispose();
  });
  const repoRoot = await makeTempDir(t);
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((event) => events.push(event.envelope));
  return { redis, client, repoRoot, bus, events, key: logStreamKey('ralph-test', 4) };
}

test("a worker's entries and progress reach the goal's log and the bus in order, with the worker's name", async (t) => {
  const { client, repoRoot, bus, events, key } = await fixture(t);
  const log = new GoalLog(repoRoot, bus);
  const writer = new LogStreamWriter(client(), key);
  const follower = new LogStreamFollower({ redis: client(), key, goalId: 4, log, bus, worker: 'box-a' });
  for (let i = 0; i < 1200; i++) void writer.log({ kind: 'tool', text: `line ${i}` });
  await writer.event('progress.report', { token: 'goal:4:1', message: 'halfway' });
  await writer.log({ kind: 'note', text: 'last' });
  await writer.end();
  await follower.finished;
  assert.equal(follower.reachedEnd, true);

  const page = await log.read(4, { from: 0, limit: 5000 });
  assert.deepEqual(
    page.entries.map((entry) => entry.text),
    [...Array.from({ length: 1200 }, (_, i) => `line ${i}`), 'last'],
  );
  assert.ok(page.entries.every((entry) => entry.worker === 'box-a' && typeof entry.streamId === 'string'));
  const progress = events.filter((event) => event.type === 'progress.report');
  assert.deepEqual(
    progress.map((event) => event.data),
    [{ token: 'goal:4:1', message: 'halfway' }],
  );
});

test('a follower started again goes on after the last entry its log holds: none lost, none twice, a torn last line written again', async (t) => {
  const { client, repoRoot, bus, key } = await fixture(t);
  const writer = new LogStreamWriter(client(), key);
  for (let i = 0; i < 50; i++) await writer.log({ kind: 'tool', text: `line ${i}` });

  const first = new GoalLog(repoRoot, bus);
  const follower = new LogStreamFollower({ redis: client(), key, goalId: 4, log: first, bus, worker: 'box-a' });
  await waitFor(async () => (await first.read(4, { tail: 1 })).total === 50, { message: 'the first 50 lines relayed' });
  await follower.stop();

  // The daemon died mid-append: its last line is torn (a reader skips it).
  const file = first.fileOf(4);
  await truncate(file, (await stat(file)).size - 5);
  for (let i = 50; i < 80; i++) await writer.log({ kind: 'tool', text: `line ${i}` });
  await writer.end();

  const second = new GoalLog(repoRoot, bus);
  const again = new LogStreamFollower({ redis: client(), key, goalId: 4, log: second, bus, worker: 'box-a' });
  await again.finished;
  const page = await second.read(4, { from: 0, limit: 500 });
  assert.deepEqual(
    page.entries.map((entry) => entry.text),
    Array.from({ length: 80 }, (_, i) => `line ${i}`),
  );
});

test('a follower waits out a Redis that stopped, and relays what is written once it is back', async (t) => {
  const { redis, client, repoRoot, bus, key } = await fixture(t, { appendOnly: true });
  const log = new GoalLog(repoRoot, bus);
  const writer = new LogStreamWriter(client(), key);
  const follower = new LogStreamFollower({ redis: client(), key, goalId: 4, log, bus, worker: 'box-a' });
  await writer.log({ kind: 'tool', text: 'before' });
  await waitFor(async () => (await log.read(4, { tail: 1 })).total === 1, { message: 'the first line relayed' });
  await redis.stop();
  await redis.start();
  await writer.log({ kind: 'tool', text: 'after' });
  await writer.end();
  await follower.finished;
  const texts = (await log.read(4, { from: 0, limit: 10 })).entries.map((entry) => entry.text);
  assert.deepEqual(texts, ['before', 'after']);
});
