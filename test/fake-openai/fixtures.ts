/** For tests that talk to the fake server: one started per test and closed after it, and an SDK client for it. */
import OpenAI from 'openai';
import type { ClientOptions } from 'openai';
import type { TestContext } from 'node:test';
import { startFakeOpenAI } from './server.ts';
import type { FakeOpenAIOptions, FakeOpenAIServer } from './server.ts';

export async function startFakeOpenAIForTest(t: TestContext, options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(options);
  t.after(() => server.close());
  return server;
}

/**
 * The real SDK pointed at the server. No retries unless asked, and a bounded timeout so a broken
 * server fails the test instead of hanging it.
 */
export function sdkClient(server: FakeOpenAIServer, options: ClientOptions = {}): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0, timeout: 10_000, ...options });
}
