/**
 * The provider against test/fake-openai (a real HTTP server), on both APIs: streaming, tools,
 * usage, the SDK's retries made visible, stream restarts and cuts, cancelling, and clear errors.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { z } from 'zod';
import { startFakeOpenAIForTest } from '../../test/fake-openai/fixtures.ts';
import type { FakeOpenAIServer } from '../../test/fake-openai/server.ts';
import { pause, waitFor } from '../../test/helpers/wait.ts';
import type { ProviderOptions } from './provider.ts';
import { createProvider } from './provider.ts';
import type { JsonSchema, ModelApi, ModelRequest, ModelResult, Provider, ProviderEvent, ToolDefinition } from './types.ts';
import { ProviderError } from './types.ts';

const APIS: ModelApi[] = ['responses', 'chat'];
/** Every test here finishes in well under a second; a broken one fails instead of hanging. */
const BOUND = { timeout: 15_000 };

const READ_FILE: ToolDefinition = {
  name: 'read_file',
  description: 'Reads a file of the repository.',
  parameters: z.toJSONSchema(z.object({ path: z.string(), limit: z.number().int().optional() })) as JsonSchema,
};

function providerFor(server: FakeOpenAIServer, api: ModelApi, options: Partial<ProviderOptions> = {}): Provider {
  return createProvider({ api, apiKey: 'test-key', baseURL: server.url, maxRetries: 3, ...options });
}

function ask(text: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  return { model: 'gpt-5.4', items: [{ role: 'user', content: text }], ...extra };
}

interface Outcome {
  events: ProviderEvent[];
  error: unknown;
}

