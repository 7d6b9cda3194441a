/** The fake Anthropic server's own surface, over plain HTTP: streamed and whole replies, scripts, errors, the side endpoints. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import type { MessagesRequest } from './index.ts';
import { startFakeAnthropicForTest, UNSCRIPTED_TEXT } from './index.ts';

const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' };

function messagesBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], ...extra });
}

/** The SSE events of a streamed response, each as its name and parsed data. */
async function readEvents(response: Response): Promise<{ name: string | undefined; data: Record<string, unknown> }[]> {
  const events: { name: string | undefined; data: Record<string, unknown> }[] = [];
  const parser = createParser({ onEvent: (event) => events.push({ name: event.event, data: JSON.parse(event.data) }) });
  parser.feed(await response.text());
  return events;
}

test('a streamed reply carries thinking, text and tool_use blocks in Anthropic’s event order; the deltas join to the message', async (t) => {
  const server = await startFakeAnthropicForTest(t);
  const input = { file_path: 'src/a.ts', content: 'export const a = 1;\n' };
  server.script({ thinking: 'I should write it.', text: 'Writing the file now.', toolUses: [{ name: 'Write', input, id: 'toolu_1' }] });

  const response = await fetch(`${server.url}/v1/messages?beta=true`, { method: 'POST', headers, body: messagesBody({ stream: true }) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readEvents(response);
  const names = events.map((event) => event.name);
  assert.equal(names[0], 'message_start');
  assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
  for (const event of events) assert.equal(event.data.type, event.name);

  const blocks = new Map<number, { start: Record<string, unknown>; text: string }>();
  for (const { name, data } of events) {
    if (name === 'content_block_start')
      blocks.set(data.index as number, { start: data.content_block as Record<string, unknown>, text: '' });
    if (name === 'content_block_delta') {
      const delta = data.delta as Record<string, string>;
      const block = blocks.get(data.index as number);
      assert.ok(block, 'a delta follows its block start');
      block.text += delta.text ?? delta.thinking ?? delta.partial_json ?? '';
    }
  }
  assert.deepEqual(
    [...blocks.values()].map((block) => [block.start.type, block.text]),
    [
      ['thinking', 'I should write it.'],
      ['text', 'Writing the file now.'],
      ['tool_use', JSON.stringify(input)],
    ],
  );
  assert.equal(blocks.get(2)?.start.name, 'Write');
  assert.equal(blocks.get(2)?.start.id, 'toolu_1');
  const end = events.at(-2)?.data as { delta: { stop_reason: string }; usage: { output_tokens: number } };
  assert.equal(end.delta.stop_reason, 'tool_use');
  assert.ok(end.usage.output_tokens > 0);

  assert.deepEqual(
    server.requests.map((record) => [record.kind, record.path, record.model, record.stream, record.status]),
    [['messages', '/v1/messages', 'claude-test', true, 200]],
  );
});

test('a request without stream gets the whole message; unscripted requests get a plain closing turn', async (t) => {
  const server = await startFakeAnthropicForTest(t);
  server.script({ text: 'Done.', usage: { inputTokens: 7, outputTokens: 3 } });
  const first = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body: messagesBody() });
  const message = (await first.json()) as Record<string, unknown>;
  assert.deepEqual(message.content, [{ type: 'text', text: 'Done.' }]);
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual(message.usage, { input_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 3 });

  const second = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body: messagesBody() });
  assert.deepEqual(((await second.json()) as { content: unknown }).content, [{ type: 'text', text: UNSCRIPTED_TEXT }]);
});

test('a script function sees the tools offered and the tool results the request carries', async (t) => {
  const server = await startFakeAnthropicForTest(t);
  const seen: MessagesRequest[] = [];
  server.script((request) => {
    seen.push(request);
    return { text: `results: ${request.toolResults.length}` };
  });
  const messages = [
    { role: 'user', content: 'write it' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'Write', input: {} }] },
    {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: [{ type: 'text', text: 'File created' }], is_error: false }],
    },
  ];
  const tools = [
    { name: 'Write', input_schema: { type: 'object' } },
    { name: 'Bash', input_schema: { type: 'object' } },
  ];
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers,
    body: messagesBody({ messages, tools, system: [{ type: 'text', text: 'You are a test.' }] }),
  });
  assert.equal(response.status, 200);
  assert.deepEqual(seen[0]?.toolNames, ['Write', 'Bash']);
  assert.deepEqual(seen[0]?.toolResults, [{ toolUseId: 'toolu_9', content: 'File created', isError: false }]);
  assert.equal(seen[0]?.system, 'You are a test.');
  assert.equal(server.pendingScript, 0);
});

test('scripted errors, a required key and bad requests answer in Anthropic’s error shape', async (t) => {
  const server = await startFakeAnthropicForTest(t, { apiKey: 'sk-test' });
  server.script({ error: { status: 429, type: 'rate_limit_error', message: 'slow down', retryAfterSeconds: 30 } });
  const limited = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body: messagesBody() });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '30');
  const body = (await limited.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.deepEqual(body.error, { type: 'rate_limit_error', message: 'slow down' });

  const wrongKey = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { ...headers, 'x-api-key': 'nope' },
    body: messagesBody(),
  });
  assert.equal(wrongKey.status, 401);
  assert.equal(((await wrongKey.json()) as { error: { type: string } }).error.type, 'authentication_error');

  const bad = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: 'm', messages: [] }) });
  assert.equal(bad.status, 400);
  assert.equal(server.requests.at(-1)?.error, 'max_tokens: Field required');
});

test('count_tokens, the model list and the connectivity check answer minimally; other paths are 404', async (t) => {
  const server = await startFakeAnthropicForTest(t);
  const count = await fetch(`${server.url}/v1/messages/count_tokens`, { method: 'POST', headers, body: messagesBody() });
  assert.ok(((await count.json()) as { input_tokens: number }).input_tokens > 0);
  const models = (await (await fetch(`${server.url}/v1/models`, { headers })).json()) as { data: { id: string }[] };
  assert.ok(models.data.some((model) => model.id === 'claude-opus-5-5'));
  assert.equal((await fetch(`${server.url}/v1/models/fake-claude`, { headers })).status, 200);
  assert.equal((await fetch(`${server.url}/api/hello`, { method: 'HEAD' })).status, 200);
  assert.equal((await fetch(`${server.url}/v1/files`, { headers })).status, 404);
  assert.deepEqual(
    server.requests.map((record) => record.kind),
    ['count_tokens', 'models', 'models', 'hello', 'other'],
  );
  assert.deepEqual(server.messageRequests(), []);
});
