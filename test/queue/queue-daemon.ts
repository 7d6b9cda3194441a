/**
 * A real daemon whose goals run on queue workers: a private Redis, a repository with the config
 * the test gives (`executor.backend: 'queue'` added), a bare repository as its `origin`, and
 * test/fake-openai as the model of the daemon and of every worker. Everything is stopped after the
 * test, last started first.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Goal } from '../../protocol/index.ts';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fake-openai/index.ts';
import type { Running } from '../helpers/cli.ts';
import { defer, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startWorkerProcess } from './queue-helpers.ts';

export interface QueueDaemon {
  redis: TestRedis;
  repo: string;
  /** The bare repository every worker fetches from and pushes to (the repository's `origin`). */
  remote: string;
  /** The test's folder: the remote, the worktrees, each worker's folder and HOME. */
  scratch: string;
  server: FakeOpenAIServer;
  daemon: TestDaemon;
  client: Awaited<ReturnType<TestDaemon['connect']>>;
  goal(id: number): Promise<Goal>;
  /** Starts `ralph worker` as NAME (queue-helpers.ts: its own folder and HOME, the fake server as its model), `env` added to its environment, `args` to its command line. */
  startWorker(name: string, env?: NodeJS.ProcessEnv, args?: string[]): Promise<Running>;
}

export async function startQueueDaemon(
  t: TestContext,
  options: {
    config: { executor?: Record<string, unknown> } & Record<string, unknown>;
    files?: Record<string, string>;
    /** Added to the daemon's environment (the workers' stays theirs). */
    env?: NodeJS.ProcessEnv;
  },
): Promise<QueueDaemon> {
  const redis = await startRedis();
  defer(t, () => redis.dispose());
  const config = { ...options.config, executor: { ...options.config.executor, backend: 'queue' } };
  const repo = await makeTempRepo(undefined, { ...options.files, 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const scratch = await makeTempDir(undefined, 'ralph-queue-');
  defer(t, () => rm(scratch, { recursive: true, force: true }));
  const remote = path.join(scratch, 'remote.git');
  git(scratch, 'init', '--quiet', '--bare', remote);
  git(repo, 'remote', 'add', 'origin', remote);
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_QUEUE_URL: redis.url,
    ...options.env,
  };
  const worktreesRoot = path.join(scratch, 'worktrees');
  const daemon = await startTestDaemon(t, repo, { env, worktreesRoot, configWatch: false, pipeline: { paused: false } });
  const client = await daemon.connect('queue-daemon-test');
  return {
    redis,
    repo,
    remote,
    scratch,
    server,
    daemon,
    client,
    goal: async (id) => (await client.request('goal.get', { id })).goal,
    startWorker: (name, env, args) =>
      startWorkerProcess(t, { name, url: redis.url, scratch, modelUrl: server.url, ...(env ? { env } : {}), ...(args ? { args } : {}) }),
  };
}

/** Waits for a goal to be done; fails at once, saying why, when it is stuck. */
export function untilDone(queue: QueueDaemon, id: number, timeoutMs = 20_000): Promise<Goal> {
  return waitFor(
    async () => {
      const now = await queue.goal(id);
      if (now.state === 'stuck') throw new Error(`goal #${id} is stuck: ${now.attempts.at(-1)?.reason}`);
      return now.state === 'done' ? now : undefined;
    },
    { timeoutMs, message: `goal #${id} to be done` },
  );
}
