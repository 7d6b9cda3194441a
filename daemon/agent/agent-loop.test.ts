import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { startFakeOpenAIForTest } from '../../test/fake-openai/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { createProvider } from '../llm/provider.ts';
import { ProviderError } from '../llm/types.ts';
import { defineTool } from '../tools/tool.ts';
import { MAX_CONTINUATIONS, runAgent, type AgentEvent, type AgentOptions } from './agent-loop.ts';

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
      assert.deepEqual(
        events.map((e) => e.type).filter((type) => type !== 'text.delta'),
        ['step', 'usage', 'tool.start', 'tool.end', 'step', 'usage', 'done'],
      );
      const end = events.find((e) => e.type === 'tool.end');
      assert.equal(end?.type === 'tool.end' && end.result.output, 'HELLO');
      const done = events.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.reason, 'answered');
      assert.equal(done.text, 'It said HELLO.');
      assert.deepEqual(
        done.items.map((item) => item.role),
        ['user', 'assistant', 'tool', 'assistant'],
      );
      // The second request carried the tool result back.
      assert.match(JSON.stringify(server.requests.at(-1)?.body), /HELLO/);
    });

    test('an unknown tool or bad arguments are results the model reads, not crashes', async (t) => {
      const { server, base } = await setup(t);
      server.script(
        {
          toolCalls: [
            { name: 'nope', arguments: {} },
            { name: 'shout', arguments: { text: 3 } },
          ],
        },
        { text: 'ok' },
      );
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

    test('tool calls from a reply cut at the token limit do not run: each fails back asking for it again', async (t) => {
      const { server, base } = await setup(t);
      let ran = 0;
      const counting = defineTool({
        ...echoTool,
        execute: async ({ text }) => {
          ran++;
          return { output: text.toUpperCase(), summary: 'shouted' };
        },
      });
      server.script(
        { toolCalls: [{ name: 'shout', arguments: '{"text": "a very long te' }], stop: 'length' },
        { toolCalls: [{ name: 'shout', arguments: { text: 'short' } }] },
        { text: 'Done: SHORT.' },
      );
      const events = await collect(base({ tools: [counting] }));
      assert.equal(ran, 1, 'only the call from the whole reply ran');
      const cut = events.find((e) => e.type === 'cut');
      assert.deepEqual(cut, { type: 'cut', step: 1, reason: 'length', calls: 1, continued: false });
      const ends = events.filter((e) => e.type === 'tool.end');
      assert.ok(ends[0]?.type === 'tool.end' && ends[0].result.isError);
      assert.match(ends[0]?.type === 'tool.end' ? ends[0].result.output : '', /Not run: your reply was cut off at the output-token limit/);
      // The model read why, in the request after the cut reply.
      assert.match(JSON.stringify(server.requests[1]?.body), /Not run: your reply was cut off/);
      const done = events.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.reason, 'answered');
      assert.equal(done.text, 'Done: SHORT.');
    });

    test('a cut answer is continued, and one still cut when the continuations run out ends as cut, never answered', async (t) => {
      const { server, base } = await setup(t);
      server.script({ text: 'The plan: first', stop: 'length' }, { text: ' second, third.' });
      const continued = await collect(base({ tools: [] }));
      const done = continued.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.reason, 'answered');
      assert.equal(done.text, 'The plan: first second, third.');
      assert.match(JSON.stringify(server.requests.at(-1)?.body), /Continue exactly where it stopped/);

      const requestsBefore = server.requests.length;
      server.script(...Array.from({ length: MAX_CONTINUATIONS + 1 }, (_, i) => ({ text: `part ${i} `, stop: 'length' as const })));
      const cut = await collect(base({ tools: [], maxSteps: 10 }));
      assert.equal(server.requests.length - requestsBefore, MAX_CONTINUATIONS + 1);
      const end = cut.at(-1);
      assert.ok(end?.type === 'done');
      assert.equal(end.reason, 'cut');
      assert.equal(end.text, 'part 0 part 1 part 2 part 3 ');
      assert.deepEqual(
        cut.filter((e) => e.type === 'cut').map((e) => e.type === 'cut' && e.continued),
        [true, true, true, false],
      );
    });

    test('a reply stopped by the content filter is not an answer, and is not continued', async (t) => {
      const { server, base } = await setup(t);
      server.script({ text: 'I will', stop: 'content_filter' });
      const filtered = (await collect(base())).at(-1);
      assert.ok(filtered?.type === 'done');
      assert.equal(filtered.reason, 'cut');
      assert.equal(server.requests.length, 1, 'a filtered answer is not continued');
    });
  });
}
