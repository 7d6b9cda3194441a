/** The delta coalescer on a real bus: bursts merged per part, lone deltas not held, order kept. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventEnvelope } from '../../protocol/index.ts';
import { EventBus } from './bus.ts';
import { DeltaCoalescer, MAX_HOLD_MS, MAX_MERGED_DELTA_CHARS } from './delta-coalescer.ts';

function setup() {
  const bus = new EventBus();
  const seen: EventEnvelope[] = [];
  bus.subscribe((event) => seen.push(event.envelope));
  return { bus, seen, coalescer: new DeltaCoalescer(bus) };
}

const cause = { client: 'c1', request: 7 };
const delta = (partId: string, text: string) => ({ session: 's1', messageId: 'm1', partId, delta: text });
/** Each event as `type:text` (the delta's text, or the part's id), to compare orders at a glance. */
const shape = (events: EventEnvelope[]) =>
  events.map((event) => (event.type === 'chat.delta' ? `delta:${event.data.partId}:${event.data.delta}` : event.type));

test('deltas of one part in the same turn of the loop go out as one event on the next, in order, with their cause', async () => {
  const { seen, coalescer } = setup();
  for (const word of ['Hello', ',', ' wide', ' world']) coalescer.publish('chat.delta', delta('p1', word), cause);
  assert.equal(seen.length, 0, 'held until the loop turns');

  await nextTurn();
  assert.deepEqual(shape(seen), ['delta:p1:Hello, wide world']);
  assert.deepEqual(seen[0]?.cause, cause);
});

test('a lone delta is not held past the turn of the loop, and later ones go out on their own', async () => {
  const { seen, coalescer } = setup();
  coalescer.publish('chat.delta', delta('p1', 'one'), cause);
  await nextTurn();
  coalescer.publish('chat.delta', delta('p1', ' two'), cause);
  await nextTurn();
  assert.deepEqual(shape(seen), ['delta:p1:one', 'delta:p1: two']);
});

test('any other event goes out after the text held back, at once; a new part or cause starts a new delta', async () => {
  const { seen, coalescer } = setup();
  coalescer.publish('chat.delta', delta('p1', 'Let me look'), cause);
  coalescer.publish('chat.delta', delta('p1', ' it up.'), cause);
  coalescer.publish(
    'chat.part',
    {
      session: 's1',
      messageId: 'm1',
      part: { id: 'p2', type: 'tool', callId: 'x', name: 'list_goals', arguments: '{}', status: 'running' },
    },
    cause,
  );
  assert.deepEqual(shape(seen), ['delta:p1:Let me look it up.', 'chat.part'], 'published synchronously, text first');

  coalescer.publish('chat.delta', delta('p3', 'Found'), cause);
  coalescer.publish('chat.delta', delta('p4', 'Other'), cause);
  coalescer.publish('chat.delta', delta('p4', ' cause'), { client: 'c2', request: 1 });
  await nextTurn();
  assert.deepEqual(shape(seen).slice(2), ['delta:p3:Found', 'delta:p4:Other', 'delta:p4: cause']);
  assert.deepEqual(seen.at(-1)?.cause, { client: 'c2', request: 1 });
});

test('flush publishes what is held at once, and once: the scheduled flush then finds nothing', async () => {
  const { seen, coalescer } = setup();
  coalescer.flush();
  coalescer.publish('chat.delta', delta('p1', 'now'), cause);
  coalescer.flush();
  assert.deepEqual(shape(seen), ['delta:p1:now']);
  await nextTurn();
  assert.equal(seen.length, 1);
});

test('a long burst is cut into deltas of bounded size that join to the whole text', async () => {
  const { seen, coalescer } = setup();
  const words = Array.from({ length: 5000 }, (_, index) => ` word${index}`);
  for (const word of words) coalescer.publish('chat.delta', delta('p1', word), cause);
  await nextTurn();
  const total = words.join('').length;
  assert.ok(
    seen.length >= Math.ceil(total / (MAX_MERGED_DELTA_CHARS + 20)) && seen.length < words.length / 10,
    `a few events, got ${seen.length}`,
  );
  const texts = seen.map((event) => (event.type === 'chat.delta' ? event.data.delta : ''));
  assert.equal(texts.join(''), words.join(''));
  for (const text of texts) assert.ok(text.length < MAX_MERGED_DELTA_CHARS + 20, `bounded: ${text.length}`);
});

test('a burst that keeps the loop busy goes out every MAX_HOLD_MS, not only when the loop turns', async () => {
  const { seen, coalescer } = setup();
  coalescer.publish('chat.delta', delta('p1', 'early'), cause);
  // Reading a long burst: the loop does not turn while the daemon works through it.
  const start = performance.now();
  while (performance.now() - start <= MAX_HOLD_MS) {}
  coalescer.publish('chat.delta', delta('p1', ' text'), cause);
  assert.deepEqual(shape(seen), ['delta:p1:early text'], 'held long enough: out with this delta');
  coalescer.publish('chat.delta', delta('p1', ' later'), cause);
  await nextTurn();
  assert.deepEqual(shape(seen), ['delta:p1:early text', 'delta:p1: later']);
});
