import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { startFakeOpenAIForTest } from '../../test/fake-openai/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { createProvider } from '../llm/provider.ts';
import { ProviderError } from '../llm/types.ts';
import { defineTool } from '../tools/tool.ts';
import { runAgent, type AgentEvent, type AgentOptions } from './agent-loop.ts';

const echoTool = defineTool({
  name: 'shout',
  description: 'Returns the text in capitals.',
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => ({ output: text.toUpperCase(), summary: `shouted ${text.length} chars` }),
});

async function collect(options: AgentOptions): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of runAgent(options)) events.push(event);
  return events;
}

for (const api of ['responses', 'chat'] as const) {
  describe(`agent loop (${api})`, () => {
    async function setup(t: Parameters<typeof makeTempDir>[0]) {
      const server = await startFakeOpenAIForTest(t!, { scenario: 'echo' });
      const provider = createProvider({ api, apiKey: 'test', baseURL: server.url, maxRetries: 0 });
      const root = await makeTempDir(t);
      const base = (overrides: Partial<AgentOptions> = {}): AgentOptions => ({
        provider,
        request: { model: 'gpt-5.4-mini', instructions: 'Be brief.' },
        items: [{ role: 'user', content: 'go' }],
        tools: [echoTool],
        toolContext: { root },
        maxSteps: 5,
        signal: new AbortController().signal,
        ...overrides,
      });
      return { server, base };
    }

    test('runs the tools the model calls and answers with their results', async (t) => {
      const { server, base } = await setup(t);
      server.script({ toolCalls: [{ name: 'shout', arguments: { text: 'hello' } }] }, { text: 'It said HELLO.' });
      const events = await collect(base());
      assert.deepEqual(events.map((e) => e.type).filter((type) => type !== 'text.delta'), ['step', 'usage', 'tool.start', 'tool.end', 'step', 'usage', 'done']);
      const end = events.find((e) => e.type === 'tool.end');
      assert.equal(end?.type === 'tool.end' && end.result.output, 'HELLO');
      const done = events.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.reason, 'answered');
      assert.equal(done.text, 'It said HELLO.');
      assert.deepEqual(done.items.map((item) => item.role), ['user', 'assistant', 'tool', 'assistant']);
      // The second request carried the tool result back.
      assert.match(JSON.stringify(server.requests.at(-1)?.body), /HELLO/);
    });

    test('an unknown tool or bad arguments are results the model reads, not crashes', async (t) => {
      const { server, base } = await setup(t);
      server.script({ toolCalls: [{ name: 'nope', arguments: {} }, { name: 'shout', arguments: { text: 3 } }] }, { text: 'ok' });
      const ends = (await collect(base())).filter((e) => e.type === 'tool.end');
      assert.equal(ends.length, 2);
      for (const end of ends) assert.ok(end.type === 'tool.end' && end.result.isError);
      assert.match(ends[0]?.type === 'tool.end' ? ends[0].result.output : '', /no tool named nope; the tools are: shout/);
    });

    test('stopAfterTool ends the loop without another model call; the budget ends it too', async (t) => {
      const { server, base } = await setup(t);
      server.script({ toolCalls: [{ name: 'shout', arguments: { text: 'x' } }] });
      const stopped = await collect(base({ stopAfterTool: (call) => call.name === 'shout' }));
      const last = stopped.at(-1);
      assert.ok(last?.type === 'done');
      assert.equal(last.reason, 'stopped-by-tool');
      assert.equal(server.modelRequests().length, 1);

      for (let i = 0; i < 3; i++) server.script({ toolCalls: [{ name: 'shout', arguments: { text: `${i}` } }] });
      const spent = await collect(base({ maxSteps: 2 }));
      const done = spent.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.reason, 'max-steps');
      assert.equal(spent.filter((e) => e.type === 'step').length, 2);
    });

    test('abort mid-stream ends the loop with ProviderError aborted', async (t) => {
      const { server, base } = await setup(t);
      server.script({ text: 'a long answer '.repeat(200), deltaDelayMs: 5 });
      const controller = new AbortController();
      const seen: AgentEvent[] = [];
      await assert.rejects(
        (async () => {
          for await (const event of runAgent(base({ signal: controller.signal }))) {
            seen.push(event);
            if (event.type === 'text.delta') controller.abort();
          }
        })(),
        (error: unknown) => error instanceof ProviderError && error.kind === 'aborted',
      );
      assert.ok(!seen.some((e) => e.type === 'done'));
    });
  });
}
