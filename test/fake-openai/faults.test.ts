/** Faults on demand, latency, authentication and the request log, seen through the real `openai` SDK. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { waitFor } from '../helpers/wait.ts';
import { sdkClient, startFakeOpenAIForTest } from './fixtures.ts';

test('429 twice, then success: the SDK retries after retry-after-ms, the server saw three requests', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
  server.injectFaults({ kind: '429', retryAfterMs: 10 }, { times: 2 });
  const response = await sdkClient(server, { maxRetries: 2 }).responses.create({ model: 'gpt-5.4', input: 'third time lucky' });

  assert.equal(response.output_text, 'third time lucky');
  assert.deepEqual(
    server.requests.map((record) => record.status),
    [429, 429, 200],
  );
  assert.deepEqual(server.requests[0]?.faults, ['429']);
  assert.deepEqual(server.requests[2]?.faults, []);
});

test('429 carries retry-after headers and an OpenAI error body', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.injectFaults({ kind: '429', retryAfterSeconds: 2 });
  const error = await sdkClient(server)
    .chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'x' }] })
    .catch((caught: unknown) => caught);

  assert.ok(error instanceof OpenAI.RateLimitError, `expected a RateLimitError, got ${String(error)}`);
  assert.equal(error.status, 429);
  assert.equal(error.headers.get('retry-after'), '2');
  assert.equal(error.headers.get('retry-after-ms'), '2000');
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.match(error.message, /Rate limit reached/);
});

test('500 until the retries run out: an APIError with status 500 after maxRetries + 1 requests', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.injectFaults({ kind: '500', retryAfterMs: 5 });
  const error = await sdkClient(server, { maxRetries: 2 })
    .responses.create({ model: 'gpt-5.4', input: 'x', stream: true })
    .catch((caught: unknown) => caught);

  assert.ok(error instanceof OpenAI.InternalServerError, `expected an InternalServerError, got ${String(error)}`);
  assert.equal(error.status, 500);
  assert.equal(error.type, 'server_error');
  assert.equal(server.modelRequests().length, 3);
});

test('a fault for the next N requests only, and one picked by a predicate', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  const client = sdkClient(server);
  server.injectFaults({ kind: 'status', status: 503, message: 'overloaded' }, { match: (request) => request.api === 'chat' });
  server.injectFaults({ kind: 'status', status: 400, message: 'bad' }, { times: 1 });

  await assert.rejects(client.responses.create({ model: 'gpt-5.4', input: 'a' }), { status: 400 });
  assert.equal((await client.responses.create({ model: 'gpt-5.4', input: 'b' })).output_text, 'b');
  await assert.rejects(client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'c' }] }), {
    status: 503,
    message: /overloaded/,
  });
  server.clearFaults();
  const chat = await client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'd' }] });
  assert.equal(chat.choices[0]?.message.content, 'd');
});

test('a stream cut mid-way makes the SDK stream fail (Responses), after the first deltas arrived', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream' });
  server.injectFaults({ kind: 'cut-stream', afterEvents: 10 });
  const stream = sdkClient(server).responses.stream({ model: 'gpt-5.4', input: 'go' });
  let deltas = 0;
  stream.on('response.output_text.delta', () => deltas++);

  await assert.rejects(stream.finalResponse());
  assert.equal(deltas, 6, 'the 10 events before the cut included 6 deltas');
  await waitFor(() => server.requests[0]?.endedAt !== undefined, { message: 'the request to end' });
  assert.equal(server.requests[0]?.aborted, false, 'a cut by the server is not a client abort');
  assert.deepEqual(server.requests[0]?.faults, ['cut-stream']);
});

test('a stream cut before any event, and one cut mid-way on chat: the SDK errors, never hangs', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream' });
  const client = sdkClient(server);
  server.injectFaults({ kind: 'cut-stream', afterEvents: 0 }, { times: 1 });
  await assert.rejects(client.responses.stream({ model: 'gpt-5.4', input: 'go' }).finalResponse());

  server.injectFaults({ kind: 'cut-stream', afterEvents: 5 }, { times: 1 });
  const stream = await client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'go' }], stream: true });
  let chunks = 0;
  await assert.rejects(async () => {
    for await (const _chunk of stream) chunks++;
  });
  assert.equal(chunks, 5);
});

test('a non-streaming body cut half-way: the SDK call fails', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.injectFaults({ kind: 'cut-stream', afterEvents: 0 });
  await assert.rejects(sdkClient(server).responses.create({ model: 'gpt-5.4', input: 'x' }));
});

test('invalid JSON surfaces as an error: in a stream, and as a whole body', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  // The SDK logs the unparsable line before throwing; keep test output clean.
  const client = sdkClient(server, { logLevel: 'off' });

  server.injectFaults({ kind: 'invalid-json', afterEvents: 3 }, { times: 1 });
  // The stream helper wraps the parser's SyntaxError in an OpenAIError that keeps its message.
  await assert.rejects(client.responses.stream({ model: 'gpt-5.4', input: 'a b c d' }).finalResponse(), { message: /JSON/ });

  server.injectFaults({ kind: 'invalid-json' }, { times: 1 });
  await assert.rejects(client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'x' }] }), SyntaxError);

  // The faults were used up: the next requests succeed.
  assert.equal((await client.responses.create({ model: 'gpt-5.4', input: 'ok' })).output_text, 'ok');
});

test('abort mid-stream: the server records that the client closed the request', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream', deltaDelayMs: 5 });
  const controller = new AbortController();
  const stream = await sdkClient(server).responses.create({ model: 'gpt-5.4', input: 'go', stream: true }, { signal: controller.signal });
  let deltas = 0;
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta' && ++deltas === 3) controller.abort();
  }
  assert.equal(deltas, 3, 'the stream stopped at the abort');

  const record = await waitFor(() => server.requests[0]?.aborted && server.requests[0], { message: 'the server to see the abort' });
  assert.equal(record.status, 200);
  assert.ok(record.endedAt !== undefined);
});

test('abort during the latency wait: recorded as aborted, no status sent', async (t) => {
  const server = await startFakeOpenAIForTest(t, { latencyMs: 10_000 });
  const controller = new AbortController();
  const call = sdkClient(server).responses.create({ model: 'gpt-5.4', input: 'x' }, { signal: controller.signal });
  await waitFor(() => server.requests.length === 1, { message: 'the request to arrive' });
  controller.abort();
  await assert.rejects(call, OpenAI.APIUserAbortError);
  const record = await waitFor(() => server.requests[0]?.aborted && server.requests[0], { message: 'the server to see the abort' });
  assert.equal(record.status, undefined);
});

test('a slow first byte trips the SDK timeout', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.injectFaults({ kind: 'slow-first-byte', delayMs: 10_000 });
  await assert.rejects(
    sdkClient(server, { timeout: 100 }).responses.create({ model: 'gpt-5.4', input: 'x' }),
    OpenAI.APIConnectionTimeoutError,
  );
});

test('latency: requests from three concurrent clients overlap in the log; sequential ones do not', async (t) => {
  const server = await startFakeOpenAIForTest(t, { latencyMs: 300 });
  const clients = [sdkClient(server), sdkClient(server), sdkClient(server)];
  await Promise.all(clients.map((client, index) => client.responses.create({ model: 'gpt-5.4', input: `client ${index}` })));
  assert.equal(server.maxConcurrency(), 3);
  const [a, b, c] = server.requests;
  assert.ok(a && b && c && a.endedAt !== undefined && b.endedAt !== undefined && c.endedAt !== undefined);
  const latestStart = Math.max(a.startedAt, b.startedAt, c.startedAt);
  const earliestEnd = Math.min(a.endedAt, b.endedAt, c.endedAt);
  assert.ok(latestStart < earliestEnd, 'all three were in flight at one moment');

  server.reset();
  server.latencyMs = 0;
  for (const client of clients) await client.responses.create({ model: 'gpt-5.4', input: 'one at a time' });
  assert.equal(server.maxConcurrency(), 1);
});

test('a required API key: missing or wrong → 401 with an OpenAI error body; right → served', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: 'sk-right-key-1234' });
  const wrong = await sdkClient(server, { apiKey: 'sk-wrong-key-9999' })
    .responses.create({ model: 'gpt-5.4', input: 'x' })
    .catch((caught: unknown) => caught);
  assert.ok(wrong instanceof OpenAI.AuthenticationError, `expected an AuthenticationError, got ${String(wrong)}`);
  assert.equal(wrong.code, 'invalid_api_key');
  assert.match(wrong.message, /Incorrect API key provided: sk-\*+9999/);

  const missing = await fetch(`${server.url}/models`);
  assert.equal(missing.status, 401);
  const body = (await missing.json()) as { error: { message: string; type: string } };
  assert.match(body.error.message, /didn't provide an API key/);
  assert.equal(body.error.type, 'invalid_request_error');

  const right = await sdkClient(server, { apiKey: 'sk-right-key-1234' }).responses.create({ model: 'gpt-5.4', input: 'in' });
  assert.equal(right.output_text, 'in');
});
