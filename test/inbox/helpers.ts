/** What the inbox tests share: a repository, worktrees and a fake provider, and the scripted executor's question and next step. */
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { startFakeOpenAI, type ScenarioRequest } from '../fake-openai/index.ts';
import { defer } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { promptOf, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';

/** The executor's first reply: it asks. */
export const ASK = {
  toolCalls: [{ name: 'ask_human', arguments: { question: 'Which greeting should hello.txt hold?', options: ['hello', 'hi'] } }],
};

export async function setup(t: TestContext) {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: UNPRICED_MODEL };
  return { repo, worktreesRoot, server, env };
}

/** The second iteration: what it was told goes to `seen`; it writes the file. */
export function answeredIteration(seen: string[]) {
  return (request: ScenarioRequest) => {
    seen.push(promptOf(request));
    return reply.write('hello.txt', 'Howdy\n');
  };
}
