/**
 * The server-sent events parser: the format's rules (data lines, event names, comments, line
 * endings), and the same events however the bytes are cut into reads — at every byte position of a
 * sample stream, including inside a CRLF and inside a multi-byte UTF-8 character.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readServerSentEvents, SseParser, type ServerSentEvent } from './sse.ts';

const encoder = new TextEncoder();

/** Parses `reads` fed one after another. */
function parse(...reads: (string | Uint8Array)[]): ServerSentEvent[] {
  const parser = new SseParser();
  const events: ServerSentEvent[] = [];
  for (const read of reads) parser.push(typeof read === 'string' ? encoder.encode(read) : read, events);
  return events;
}

/** A body that delivers exactly these reads, then ends (or fails with `error`). */
function bodyOf(reads: string[], error?: Error): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    // One read per pull: an error raised up front would discard the reads queued before it.
    pull(controller) {
      const read = reads[next++];
      if (read !== undefined) controller.enqueue(encoder.encode(read));
      else if (error) controller.error(error);
      else controller.close();
    },
  });
}

/**
 * A sample with a bit of everything: both APIs' shapes, a comment, a multi-line data field, `id` and
 * `retry` fields, all three line endings, and characters of two, three and four UTF-8 bytes.
 */
const SAMPLE =
  ': keep-alive\n\n' +
  'event: response.output_text.delta\r\n' +
  'data: {"type":"response.output_text.delta","delta":"café €5 😀"}\r\n\r\n' +
  'id: 7\nretry: 1000\ndata: {"choices":[{"delta":{"content":"naïve"}}]}\n\n' +
  'data: first line\rdata: second line\r\r' +
  'event: empty-data\ndata:\n\n' +
  'data:no space\ndata:  two spaces\n\n' +
  'data: [DONE]\n\n';

const SAMPLE_EVENTS: ServerSentEvent[] = [
  { event: 'response.output_text.delta', data: '{"type":"response.output_text.delta","delta":"café €5 😀"}' },
  { event: null, data: '{"choices":[{"delta":{"content":"naïve"}}]}' },
  { event: null, data: 'first line\nsecond line' },
  { event: 'empty-data', data: '' },
  { event: null, data: 'no space\n two spaces' },
  { event: null, data: '[DONE]' },
];

test('data lines, event names, comments and other fields, as the format says', () => {
  assert.deepEqual(parse(SAMPLE), SAMPLE_EVENTS);
});

test('LF, CRLF and a lone CR end lines alike', () => {
  const lines = ['event: delta', 'data: {"a":1}', 'data: {"b":2}', '', 'data: x', ''];
  const expected = [
    { event: 'delta', data: '{"a":1}\n{"b":2}' },
    { event: null, data: 'x' },
  ];
  for (const ending of ['\n', '\r\n', '\r']) assert.deepEqual(parse(lines.join(ending) + ending), expected, JSON.stringify(ending));
  assert.deepEqual(parse('data: a\r\ndata: b\rdata: c\n\r\n'), [{ event: null, data: 'a\nb\nc' }], 'mixed in one event');
});

test('the same events whatever the reads: cut at every byte position, inside CRLFs and multi-byte characters', () => {
  const bytes = encoder.encode(SAMPLE);
  assert.ok(bytes.length > SAMPLE.length, 'the sample has multi-byte characters');
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(parse(bytes.subarray(0, cut), bytes.subarray(cut)), SAMPLE_EVENTS, `cut at byte ${cut}`);
  }
});

test('the same events read one byte at a time, and cut at every pair of positions', () => {
  const bytes = encoder.encode(SAMPLE);
  assert.deepEqual(parse(...Array.from(bytes, (_, index) => bytes.subarray(index, index + 1))), SAMPLE_EVENTS, 'byte by byte');
  // Every cut into three reads (about 30,000 parses of a 300-byte sample: quick).
  for (let first = 0; first <= bytes.length; first++) {
    for (let second = first; second <= bytes.length; second++) {
      const events = parse(bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second));
      assert.deepEqual(events, SAMPLE_EVENTS, `cuts at bytes ${first} and ${second}`);
    }
  }
});

