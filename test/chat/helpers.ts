/** A real daemon whose chat talks to a real fake-openai server, and ways to follow a reply's events. */
import type { TestContext } from 'node:test';
import type { ChatMessage, EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIOptions, type FakeOpenAIServer } from '../fake-openai/index.ts';
import { defer, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';

/** A model of the built-in table with published prices, so replies carry a cost. */
export const PRICED_MODEL = 'gpt-5.4-mini';

/** The environment that points a daemon's provider at the fake server. */
export function providerEnv(server: FakeOpenAIServer, api: 'chat' | 'responses' = 'chat'): NodeJS.ProcessEnv {
  return { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: api, RALPH_MODEL: PRICED_MODEL };
}

/** A fake-openai server closed after the test, after any daemon started later (the cleanup stack is LIFO). */
export async function startFakeServer(t: TestContext, options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(options);
  defer(t, () => server.close());
  return server;
}

export interface ChatSetup {
  server: FakeOpenAIServer;
  daemon: TestDaemon;
}

/** A fake server and a daemon whose chat uses it (the config file is not watched unless asked). */
export async function startChatDaemon(
  t: TestContext,
  options: { api?: 'chat' | 'responses'; fake?: FakeOpenAIOptions; repoRoot?: string; configWatch?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ChatSetup> {
  const server = await startFakeServer(t, options.fake);
  const daemon = await startTestDaemon(t, options.repoRoot, {
    env: options.env ?? providerEnv(server, options.api),
    configWatch: options.configWatch ?? false,
  });
  return { server, daemon };
}

/** The reply's final message, once its `chat.message.done` has arrived. */
export function waitForReply(events: readonly EventEnvelope[], replyId: string, timeoutMs = 10_000): Promise<ChatMessage> {
  return waitFor(
    () => {
      for (const event of events) if (event.type === 'chat.message.done' && event.data.message.id === replyId) return event.data.message;
      return undefined;
    },
    { timeoutMs, message: `the reply ${replyId} to end` },
  );
}

/** The text deltas of one message, in the order they arrived. */
export function deltasOf(events: readonly EventEnvelope[], messageId: string): string[] {
  return events.flatMap((event) => (event.type === 'chat.delta' && event.data.messageId === messageId ? [event.data.delta] : []));
}

export function textOf(message: ChatMessage): string {
  return message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
