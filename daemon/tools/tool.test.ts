import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { defineTool, runTool, toolDefinition, type ToolContext } from './tool.ts';

const echo = defineTool({
  name: 'echo_text',
  description: 'Echoes its text.',
  parameters: z.object({ text: z.string().min(1).describe('What to echo'), times: z.int().positive().optional() }),
  async execute({ text, times = 1 }) {
    if (text === 'explode') throw new Error('the tool broke');
    return { output: text.repeat(times), summary: `echoed ${text}` };
  },
});

function context(signal = new AbortController().signal): ToolContext {
  return { root: '/nowhere', signal };
}

test('toolDefinition gives the JSON schema of the parameters, without $schema', () => {
  const definition = toolDefinition(echo);
  assert.equal(definition.name, 'echo_text');
  assert.equal(definition.description, 'Echoes its text.');
  assert.equal(definition.parameters.$schema, undefined);
  assert.equal(definition.parameters.type, 'object');
  assert.deepEqual(definition.parameters.required, ['text']);
  assert.deepEqual(Object.keys(definition.parameters.properties as object), ['text', 'times']);
});

test('runTool validates and executes', async () => {
  const result = await runTool(echo, '{"text":"ab","times":2}', context());
  assert.deepEqual(result, { output: 'abab', summary: 'echoed ab' });
});

test('runTool turns bad JSON, bad arguments and a thrown error into error results', async () => {
  const badJson = await runTool(echo, '{"text": ', context());
  assert.equal(badJson.isError, true);
  assert.match(badJson.output, /not valid JSON/);

  const badArgs = await runTool(echo, '{"text": 5}', context());
  assert.equal(badArgs.isError, true);
  assert.match(badArgs.output, /invalid arguments/);
  assert.match(badArgs.output, /text/);

  const missing = await runTool(echo, '', context());
  assert.equal(missing.isError, true, 'empty arguments are {} and text is required');

  const thrown = await runTool(echo, '{"text":"explode"}', context());
  assert.equal(thrown.isError, true);
  assert.equal(thrown.output, 'echo_text failed: the tool broke');
});

test('runTool does not start a tool once cancelled', async () => {
  const controller = new AbortController();
  controller.abort();
  const result = await runTool(echo, '{"text":"ab"}', context(controller.signal));
  assert.equal(result.isError, true);
  assert.match(result.output, /cancelled/);
});
