/** The Responses API of the fake server, read through the real `openai` SDK. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResponseInputItem, ResponseStreamEvent, Tool } from 'openai/resources/responses/responses';
import { sdkClient, startFakeOpenAIForTest } from './fixtures.ts';

const READ_FILE: Tool = {
  type: 'function',
  name: 'read_file',
  description: 'Read a file of the workspace',
  strict: true,
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
};

test('non-streaming: the SDK parses the response, its text and usage', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script({ text: 'Hello there.', usage: { inputTokens: 12, cachedInputTokens: 4, outputTokens: 30, reasoningTokens: 20 } });
  const response = await sdkClient(server).responses.create({ model: 'gpt-5.4', input: 'hi' });

  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.model, 'gpt-5.4');
  assert.equal(response.output_text, 'Hello there.');
  assert.deepEqual(response.usage, {
    input_tokens: 12,
    input_tokens_details: { cached_tokens: 4, cache_write_tokens: 0 },
    output_tokens: 30,
    output_tokens_details: { reasoning_tokens: 20 },
    total_tokens: 42,
  });
  const [record] = server.requests;
  assert.equal(record?.api, 'responses');
  assert.equal(record?.stream, false);
  assert.equal(record?.status, 200);
  assert.equal(record?.aborted, false);
});

test('streaming with responses.stream(): text arrives as deltas, the final response matches', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
  const stream = sdkClient(server).responses.stream({ model: 'gpt-5.4-mini', input: 'one two three four' });
  const deltas: string[] = [];
  stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
  const final = await stream.finalResponse();

  assert.deepEqual(deltas, ['one', ' two', ' three', ' four']);
  assert.equal(final.output_text, 'one two three four');
  assert.equal(final.status, 'completed');
  assert.ok(final.usage && final.usage.output_tokens > 0 && final.usage.input_tokens > 0);
  assert.equal(final.usage.total_tokens, final.usage.input_tokens + final.usage.output_tokens);
  assert.equal(server.requests[0]?.stream, true);
  assert.equal(server.requests[0]?.aborted, false);
});

test('streaming with create({stream: true}): OpenAI event order, sequence numbers counting from 0', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script({ text: 'Hi you' });
  const stream = await sdkClient(server).responses.create({ model: 'gpt-5.4', input: 'x', stream: true });
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);

  assert.deepEqual(
    events.map((event) => event.type),
    [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ],
  );
  assert.deepEqual(
    events.map((event) => event.sequence_number),
    events.map((_, index) => index),
  );
  const created = events[0];
  assert.ok(created?.type === 'response.created');
  assert.equal(created.response.status, 'in_progress');
  const completed = events.at(-1);
  assert.ok(completed?.type === 'response.completed');
  assert.equal(completed.response.status, 'completed');
  assert.ok(completed.response.usage, 'response.completed carries usage');
});

test('tool call round trip, streaming: the SDK sees the call; the result sent back gets the answer', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'tool-roundtrip' });
  const client = sdkClient(server);
  const input: ResponseInputItem[] = [{ role: 'user', content: 'Please read_file {"path": "README.md"}' }];

  const first = client.responses.stream({ model: 'gpt-5.4', input, tools: [READ_FILE] });
  const argumentDeltas: string[] = [];
  first.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
  const firstResponse = await first.finalResponse();
  const call = firstResponse.output.find((item) => item.type === 'function_call');
  assert.ok(call?.type === 'function_call', 'the response holds a function_call item');
  assert.equal(call.name, 'read_file');
  assert.deepEqual(JSON.parse(call.arguments), { path: 'README.md' });
  assert.match(call.call_id, /^call_/);
  assert.ok(argumentDeltas.length > 1, 'arguments stream in several deltas');
  assert.equal(argumentDeltas.join(''), call.arguments);
  assert.equal(firstResponse.output_text, '');

  const second = await client.responses
    .stream({
      model: 'gpt-5.4',
      input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '# Ralph' }],
      tools: [READ_FILE],
    })
    .finalResponse();
  assert.equal(second.output_text, 'Tool read_file returned: # Ralph');
  assert.deepEqual(
    server.requests.map((record) => record.toolNames),
    [['read_file'], ['read_file']],
  );
});

test('tool call round trip, non-streaming, through previous_response_id', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'tool-roundtrip' });
  const client = sdkClient(server);
  const first = await client.responses.create({ model: 'gpt-5.4', input: 'read something', tools: [READ_FILE] });
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call?.type === 'function_call');
  // No JSON in the message: arguments come from the tool's schema.
  assert.deepEqual(JSON.parse(call.arguments), { path: 'example path' });

  const second = await client.responses.create({
    model: 'gpt-5.4',
    previous_response_id: first.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'contents' }],
    tools: [READ_FILE],
  });
  assert.equal(second.output_text, 'Tool read_file returned: contents');
});

test('custom (freeform) tool call round trip: a custom_tool_call with raw input, its output answered', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  const patch = '*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n';
  server.script({ toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: patch }] }, (request) => ({
    text: request.pendingToolResults.map((result) => `${result.name}: ${result.output}`).join('\n'),
  }));
  const client = sdkClient(server);
  const tools: Tool[] = [{ type: 'custom', name: 'apply_patch', description: 'Edit files', format: { type: 'text' } }];

  const first = client.responses.stream({ model: 'gpt-5.5', input: 'write a.txt', tools });
  const inputDeltas: string[] = [];
  first.on('response.custom_tool_call_input.delta', (event) => inputDeltas.push(event.delta));
  const firstResponse = await first.finalResponse();
  const call = firstResponse.output.find((item) => item.type === 'custom_tool_call');
  assert.ok(call?.type === 'custom_tool_call', 'the response holds a custom_tool_call item');
  assert.equal(call.name, 'apply_patch');
  assert.equal(call.input, patch);
  assert.ok(inputDeltas.length > 1, 'the input streams in several deltas');
  assert.equal(inputDeltas.join(''), patch);
  assert.deepEqual(server.requests[0]?.toolNames, ['apply_patch']);

  const second = await client.responses.create({
    model: 'gpt-5.5',
    input: [{ role: 'user', content: 'write a.txt' }, call, { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Success.' }],
    tools,
  });
  assert.equal(second.output_text, 'apply_patch: Success.');
});

test('a custom tool call is refused in a chat completion and without raw input, as a scenario bug', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script(
    { toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: 'x' }] },
    { toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: {} }] },
  );
  const client = sdkClient(server);
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] }),
    /Responses API only/,
  );
  await assert.rejects(client.responses.create({ model: 'gpt-5.5', input: 'hi' }), /input as a string/);
});

test('hosted web search: web_search_call items, then text with url_citation annotations', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'web-search' });
  const client = sdkClient(server);
  const stream = client.responses.stream({ model: 'gpt-5.4', input: 'ink testing', tools: [{ type: 'web_search' }] });
  const searchEvents: string[] = [];
  stream.on('event', (event) => {
    if (event.type.startsWith('response.web_search_call.') || event.type === 'response.output_text.annotation.added')
      searchEvents.push(event.type);
  });
  const final = await stream.finalResponse();

  assert.deepEqual(searchEvents, [
    'response.web_search_call.in_progress',
    'response.web_search_call.searching',
    'response.web_search_call.completed',
    'response.output_text.annotation.added',
    'response.output_text.annotation.added',
  ]);
  const search = final.output[0];
  assert.ok(search?.type === 'web_search_call');
  assert.equal(search.status, 'completed');
  assert.ok(search.action.type === 'search');
  assert.equal(search.action.query, 'ink testing');

  const message = final.output[1];
  assert.ok(message?.type === 'message');
  const text = message.content[0];
  assert.ok(text?.type === 'output_text');
  assert.equal(text.annotations.length, 2);
  for (const annotation of text.annotations) {
    assert.ok(annotation.type === 'url_citation');
    assert.match(annotation.url, /^https:\/\/example\.(com|org)\//);
    assert.ok(annotation.end_index > annotation.start_index);
    assert.ok(text.text.slice(annotation.start_index, annotation.end_index).includes(annotation.title.replace(/^Example /, '')));
  }
  assert.deepEqual(server.requests[0]?.toolNames, ['web_search']);

  // Without the hosted tool offered, the same scenario answers without searching.
  const plain = await client.responses.create({ model: 'gpt-5.4', input: 'ink testing' });
  assert.ok(plain.output.every((item) => item.type !== 'web_search_call'));
  assert.match(plain.output_text, /not available/);
});

test('reasoning: a reasoning item with its summary streamed, reasoning tokens in usage', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'reasoning' });
  const stream = sdkClient(server).responses.stream({ model: 'gpt-5.5', input: 'why?', reasoning: { effort: 'high' } });
  let summary = '';
  stream.on('response.reasoning_summary_text.delta', (event) => (summary += event.delta));
  const final = await stream.finalResponse();

  const reasoning = final.output[0];
  assert.ok(reasoning?.type === 'reasoning');
  assert.equal(reasoning.summary[0]?.text, summary);
  assert.match(summary, /why\?/);
  assert.equal(final.usage?.output_tokens_details.reasoning_tokens, 128);
  assert.ok((final.usage?.output_tokens ?? 0) > 128, 'output tokens include the reasoning tokens');
  assert.equal(final.reasoning?.effort, 'high');
  assert.equal(final.output_text, 'Having thought about it: why?');
});
