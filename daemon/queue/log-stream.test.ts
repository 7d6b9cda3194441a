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
import { dropRelayedStream, LogStreamFollower, LogStreamWriter, REFUSED_WARNINGS_MAX } from './log-stream.ts';
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

test('a stream relayed to its end goes; one whose end a killed daemon relayed but did not delete goes at the next start, unless its log lacks a line', async (t) => {
  const { client, repoRoot, bus } = await fixture(t);
  const redis = client();
  const log = new GoalLog(repoRoot, bus);

  // Relayed to the end while the attempt is over: deleted by the follower.
  const ended = logStreamKey('ralph-test', 5);
  const writer = new LogStreamWriter(client(), ended);
  await writer.log({ kind: 'tool', text: 'one' });
  await writer.end();
  await new LogStreamFollower({ redis: client(), key: ended, goalId: 5, log, bus, worker: 'w', attemptOver: () => true }).finished;
  assert.equal(await redis.exists(ended), 0);

  // A daemon killed between relaying and deleting: the lines are in the log, the stream's last message is the end.
  const left = logStreamKey('ralph-test', 6);
  const leftWriter = new LogStreamWriter(client(), left);
  await leftWriter.log({ kind: 'tool', text: 'one' });
  await leftWriter.log({ kind: 'tool', text: 'two' });
  const stopped = new LogStreamFollower({ redis: client(), key: left, goalId: 6, log, bus, worker: 'w' });
  await waitFor(async () => (await log.read(6, { tail: 1 })).total === 2, { message: 'both lines relayed' });
  await stopped.stop();
  assert.equal(await redis.exists(left), 1, 'a follower stopped while the attempt may go on keeps the stream');
  assert.equal(await dropRelayedStream(redis, left, log, 6), false, 'not ended yet');
  await leftWriter.end();
  assert.equal(await dropRelayedStream(redis, left, log, 6), true);
  assert.equal(await redis.exists(left), 0);

  // Ended, but its last line never reached the log: kept for a follower to relay.
  const unread = logStreamKey('ralph-test', 7);
  const unreadWriter = new LogStreamWriter(client(), unread);
  await unreadWriter.log({ kind: 'tool', text: 'never relayed' });
  await unreadWriter.end();
  assert.equal(await dropRelayedStream(redis, unread, log, 7), false);
  assert.equal(await redis.exists(unread), 1);
});

test('an end written while the attempt goes on is refused with a warning, and the follower relays on', async (t) => {
  const { client, repoRoot, bus, key } = await fixture(t);
  const log = new GoalLog(repoRoot, bus);
  const writer = new LogStreamWriter(client(), key);
  let over = false;
  const follower = new LogStreamFollower({ redis: client(), key, goalId: 4, log, bus, worker: 'w', attemptOver: () => over });
  await writer.log({ kind: 'tool', text: 'before' });
  await writer.end();
  await writer.log({ kind: 'tool', text: 'after' });
  await waitFor(async () => (await log.read(4, { tail: 1 })).total === 3, { message: 'three entries' });
  over = true;
  await writer.end();
  await follower.finished;
  const entries = (await log.read(4, { from: 0, limit: 10 })).entries;
  assert.deepEqual(
    entries.map((entry) => [entry.kind, entry.text.replace(/^stream entry \S+/, 'stream entry ID')]),
    [
      ['tool', 'before'],
      ['warning', 'stream entry ID skipped: an end while the attempt goes on: {\\"type\\":\\"end\\"}'],
      ['tool', 'after'],
    ],
  );
  assert.equal(follower.reachedEnd, true);
});

test('a flood of junk in a stream is warned of up to a bound, then skipped with one line saying so; the lines after it are relayed', async (t) => {
  const { client, repoRoot, bus, key } = await fixture(t);
  const log = new GoalLog(repoRoot, bus);
  const redis = client();
  const junk = REFUSED_WARNINGS_MAX + 50;
  const pipeline = redis.pipeline();
  for (let i = 0; i < junk; i++) pipeline.xadd(key, '*', 'm', `junk ${i}`);
  await pipeline.exec();
  const writer = new LogStreamWriter(client(), key);
  await writer.log({ kind: 'tool', text: 'real' });
  await writer.end();
  await new LogStreamFollower({ redis: client(), key, goalId: 4, log, bus, worker: 'w' }).finished;
  const entries = (await log.read(4, { from: 0, limit: 1000 })).entries;
  assert.equal(entries.length, REFUSED_WARNINGS_MAX + 2);
  assert.ok(entries.slice(0, REFUSED_WARNINGS_MAX).every((entry) => / skipped: not JSON: junk \d+$/.test(entry.text)));
  assert.match(entries[REFUSED_WARNINGS_MAX]?.text ?? '', /skipped, and the ones refused after it with no warning: more than 100 refused$/);
  assert.equal(entries.at(-1)?.text, 'real');
});
