import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventData, LogEntry, QueueStatus } from '../../protocol/index.ts';
import { startTestDaemon } from '../../test/helpers/daemon.ts';
import { EventBus } from '../events/bus.ts';
import { QueueStatusBoard } from './queue-status.ts';

const line = (goalId: number, index: number, worker?: unknown): LogEntry => ({
  goalId,
  index,
  time: '2025-01-02T03:04:05.000Z',
  kind: 'note',
  text: 'x',
  ...(worker === undefined ? {} : { worker }),
});

function watch(bus: EventBus): { types: string[]; changes: QueueStatus[] } {
  const seen = { types: [] as string[], changes: [] as QueueStatus[] };
  bus.subscribe(({ envelope }) => {
    seen.types.push(envelope.type);
    if (envelope.type === 'queue.changed') seen.changes.push(envelope.data as EventData<'queue.changed'>);
  });
  return seen;
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('reachability changes are announced once each, after the event that caused them', async () => {
  const bus = new EventBus();
  const seen = watch(bus);
  const board = new QueueStatusBoard(bus, 'redis://:***@q:6379');
  board.setReachable(false);
  await settled();
  assert.equal(seen.changes.length, 0, 'unreachable from the start: nothing changed');
  board.setReachable(true);
  board.setReachable(true);
  await settled();
  board.setReachable(false);
  await settled();
  assert.deepEqual(
    seen.changes.map((status) => status.reachable),
    [true, false],
  );
  assert.equal(seen.changes[0]?.url, 'redis://:***@q:6379');
  board.close();
});

test("a followed goal's worker is the one its relayed lines name, cleaned; a takeover and the attempt's end are announced", async () => {
  const bus = new EventBus();
  const seen = watch(bus);
  const board = new QueueStatusBoard(bus, 'redis://q:6379');
  board.follow(2);
  bus.publish('log.appended', { goalId: 2, entries: [line(2, 0), line(2, 1, 'worker-a')] });
  bus.publish('log.appended', { goalId: 2, entries: [line(2, 2, 'worker-a')] });
  // Not followed (a goal run here, or one whose attempt ended): its lines say nothing of workers.
  bus.publish('log.appended', { goalId: 3, entries: [line(3, 0, 'elsewhere')] });
  await settled();
  assert.equal(seen.types[0], 'log.appended', 'announced after the line that named it, never before');
  assert.deepEqual(seen.changes, [{ url: 'redis://q:6379', reachable: false, workers: [{ goalId: 2, worker: 'worker-a' }] }]);

  bus.publish('log.appended', { goalId: 2, entries: [line(2, 3, `next\u001b]0;owned\u0007\n${'n'.repeat(300)}`)] });
  await settled();
  const [takenOver] = seen.changes[1]?.workers ?? [];
  assert.equal(takenOver?.goalId, 2);
  assert.match(takenOver?.worker ?? '', /^next \]0;owned n+$/);
  assert.equal(takenOver?.worker.length, 100, 'bounded');

  bus.publish('log.appended', { goalId: 2, entries: [line(2, 4, 42), line(2, 5, '\u0007')] });
  await settled();
  assert.equal(seen.changes.length, 2, 'what is not a name changes nothing');

  board.forget(2);
  await settled();
  assert.deepEqual(seen.changes[2]?.workers, []);
  bus.publish('log.appended', { goalId: 2, entries: [line(2, 6, 'late')] });
  await settled();
  assert.equal(seen.changes.length, 3, 'forgotten: no longer followed');
  board.close();
});

test('a daemon whose goals run on its own machine tells clients of no queue', async (t) => {
  const { connect } = await startTestDaemon(t);
  const client = await connect('tui');
  assert.equal(client.snapshot.queue, undefined);
  assert.equal((await client.request('daemon.status', {})).queue, undefined);
});
