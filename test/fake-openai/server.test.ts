/** The fake server's own surface: models, scripts, scenarios, bad requests, and the standalone command. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { waitFor } from '../helpers/wait.ts';
import { sdkClient, startFakeOpenAIForTest } from './fixtures.ts';
import type { ScenarioRequest } from './index.ts';
import { exampleArguments } from './index.ts';

test('GET /v1/models lists the known model ids; one model can be retrieved', async (t) => {
  const server = await startFakeOpenAIForTest(t, { models: ['gpt-5.4', 'local-llama'] });
  const client = sdkClient(server);
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['gpt-5.4', 'local-llama']);
  assert.equal((await client.models.retrieve('local-llama')).id, 'local-llama');
  await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
  assert.equal(server.requests[0]?.api, 'models');
  assert.deepEqual(server.modelRequests(), []);
});

test('scripted replies answer the next requests in order, then the scenario takes over', async (t) => {
  const server = await startFakeOpenAIForTest(t, { scenario: 'echo' });
  const client = sdkClient(server);
  server.script({ text: 'first' }, (request) => ({ text: `second, for ${request.api}` }));
  assert.equal(server.pendingScript, 2);

  assert.equal((await client.responses.create({ model: 'm', input: 'a' })).output_text, 'first');
  const chat = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'b' }] });
  assert.equal(chat.choices[0]?.message.content, 'second, for chat');
  assert.equal((await client.responses.create({ model: 'm', input: 'echoed' })).output_text, 'echoed');
  assert.equal(server.pendingScript, 0);
});

test('a scenario sees the conversation, the tools offered, the tool results and the request count', async (t) => {
  const seen: ScenarioRequest[] = [];
  const server = await startFakeOpenAIForTest(t, {
    scenario: (request) => {
      seen.push(request);
      return { text: 'ok' };
    },
  });
  const client = sdkClient(server);
  await client.responses.create({
    model: 'gpt-5.4',
    instructions: 'Be terse.',
    input: [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'look at ' },
          { type: 'input_text', text: 'this' },
        ],
      },
      { type: 'function_call', call_id: 'call_1', name: 'read_file', arguments: '{"path":"x"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'file body' },
    ],
    tools: [{ type: 'function', name: 'read_file', parameters: {}, strict: false }, { type: 'web_search' }],
  });
  await client.chat.completions.create({ model: 'gpt-5.4', messages: [{ role: 'user', content: 'plain' }] });

  const [responses, chat] = seen;
  assert.ok(responses && chat);
  assert.equal(responses.api, 'responses');
  assert.equal(responses.requestIndex, 0);
  assert.deepEqual(responses.toolNames, ['read_file', 'web_search']);
  assert.equal(responses.lastUserText, 'look at this');
  assert.deepEqual(responses.conversation[0], { kind: 'message', role: 'developer', text: 'Be terse.' });
  assert.deepEqual(responses.pendingToolResults, [{ kind: 'tool-result', callId: 'call_1', name: 'read_file', output: 'file body' }]);
  assert.equal(chat.api, 'chat');
  assert.equal(chat.requestIndex, 1);
  assert.deepEqual(chat.pendingToolResults, []);
});

test('an async scenario holds its reply until the test releases it', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = await startFakeOpenAIForTest(t);
  server.script(async () => {
    await released;
    return { text: 'released' };
  });
  const call = sdkClient(server).responses.create({ model: 'm', input: 'x' });
  await waitFor(() => server.requests.length === 1, { message: 'the request to arrive' });
  assert.equal(server.requests[0]?.endedAt, undefined, 'still in flight while held');
  release();
  assert.equal((await call).output_text, 'released');
});

test('bad requests get 400 with an OpenAI error body; unknown paths 404', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  const client = sdkClient(server);
  const missingModel = await client.responses
    .create({ input: 'x' } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming) // deliberately invalid
    .catch((caught: unknown) => caught);
  assert.ok(missingModel instanceof OpenAI.BadRequestError, `expected a BadRequestError, got ${String(missingModel)}`);
  assert.equal(missingModel.param, 'model');

  const notJson = await fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    body: '{oops',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { error: { message: string } }).error.message, /could not parse the JSON body/);

  await assert.rejects(client.responses.create({ model: 'm', input: 'x', previous_response_id: 'resp_unknown' }), { status: 400 });

  const stray = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
  assert.equal(stray.status, 404);
  assert.equal(server.requests.at(-1)?.api, 'other');
});

test('a scenario that throws is a 500 the SDK does not retry, with the reason in the message', async (t) => {
  const server = await startFakeOpenAIForTest(t);
  server.script(() => {
    throw new Error('no answer scripted for this');
  });
  server.script({ text: 'a', deltas: ['b'] }); // deltas that do not join to the text
  const client = sdkClient(server, { maxRetries: 3 });
  await assert.rejects(client.responses.create({ model: 'm', input: 'x' }), { status: 500, message: /no answer scripted for this/ });
  await assert.rejects(client.responses.create({ model: 'm', input: 'x' }), { status: 500, message: /deltas do not join/ });
  assert.equal(server.modelRequests().length, 2, 'no retries');
  assert.match(server.requests[0]?.error ?? '', /scenario failed/);
});

test('onDeltaWritten reports each streamed delta as it is written, before the client reads it', async (t) => {
  const written: { deltaIndex: number; at: number }[] = [];
  const server = await startFakeOpenAIForTest(t, { onDeltaWritten: (_record, deltaIndex, at) => written.push({ deltaIndex, at }) });
  const received: number[] = [];
  const stream = sdkClient(server).responses.stream({ model: 'm', input: 'a b c d e' });
  stream.on('response.output_text.delta', () => received.push(performance.timeOrigin + performance.now()));
  await stream.finalResponse();
  assert.deepEqual(
    written.map((entry) => entry.deltaIndex),
    [0, 1, 2, 3, 4],
  );
  assert.equal(received.length, 5);
  for (const [index, at] of received.entries()) assert.ok(at >= written[index]!.at, `delta ${index} was read after it was written`);
});

test('exampleArguments fills every required property from the JSON schema', () => {
  assert.deepEqual(
    exampleArguments({
      type: 'object',
      properties: {
        title: { type: 'string' },
        count: { type: 'integer' },
        queue: { type: ['boolean', 'null'] },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        tags: { type: 'array', items: { type: 'string' } },
        nested: { type: 'object', properties: { deep: { type: 'number' } }, required: ['deep'] },
        optional: { type: 'string' },
      },
      required: ['title', 'count', 'queue', 'mode', 'tags', 'nested'],
    }),
    { title: 'example title', count: 1, queue: true, mode: 'fast', tags: [], nested: { deep: 1 } },
  );
});

test('standalone: main.ts prints its base URL, serves the named scenario, stops on SIGTERM', async (t) => {
  const main = path.join(import.meta.dirname, 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--scenario', 'web-search', '--delta-delay', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const url = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+\/v1)\n/.exec(stdout)?.[1], {
    timeoutMs: 15_000,
    message: 'the base URL on stdout',
  });
  const client = new OpenAI({ baseURL: url, apiKey: 'anything', maxRetries: 0, timeout: 10_000 });
  const response = await client.responses.create({ model: 'gpt-5.4', input: 'hand test', tools: [{ type: 'web_search' }] });
  assert.equal(response.output[0]?.type, 'web_search_call');
  await waitFor(() => stderr.includes('POST /v1/responses → 200'), { message: 'the request line on stderr' });

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});

test('standalone: an unknown scenario is a usage error (exit 2, one clear line)', async () => {
  const main = path.join(import.meta.dirname, 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--scenario', 'nope'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(stderr, /^fake-openai: unknown scenario 'nope'\n/);
});
