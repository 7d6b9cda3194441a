/**
 * The event-splitting fetch: a streamed answer reaches the SDK one event per chunk, byte for byte
 * what the server sent, with errors and cancelling passed through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sdkClient, startFakeOpenAIForTest } from '../../test/fake-openai/fixtures.ts';
import type { ModelApi } from './types.ts';
import { fetchSplittingEvents, splitAfterEvents } from './sse-chunks.ts';

const BOUND = { timeout: 15_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A body that delivers exactly these chunks. */
function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of body) chunks.push(decoder.decode(chunk));
  return chunks;
}

test('a read holding several events is cut after each one; an event split across reads stays whole in order', async () => {
  const chunks = await readAll(
    splitAfterEvents(bodyOf(['data: {"a":1}\n\nevent: x\ndata: {"b":2}\n\ndata: {"c"', ':3}\n\ndata: [DONE]\n\n', ''])),
  );
  assert.deepEqual(chunks, ['data: {"a":1}\n\n', 'event: x\ndata: {"b":2}\n\n', 'data: {"c"', ':3}\n\n', 'data: [DONE]\n\n']);
});

test('an error of the source reaches the reader unchanged, and cancelling the result cancels the source', async () => {
  const cut = new Error('socket hang up');
  let pulls = 0;
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(encoder.encode('data: 1\n\n'));
      else controller.error(cut);
    },
  });
  const reader = splitAfterEvents(failing).getReader();
  assert.equal(decoder.decode((await reader.read()).value), 'data: 1\n\n');
  await assert.rejects(reader.read(), (error) => error === cut);

  let cancelledWith: unknown;
  const endless = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(encoder.encode('data: more\n\n')),
    cancel: (reason) => {
      cancelledWith = reason;
    },
  });
  const split = splitAfterEvents(endless).getReader();
  await split.read();
  await split.cancel('the caller left');
  assert.equal(cancelledWith, 'the caller left');
});

test('only successful event streams are split: other answers come back as they are', async () => {
  const answers = [
    new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }),
    new Response('data: {}\n\ndata: {}\n\n', { status: 500, headers: { 'content-type': 'text/event-stream' } }),
  ];
  for (const answer of answers) {
    const fetchSplitting = fetchSplittingEvents(async () => answer);
    assert.equal(await fetchSplitting('http://127.0.0.1/'), answer);
  }
});

for (const api of ['chat', 'responses'] as ModelApi[]) {
  test(`${api}: the real server's burst reaches the SDK cut after each event, and the SDK reads the same events from it`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream' });
    const path = api === 'chat' ? 'chat/completions' : 'responses';
    const body = api === 'chat' ? { model: 'gpt-5.4', messages: [{ role: 'user', content: 'go' }], stream: true } : { model: 'gpt-5.4', input: 'go', stream: true };
    const response = await fetchSplittingEvents()(`${server.url}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
      body: JSON.stringify(body),
    });
    assert.ok(response.body);
    assert.equal(response.url, `${server.url}/${path}`);
    const chunks = await readAll(response.body);
    const events = chunks.join('').split('\n\n').length - 1;
    assert.ok(events > 300, `a long stream (got ${events} events)`);
    // A network read may end mid-event; a chunk never holds more than the end of one event.
    for (const chunk of chunks) assert.ok([-1, chunk.length - 2].includes(chunk.indexOf('\n\n')), `one event end at most, last: ${chunk}`);
    assert.ok(chunks.length >= events);

    // Through the SDK: the same events as from the body unsplit (ids and times aside: each request has its own).
    const read = async (split: boolean): Promise<string[]> => {
      const client = sdkClient(server, split ? { fetch: fetchSplittingEvents() } : {});
      const events: string[] = [];
      const stream =
        api === 'chat'
          ? await client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'go' }], stream: true })
          : await client.responses.create({ model: 'gpt-5.4', input: 'go', stream: true });
      for await (const event of stream) events.push(JSON.stringify(event).replace(/"(id|item_id|created|created_at)":("[^"]*"|\d+)/g, '"$1":_'));
      return events;
    };
    const [plain, split] = [await read(false), await read(true)];
    assert.ok(plain.length > 300, `a long stream (got ${plain.length} events)`);
    const firstDifference = plain.findIndex((event, index) => split[index] !== event);
    assert.equal(split.length, plain.length);
    assert.equal(firstDifference, -1, `event ${firstDifference} differs: ${split[firstDifference]} instead of ${plain[firstDifference]}`);
  });
}