test('events arrive as soon as their blank line does, not later', () => {
  const parser = new SseParser();
  const events: ServerSentEvent[] = [];
  parser.push(encoder.encode('data: one\n'), events);
  assert.deepEqual(events, [], 'no blank line yet');
  parser.push(encoder.encode('\ndata: tw'), events);
  assert.deepEqual(events, [{ event: null, data: 'one' }]);
  parser.push(encoder.encode('o\r'), events);
  parser.push(encoder.encode('\r'), events);
  assert.deepEqual(
    events,
    [
      { event: null, data: 'one' },
      { event: null, data: 'two' },
    ],
    'a CR ends the line without waiting for a possible LF',
  );
  parser.push(encoder.encode('\n'), events);
  assert.equal(events.length, 2, 'an LF after a CR that ended a line is no blank line of its own');
});

test('a line spanning many reads is whole', () => {
  const long = 'x'.repeat(100_000);
  const text = `data: ${long}\n\n`;
  const reads: string[] = [];
  for (let start = 0; start < text.length; start += 999) reads.push(text.slice(start, start + 999));
  assert.deepEqual(parse(...reads), [{ event: null, data: long }]);
});

test('a blank line with no data dispatches nothing and forgets the event name', () => {
  assert.deepEqual(parse('event: ping\n\n\n\ndata: after\n\n'), [{ event: null, data: 'after' }]);
  assert.deepEqual(parse('event: a\nevent: b\ndata: x\n\n'), [{ event: 'b', data: 'x' }], 'the last name counts');
});

test('a field line with no colon is a field with an empty value; unknown fields are ignored', () => {
  assert.deepEqual(parse('data\ndata\n\n'), [{ event: null, data: '\n' }]);
  assert.deepEqual(parse('foo: bar\nDATA: shouting\ndata: kept\n\n'), [{ event: null, data: 'kept' }]);
});

test('an event the stream ends in the middle of is not dispatched', () => {
  assert.deepEqual(parse('data: whole\n\ndata: cut'), [{ event: null, data: 'whole' }]);
  assert.deepEqual(parse('data: whole\n\ndata: cut\n'), [{ event: null, data: 'whole' }], 'its line ended, the event did not');
});

test('a byte order mark at the start is skipped; an invalid byte becomes U+FFFD, never an error', () => {
  assert.deepEqual(parse(new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf]), 'data: bom\n\n'), [{ event: null, data: 'bom' }]);
  assert.deepEqual(parse(new Uint8Array([...encoder.encode('data: a'), 0xff, ...encoder.encode('b\n\n')])), [
    { event: null, data: 'a\ufffdb' },
  ]);
});

test('readServerSentEvents: one batch per read, in order, empty when a read completes no event', async () => {
  const batches: ServerSentEvent[][] = [];
  for await (const batch of readServerSentEvents(bodyOf(['data: 1\n\ndata: 2\n\nda', 'ta: 3', '\n\n']))) batches.push(batch);
  assert.deepEqual(batches, [
    [
      { event: null, data: '1' },
      { event: null, data: '2' },
    ],
    [],
    [{ event: null, data: '3' }],
  ]);
});

test('readServerSentEvents: an error of the body reaches the reader after the events before it', async () => {
  const cut = new TypeError('terminated');
  const events: ServerSentEvent[] = [];
  await assert.rejects(async () => {
    for await (const batch of readServerSentEvents(bodyOf(['data: before\n\n'], cut))) events.push(...batch);
  }, cut);
  assert.deepEqual(events, [{ event: null, data: 'before' }]);
});

test('readServerSentEvents: leaving the loop early cancels the body', async () => {
  let cancelled: unknown = 'not cancelled';
  let pulls = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(encoder.encode(`data: ${pulls++}\n\n`));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  for await (const batch of readServerSentEvents(endless)) {
    if (batch[0]?.data === '2') break;
  }
  assert.equal(cancelled, undefined, 'the body was cancelled');
  assert.equal(endless.locked, false, 'the lock was released');
  assert.deepEqual(await endless.getReader().read(), { value: undefined, done: true }, 'the body is closed');
});