async function collect(stream: AsyncIterable<ProviderEvent>, onEvent?: (event: ProviderEvent) => void): Promise<Outcome> {
  const events: ProviderEvent[] = [];
  try {
    for await (const event of stream) {
      events.push(event);
      onEvent?.(event);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

function text(events: ProviderEvent[]): string {
  return events.map((event) => (event.type === 'text.delta' ? event.delta : '')).join('');
}

function resultOf(outcome: Outcome): ModelResult {
  if (outcome.error) throw outcome.error;
  const last = outcome.events.at(-1);
  assert.equal(last?.type, 'done', 'done is the last event');
  return (last as Extract<ProviderEvent, { type: 'done' }>).result;
}

function waits(events: ProviderEvent[]): Extract<ProviderEvent, { type: 'wait' }>[] {
  return events.filter((event): event is Extract<ProviderEvent, { type: 'wait' }> => event.type === 'wait');
}

function assertProviderError(error: unknown, kind: ProviderError['kind'], message?: RegExp): ProviderError {
  assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
  assert.equal(error.kind, kind, `kind of: ${error.message}`);
  if (message) assert.match(error.message, message);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  return error;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const api of APIS) {
  test(`${api}: streamed text arrives as deltas, then done with the text, usage and model`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    const outcome = await collect(providerFor(server, api).stream(ask('alpha beta gamma delta')));
    const result = resultOf(outcome);

    const deltas = outcome.events.filter((event) => event.type === 'text.delta');
    assert.equal(deltas.length, 4);
    assert.equal(text(outcome.events), 'alpha beta gamma delta');
    assert.equal(result.text, 'alpha beta gamma delta');
    assert.equal(result.stopReason, 'stop');
    assert.equal(result.model, 'gpt-5.4');
    assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
    assert.equal(server.modelRequests().length, 1);
    assert.equal(server.requests[0]?.api, api);
  });

  test(`${api}: usage as the server reports it (cached input, reasoning)`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    const usage = { inputTokens: 1200, cachedInputTokens: 1000, outputTokens: 300, reasoningTokens: 250 };
    server.script({ text: 'ok', usage });
    const result = resultOf(await collect(providerFor(server, api).stream(ask('count'))));
    assert.deepEqual(result.usage, usage);
  });

  test(`${api}: the request carries instructions, reasoning effort, the output cap and strict tools`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    const request = ask('hi', {
      instructions: 'Be brief.',
      reasoningEffort: 'low',
      maxOutputTokens: 500,
      tools: [READ_FILE],
      webSearch: true,
    });
    resultOf(await collect(providerFor(server, api).stream(request)));

    // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON body as sent, read field by field
    const body = server.requests[0]?.body as Record<string, any>;
    assert.equal(body.stream, true);
    if (api === 'responses') {
      assert.equal(body.instructions, 'Be brief.');
      assert.deepEqual(body.reasoning, { effort: 'low' });
      assert.equal(body.max_output_tokens, 500);
      assert.equal(body.tools[0].strict, true);
      assert.equal(body.tools[0].parameters.additionalProperties, false);
      assert.deepEqual(body.tools[0].parameters.required, ['path', 'limit']);
      assert.deepEqual(server.requests[0]?.toolNames, ['read_file', 'web_search']);
    } else {
      assert.deepEqual(body.messages[0], { role: 'system', content: 'Be brief.' });
      assert.equal(body.reasoning_effort, 'low');
      assert.equal(body.max_completion_tokens, 500);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(body.tools[0].function.strict, true);
      assert.equal(body.tools[0].function.parameters.additionalProperties, false);
      assert.deepEqual(server.requests[0]?.toolNames, ['read_file'], 'no hosted web search on Chat Completions');
    }
  });

  test(`${api}: a tool call round trip — the call, its result sent back as items, the final answer`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'tool-roundtrip' });
    const provider = providerFor(server, api);
    const question = 'please read_file {"path": "README.md", "limit": null}';
    const first = await collect(provider.stream(ask(question, { tools: [READ_FILE] })));
    const firstResult = resultOf(first);

    const calls = first.events.filter((event) => event.type === 'tool.call');
    assert.equal(calls.length, 1);
    const call = firstResult.toolCalls[0];
    assert.ok(call);
    assert.deepEqual(calls[0], { type: 'tool.call', call });
    assert.equal(call.name, 'read_file');
    assert.deepEqual(JSON.parse(call.arguments), { path: 'README.md' }, 'the null for the optional limit is dropped');
    assert.equal(firstResult.stopReason, 'tool_calls');

    const second = await collect(
      provider.stream({
        model: 'gpt-5.4',
        tools: [READ_FILE],
        items: [
          { role: 'user', content: question },
          { role: 'assistant', content: '', toolCalls: [call] },
          { role: 'tool', callId: call.id, name: call.name, content: '# Ralph' },
        ],
      }),
    );
    const final = resultOf(second);
    assert.equal(final.text, 'Tool read_file returned: # Ralph');
    assert.equal(final.stopReason, 'stop');
    // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON body as sent, read field by field
    const body = server.requests[1]?.body as Record<string, any>;
    if (api === 'responses') {
      assert.deepEqual(body.input.slice(1), [
        { type: 'function_call', call_id: call.id, name: 'read_file', arguments: call.arguments },
        { type: 'function_call_output', call_id: call.id, output: '# Ralph' },
      ]);
    } else {
      assert.equal(body.messages[1].tool_calls[0].id, call.id);
      assert.deepEqual(body.messages[2], { role: 'tool', tool_call_id: call.id, content: '# Ralph' });
    }
  });

  test(`${api}: 429 twice, then success — the SDK's two waits are events, the server saw three requests`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.injectFaults({ kind: '429', retryAfterMs: 20 }, { times: 2 });
    const outcome = await collect(providerFor(server, api).stream(ask('third time lucky')));

    assert.equal(resultOf(outcome).text, 'third time lucky');
    assert.deepEqual(waits(outcome.events), [
      { type: 'wait', reason: 'rate-limit', seconds: 0.02, attempt: 2 },
      { type: 'wait', reason: 'rate-limit', seconds: 0.02, attempt: 3 },
    ]);
    assert.deepEqual(
      server.modelRequests().map((record) => record.status),
      [429, 429, 200],
    );
  });

  test(`${api}: calls at once each hear only their own retry waits, also one started during another's wait`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    server.injectFaults({ kind: '429', retryAfterMs: 300 }, { times: 2, match: (request) => request.lastUserText === 'slowed' });
    const provider = providerFor(server, api);
    const slowed = collect(provider.stream(ask('slowed')));
    const fine = await collect(provider.stream(ask('fine')));
    // `slowed` is still in its retry waits: this call must not hear them.
    const later = await collect(provider.stream(ask('later')));

    assert.equal(resultOf(fine).text, 'fine');
    assert.deepEqual(waits(fine.events), []);
    assert.equal(resultOf(later).text, 'later');
    assert.deepEqual(waits(later.events), []);
    const slowedOutcome = await slowed;
    assert.equal(resultOf(slowedOutcome).text, 'slowed');
    assert.deepEqual(
      waits(slowedOutcome.events).map((wait) => wait.attempt),
      [2, 3],
    );
  });

  test(`${api}: 500 until the retries run out — one server error, maxRetries + 1 requests`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.injectFaults({ kind: '500', retryAfterMs: 5 });
    const outcome = await collect(providerFor(server, api, { maxRetries: 2 }).stream(ask('x')));

    assertProviderError(outcome.error, 'server', /^127\.0\.0\.1:\d+ failed with 500 after 3 tries: /);
    assert.equal((outcome.error as ProviderError).status, 500);
    assert.equal(server.modelRequests().length, 3);
    assert.deepEqual(
      waits(outcome.events).map((wait) => [wait.reason, wait.attempt]),
      [
        ['server-error', 2],
        ['server-error', 3],
      ],
    );
  });

  test(`${api}: rate limited beyond the retries — says by whom and after how many tries`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.injectFaults({ kind: '429', retryAfterMs: 5 });
    const { error } = await collect(providerFor(server, api, { maxRetries: 1 }).stream(ask('x')));
    assertProviderError(error, 'rate-limit', /^rate limited by 127\.0\.0\.1:\d+ after 2 tries: Rate limit reached/);
  });

  test(`${api}: quota used up, or a reset an hour away: one try, and the error carries what the provider said`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.injectFaults(
      { kind: 'status', status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota' },
      { times: 1 },
    );
    server.injectFaults({ kind: '429', retryAfterSeconds: 3600 }, { times: 1 });
    const quota = assertProviderError(
      (await collect(providerFor(server, api).stream(ask('x')))).error,
      'rate-limit',
      /^127\.0\.0\.1:\d+ says the account's quota is used up \(429\): You exceeded your current quota$/,
    );
    assert.equal(quota.quota, true);
    const limited = assertProviderError((await collect(providerFor(server, api).stream(ask('x')))).error, 'rate-limit', /after 1 try/);
    assert.equal(limited.quota, false);
    assert.equal(limited.retryAfterSeconds, 3600);
    assert.equal(server.requests.length, 2, 'no retry of either');
  });

  test(`${api}: a stream cut before any output is restarted once and succeeds`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    server.injectFaults({ kind: 'cut-stream', afterEvents: 1 }, { times: 1 });
    const outcome = await collect(providerFor(server, api).stream(ask('second wind')));

    assert.equal(resultOf(outcome).text, 'second wind');
    assert.deepEqual(outcome.events[0], { type: 'wait', reason: 'stream-restart', seconds: 0, attempt: 2 });
    assert.equal(text(outcome.events), 'second wind', 'no text twice');
    assert.equal(server.modelRequests().length, 2);
  });

  test(`${api}: a stream that keeps dying before any output fails after one restart`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    server.injectFaults({ kind: 'invalid-json', afterEvents: 1 });
    const outcome = await collect(providerFor(server, api).stream(ask('never')));

    assertProviderError(outcome.error, 'stream-cut', /before any output, twice \(the server sent invalid JSON\)/);
    assert.equal(waits(outcome.events).length, 1);
    assert.equal(server.modelRequests().length, 2);
  });

  test(`${api}: a stream cut mid-answer ends the call with stream-cut, no restart`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream' });
    server.injectFaults({ kind: 'cut-stream', afterEvents: 10 });
    const outcome = await collect(providerFor(server, api).stream(ask('go')));

    assertProviderError(outcome.error, 'stream-cut', /^the model's stream was cut mid-answer \(the connection was cut\)/);
    assert.ok(text(outcome.events).startsWith('Line 1 of the long stream'), 'the deltas before the cut arrived');
    assert.equal(server.modelRequests().length, 1);
  });

  test(`${api}: a stalled stream is bounded by the idle timeout, never a hang`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.setScenario(() => ({ text: 'too late', deltaDelayMs: 5_000 }));
    const outcome = await collect(providerFor(server, api, { idleTimeoutMs: 200 }).stream(ask('hello?')));

    assertProviderError(outcome.error, 'stream-cut', /\(no data for 0\.2 s\)/);
    assert.equal(server.modelRequests().length, 2, 'restarted once: nothing had been said');
    await waitFor(() => server.modelRequests().every((record) => record.aborted), { message: 'both stalled requests to be closed' });
  });

  test(`${api}: a caller slower than the idle timeout is not mistaken for a stalled server`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    const provider = providerFor(server, api, { idleTimeoutMs: 100 });
    const events: ProviderEvent[] = [];
    for await (const event of provider.stream(ask('slow reader here'))) {
      events.push(event);
      if (event.type === 'text.delta' && events.length === 1) await pause(300);
    }
    assert.equal(resultOf({ events, error: undefined }).text, 'slow reader here');
    assert.equal(server.modelRequests().length, 1);
  });

  test(`${api}: aborting mid-stream closes the HTTP request and ends with aborted`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream', deltaDelayMs: 5 });
    const controller = new AbortController();
    const outcome = await collect(providerFor(server, api).stream(ask('go', { signal: controller.signal })), (event) => {
      if (event.type === 'text.delta') controller.abort();
    });

    assertProviderError(outcome.error, 'aborted');
    assert.equal(outcome.events.filter((event) => event.type === 'text.delta').length, 1);
    await waitFor(() => server.requests[0]?.aborted, { message: 'the server to see the request aborted' });
  });

  test(`${api}: aborting during the SDK's retry wait ends the call at once`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    // The SDK sleeps through its wait (its timer cannot be cancelled), so keep it short enough for the test process to exit soon.
    server.injectFaults({ kind: '429', retryAfterSeconds: 3 });
    const controller = new AbortController();
    const started = Date.now();
    const outcome = await collect(providerFor(server, api).stream(ask('x', { signal: controller.signal })), (event) => {
      if (event.type === 'wait') controller.abort();
    });

    assertProviderError(outcome.error, 'aborted');
    assert.ok(Date.now() - started < 3_000, 'the call ended without sitting out the 3 s wait');
    assert.deepEqual(waits(outcome.events), [{ type: 'wait', reason: 'rate-limit', seconds: 3, attempt: 2 }]);
    assert.equal(server.modelRequests().length, 1);
  });

  test(`${api}: leaving the loop early closes the HTTP request`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream', deltaDelayMs: 5 });
    for await (const event of providerFor(server, api).stream(ask('go'))) {
      if (event.type === 'text.delta') break;
    }
    await waitFor(() => server.requests[0]?.aborted, { message: 'the server to see the request aborted' });
  });

  test(`${api}: connection refused — says where and what to check`, BOUND, async () => {
    const port = await freePort();
    const provider = createProvider({ api, apiKey: null, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const { error } = await collect(provider.stream(ask('x')));
    assertProviderError(
      error,
      'network',
      new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}/v1: connection refused — is the server running\\?$`),
    );
  });

  test(`${api}: a refused key is an auth error; a key-less setup is told to set one`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { apiKey: 'the-right-key' });
    const wrongKey = await collect(providerFor(server, api, { apiKey: 'a-wrong-key' }).stream(ask('x')));
    assertProviderError(wrongKey.error, 'auth', /^the provider refused the API key \(401\): check OPENAI_API_KEY$/);
    const noKey = await collect(providerFor(server, api, { apiKey: null }).stream(ask('x')));
    assertProviderError(noKey.error, 'auth', /requires an API key \(401\): set OPENAI_API_KEY$/);
    assert.equal(server.modelRequests().length, 2, 'a 401 is not retried');
  });

  test(`${api}: a server that needs no key gets a placeholder one`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
    const result = resultOf(await collect(providerFor(server, api, { apiKey: null }).stream(ask('local model'))));
    assert.equal(result.text, 'local model');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer unused');
  });

  test(`${api}: a bad request carries the server's message and is not retried`, BOUND, async (t) => {
    const server = await startFakeOpenAIForTest(t);
    server.injectFaults({ kind: 'status', status: 400, message: "Unsupported parameter: 'reasoning_effort'." });
    const { error } = await collect(providerFor(server, api).stream(ask('x')));
    assertProviderError(error, 'bad-request', /rejected the request \(400\): Unsupported parameter: 'reasoning_effort'\.$/);
    assert.equal(server.modelRequests().length, 1);
  });

  test(`${api}: not configured (no key, no base URL) — says how to configure one`, BOUND, async () => {
    for (const settings of [
      { apiKey: null, baseURL: null },
      { apiKey: '', baseURL: '' },
    ]) {
      const provider = createProvider({ api, ...settings });
      assert.equal(provider.api, api);
      const { events, error } = await collect(provider.stream(ask('x')));
      assertProviderError(error, 'not-configured', /OPENAI_API_KEY.*OPENAI_BASE_URL.*localhost:11434/);
      assert.deepEqual(events, []);
    }
  });
}

test('responses: a hosted web search and its citations', BOUND, async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'web-search' });
  const outcome = await collect(providerFor(server, 'responses').stream(ask('ralph loop', { webSearch: true })));
  const result = resultOf(outcome);

  const searches = outcome.events.filter((event) => event.type === 'web.search');
  assert.deepEqual(searches, [
    { type: 'web.search', status: 'searching', query: 'ralph loop' },
    { type: 'web.search', status: 'done', query: 'ralph loop' },
  ]);
  const citations = [
    { url: 'https://example.com/guide', title: 'Example Guide' },
    { url: 'https://example.org/reference', title: 'Example Reference' },
  ];
  assert.deepEqual(
    outcome.events.filter((event) => event.type === 'citation').map((event) => event.citation),
    citations,
  );
  assert.deepEqual(result.citations, citations);
  assert.match(result.text, /^I searched the web for "ralph loop"/);
  assert.deepEqual(server.requests[0]?.toolNames, ['web_search']);
});

