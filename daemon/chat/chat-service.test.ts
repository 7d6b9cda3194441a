/**
 * The chat service with tools: the agent loop executes the model's tool calls and calls the model
 * again with their results, and later turns send the calls and results back. Real provider, real
 * fake-openai server; the agent holds a tool made for the test (the chat agent's own tools:
 * test/chat/agent-tools.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { ChatMessage, EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAIForTest } from '../../test/fake-openai/index.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import type { ResolvedProvider } from '../config/config-service.ts';
import { EventBus } from '../events/bus.ts';
import { ModelTable } from '../llm/models.ts';
import { createProvider } from '../llm/provider.ts';
import { defineTool } from '../tools/tool.ts';
import { ChatService } from './chat-service.ts';
import { defer } from '../../test/helpers/defer.ts';

const shout = defineTool({
  name: 'shout',
  description: 'Returns the text in capitals.',
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => ({ output: text.toUpperCase(), summary: `shouted ${text.length} characters` }),
});

describe('ChatService with tools', () => {
  for (const api of ['chat', 'responses'] as const) {
    it(`runs the tool the model calls and answers with its result (RALPH_API=${api})`, async (t) => {
      const server = await startFakeOpenAIForTest(t);
      server.script(
        { toolCalls: [{ name: 'shout', arguments: { text: 'hello' } }], usage: { inputTokens: 100, outputTokens: 10 } },
        // The second call must carry the tool's result.
        (request) => ({ text: `The tool said ${request.pendingToolResults[0]?.output}.`, usage: { inputTokens: 200, outputTokens: 20 } }),
      );
      const repoRoot = await makeTempRepo(t);
      const bus = new EventBus();
      const events: EventEnvelope[] = [];
      bus.subscribe((event) => events.push(event.envelope));
      const provider: ResolvedProvider = { model: 'gpt-5.4-mini', api, baseURL: server.url, apiKey: 'test-key', configured: true };
      const chat = await ChatService.open({
        repoRoot,
        bus,
        settings: { provider: () => provider, models: () => new ModelTable() },
        createProvider,
        agent: { instructions: () => 'Be brief.', tools: () => [shout] },
        log: () => {},
      });
      defer(t, () => chat.close());

      const sent = await chat.send({ text: 'shout hello' }, { clientId: 'c1', name: 'test' });
      const reply = await waitFor(
        () =>
          events.flatMap((event) =>
            event.type === 'chat.message.done' && event.data.message.id === sent.replyMessageId ? [event.data.message] : [],
          )[0],
        { message: 'the reply' },
      );
      assert.equal(reply.status, 'done');
      assert.deepEqual(
        reply.parts.map((part) =>
          part.type === 'tool' ? [part.type, part.name, part.status, part.result, part.summary] : [part.type, part.text],
        ),
        [
          ['tool', 'shout', 'done', 'HELLO', 'shouted 5 characters'],
          ['text', 'The tool said HELLO.'],
        ],
      );
      const toolEvents = events.flatMap((event) => (event.type === 'chat.part' ? [event.data.part] : []));
      assert.deepEqual(
        toolEvents.map((part) => part.type === 'tool' && part.status),
        ['running', 'done'],
      );
      assert.equal(server.modelRequests().length, 2, 'one call that asked for the tool, one with its result');
      assert.deepEqual(server.modelRequests()[0]?.toolNames, ['shout'], 'the registry is offered to the model');
      assert.deepEqual(
        reply.usage,
        { inputTokens: 300, cachedInputTokens: 0, outputTokens: 30, reasoningTokens: 0 },
        'usage adds up both calls',
      );
      // gpt-5.4-mini: $0.75 per 1M input tokens, $4.50 per 1M output tokens.
      assert.ok(Math.abs((reply.costUsd ?? 0) - (300 * 0.75 + 30 * 4.5) / 1e6) < 1e-12, `cost ${reply.costUsd}`);

      // The next turn sends the call and its result back with the conversation.
      const next = await chat.send({ text: 'thanks' }, { clientId: 'c1', name: 'test' });
      await waitFor(() => events.some((event) => event.type === 'chat.message.done' && event.data.message.id === next.replyMessageId), {
        message: 'the second reply',
      });
      const body = JSON.stringify(server.modelRequests().at(-1)?.body);
      assert.match(body, /HELLO/);
      assert.match(body, /shout/);
      const history = await chat.history({});
      assert.deepEqual(
        history.messages.map((message: ChatMessage) => message.role),
        ['user', 'assistant', 'user', 'assistant'],
      );
    });
  }
});
