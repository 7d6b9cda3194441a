/**
 * The provider reading streamed bodies that test/fake-openai never sends: written in odd pieces
 * (inside CRLFs and multi-byte characters), with comments, an end marker followed by more, an error
 * reported mid-stream, a last event with no blank line after it. A real HTTP server writes them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createProvider } from './provider.ts';
import type { ModelApi, ModelRequest, ProviderEvent } from './types.ts';
import { ProviderError } from './types.ts';

const BOUND = { timeout: 15_000 };
const REQUEST: ModelRequest = { model: 'gpt-5.4', items: [{ role: 'user', content: 'hi' }] };
const TEXT = ['Grüße, ', 'café ', '€5 ', '😀 done'];

/** A server answering every request with `body`, written in the pieces `cut` makes of its bytes, a turn apart. */
async function startSseServer(t: TestContext, body: string, cut: (bytes: Buffer) => Buffer[] = (bytes) => [bytes]): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      for (const piece of cut(Buffer.from(body))) {
        res.write(piece);
        await nextTurn();
      }
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** Pieces of 1 to 7 bytes, cutting through line endings and characters alike. */
function oddPieces(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let start = 0, size = 1; start < bytes.length; start += size, size = (size % 7) + 1)
    pieces.push(bytes.subarray(start, start + size));
  return pieces;
}

function chatChunk(delta: object | null, finishReason: string | null = null, usage: object | null = null): string {
  // The usage chunk, last, has no choices.
  const choices = delta ? [{ index: 0, delta, finish_reason: finishReason }] : [];
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'served-model', choices, usage })}`;
}

function responsesEvent(event: { type: string } & Record<string, unknown>): string {
  return `event: ${event.type}\r\ndata: ${JSON.stringify(event)}`;
}

const COMPLETED = responsesEvent({
  type: 'response.completed',
  response: {
    model: 'served-model',
    incomplete_details: null,
    usage: {
      input_tokens: 5,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
    },
  },
});

/** A complete answer in each API's shape: comments, CRLF line ends (Responses), trailing bytes after Chat's end marker. */
const ANSWERS: Record<ModelApi, string> = {
  chat: [
    ': the server is thinking',
    ...TEXT.map((delta) => chatChunk({ content: delta })),
    chatChunk({}, 'stop'),
    chatChunk(null, null, { prompt_tokens: 5, completion_tokens: 4 }),
    'data: [DONE]',
    'data: not JSON, and ignored after the end marker',
    '',
  ].join('\n\n'),
  responses: [': keep-alive', ...TEXT.map((delta) => responsesEvent({ type: 'response.output_text.delta', delta })), COMPLETED, ''].join(
    '\r\n\r\n',
  ),
};

async function collect(stream: AsyncIterable<ProviderEvent>): Promise<{ events: ProviderEvent[]; error: unknown }> {
  const events: ProviderEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

const deltas = (events: ProviderEvent[]) => events.flatMap((event) => (event.type === 'text.delta' ? [event.delta] : []));

for (const api of ['chat', 'responses'] as const) {
  test(`${api}: a body written in pieces of a few bytes reads as the same deltas, then done`, BOUND, async (t) => {
    const baseURL = await startSseServer(t, ANSWERS[api], oddPieces);
    const { events, error } = await collect(createProvider({ api, apiKey: 'key', baseURL, maxRetries: 0 }).stream(REQUEST));
    assert.equal(error, undefined);
    assert.deepEqual(deltas(events), TEXT);
    const done = events.at(-1);
    assert.equal(done?.type, 'done');
    if (done?.type !== 'done') return;
    assert.equal(done.result.text, TEXT.join(''));
    assert.equal(done.result.model, 'served-model');
    assert.equal(done.result.usage.inputTokens, 5);
    assert.equal(done.result.stopReason, 'stop');
  });

  test(`${api}: an error the server reports mid-stream is a server error with its message, not a cut`, BOUND, async (t) => {
    const firstDelta =
      api === 'chat' ? chatChunk({ content: 'Hel' }) : responsesEvent({ type: 'response.output_text.delta', delta: 'Hel' });
    const error = 'data: {"error":{"message":"The server is overloaded.","type":"server_error","code":null}}';
    const baseURL = await startSseServer(t, `${firstDelta}\n\n${error}\n\n`);
    const outcome = await collect(createProvider({ api, apiKey: 'key', baseURL, maxRetries: 0 }).stream(REQUEST));
    assert.deepEqual(deltas(outcome.events), ['Hel']);
    assert.ok(outcome.error instanceof ProviderError, String(outcome.error));
    assert.equal(outcome.error.kind, 'server');
    assert.match(outcome.error.message, /^127\.0\.0\.1:\d+ reported an error: The server is overloaded\.$/);
  });

  test(`${api}: a body that ends inside its last event is an incomplete answer`, BOUND, async (t) => {
    // The final event's line ends, its blank line never comes: the event is dropped, so the answer never finished.
    const deltaEvents = TEXT.map((delta) =>
      api === 'chat' ? chatChunk({ content: delta }) : responsesEvent({ type: 'response.output_text.delta', delta }),
    );
    const last = api === 'chat' ? chatChunk({}, 'stop') : COMPLETED;
    const baseURL = await startSseServer(t, `${[...deltaEvents, last].join('\n\n')}\n`);
    const outcome = await collect(createProvider({ api, apiKey: 'key', baseURL, maxRetries: 0 }).stream(REQUEST));
    assert.deepEqual(deltas(outcome.events), TEXT);
    assert.ok(outcome.error instanceof ProviderError, String(outcome.error));
    assert.equal(outcome.error.kind, 'stream-cut');
    assert.match(outcome.error.message, /cut mid-answer \(the connection closed before the answer was complete\)/);
  });
}
