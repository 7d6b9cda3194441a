/** Chat Completions of the fake server, read through the real `openai` SDK. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions/completions';
import { sdkClient, startFakeOpenAIForTest } from './fixtures.ts';

const LIST_FILES: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'list_files',
    parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
    strict: true,
  },
};

test('non-streaming: a chat.completion with the text, finish_reason and usage', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script({ text: 'Fine, thanks.', usage: { inputTokens: 9, cachedInputTokens: 2, outputTokens: 5, reasoningTokens: 1 } });
  const completion = await sdkClient(server).chat.completions.create({
    model: 'gpt-5.4-nano',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'How are you?' },
    ],
  });

  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'gpt-5.4-nano');
  assert.equal(completion.choices[0]?.message.content, 'Fine, thanks.');
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.equal(completion.usage?.prompt_tokens, 9);
  assert.equal(completion.usage?.completion_tokens, 5);
  assert.equal(completion.usage?.total_tokens, 14);
  assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 2);
  assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 1);
  assert.equal(server.requests[0]?.api, 'chat');
});

test('streaming with create({stream: true}): content deltas, a finish chunk, then a usage chunk', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
  const stream = await sdkClient(server).chat.completions.create({
    model: 'gpt-5.4',
    messages: [{ role: 'user', content: 'alpha beta gamma' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);

  assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '');
  assert.deepEqual(content.filter(Boolean), ['alpha', ' beta', ' gamma']);
  const finish = chunks.findIndex((chunk) => chunk.choices[0]?.finish_reason === 'stop');
  assert.equal(finish, chunks.length - 2, 'the finish chunk comes just before the usage chunk');
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.ok(last?.usage && last.usage.completion_tokens > 0);
  assert.ok(
    chunks.slice(0, -1).every((chunk) => chunk.usage === null),
    'earlier chunks carry usage: null',
  );
});

test('streaming without include_usage: no usage chunk', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
  const stream = await sdkClient(server).chat.completions.create({
    model: 'gpt-5.4',
    messages: [{ role: 'user', content: 'x y' }],
    stream: true,
  });
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop');
  assert.ok(chunks.every((chunk) => chunk.usage === undefined));
});

test('chat.completions.stream(): the helper accumulates the deltas into the final completion', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'long-stream' });
  const stream = sdkClient(server).chat.completions.stream({
    model: 'gpt-5.4',
    messages: [{ role: 'user', content: 'go' }],
    stream_options: { include_usage: true },
  });
  const deltas: string[] = [];
  stream.on('content.delta', (event) => deltas.push(event.delta));
  const final = await stream.finalChatCompletion();

  assert.ok(deltas.length > 300, `many small deltas (got ${deltas.length})`);
  assert.equal(final.choices[0]?.message.content, deltas.join(''));
  assert.match(final.choices[0]?.message.content ?? '', /^Line 1 of the long stream[\s\S]*Line 40 of the long stream/);
  assert.ok(final.usage && final.usage.completion_tokens > 0);
});

test('tool call round trip, streaming: tool_calls deltas, then the answer from the tool result', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'tool-roundtrip' });
  const client = sdkClient(server);
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'use list_files {"path": "src"}' }];

  const first = await client.chat.completions.stream({ model: 'gpt-5.4', messages, tools: [LIST_FILES] }).finalChatCompletion();
  const choice = first.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  const call = choice?.message.tool_calls?.[0];
  assert.ok(call?.type === 'function');
  assert.equal(call.function.name, 'list_files');
  assert.deepEqual(JSON.parse(call.function.arguments), { path: 'src' });
  assert.equal(choice?.message.content, null);

  messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'a.ts\nb.ts' });
  const second = await client.chat.completions.stream({ model: 'gpt-5.4', messages, tools: [LIST_FILES] }).finalChatCompletion();
  assert.equal(second.choices[0]?.message.content, 'Tool list_files returned: a.ts\nb.ts');
  assert.equal(second.choices[0]?.finish_reason, 'stop');
});

test('tool call round trip, non-streaming', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'tool-roundtrip' });
  const client = sdkClient(server);
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'what is in here?' }];
  const first = await client.chat.completions.create({ model: 'gpt-5.4', messages, tools: [LIST_FILES] });
  const message = first.choices[0]?.message;
  const call = message?.tool_calls?.[0];
  assert.ok(message && call?.type === 'function');
  assert.deepEqual(JSON.parse(call.function.arguments), { path: 'example path' });

  messages.push(message, { role: 'tool', tool_call_id: call.id, content: 'nothing' });
  const second = await client.chat.completions.create({ model: 'gpt-5.4', messages, tools: [LIST_FILES] });
  assert.equal(second.choices[0]?.message.content, 'Tool list_files returned: nothing');
});

test('a reply with text and two tool calls streams both, indexed', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script({
    text: 'Looking.',
    toolCalls: [
      { name: 'list_files', arguments: { path: 'a' }, callId: 'call_one' },
      { name: 'list_files', arguments: '{"path":"b"}', callId: 'call_two' },
    ],
  });
  const final = await sdkClient(server)
    .chat.completions.stream({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'x' }], tools: [LIST_FILES] })
    .finalChatCompletion();
  const message = final.choices[0]?.message;
  assert.equal(message?.content, 'Looking.');
  assert.deepEqual(
    message?.tool_calls?.map((call) => (call.type === 'function' ? [call.id, call.function.arguments] : [])),
    [
      ['call_one', '{"path":"a"}'],
      ['call_two', '{"path":"b"}'],
    ],
  );
});