test('responses: reasoning summaries stream as reasoning deltas', BOUND, async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'reasoning' });
  const outcome = await collect(providerFor(server, 'responses').stream(ask('why?', { reasoningEffort: 'high' })));
  const result = resultOf(outcome);
  const reasoning = outcome.events.map((event) => (event.type === 'reasoning.delta' ? event.delta : '')).join('');
  assert.equal(reasoning, 'The user asked: "why?". A short, direct answer fits.');
  assert.equal(result.usage.reasoningTokens, 128);
});

test('responses: an error the model reports inside the stream is a server error, not a cut', BOUND, async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script(() => {
    throw new Error('the scenario broke');
  });
  const { error } = await collect(providerFor(server, 'responses').stream(ask('x')));
  assertProviderError(error, 'server', /fake-openai scenario failed: the scenario broke/);
  assert.equal(server.modelRequests().length, 1, 'x-should-retry: false is obeyed');
});

test('an already aborted signal sends nothing', BOUND, async (t) => {
  const server = await startFakeOpenAIForTest(t);
  const { error } = await collect(providerFor(server, 'responses').stream(ask('x', { signal: AbortSignal.abort() })));
  assertProviderError(error, 'aborted');
  assert.equal(server.requests.length, 0);
});

test('no answer within the timeout is a network error after the retries', BOUND, async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.injectFaults({ kind: 'slow-first-byte', delayMs: 5_000 });
  const { error } = await collect(providerFor(server, 'chat', { timeoutMs: 100, maxRetries: 0 }).stream(ask('x')));
  assertProviderError(error, 'network', /^no answer from 127\.0\.0\.1:\d+ within 0\.1 s \(1 try\)$/);
});
