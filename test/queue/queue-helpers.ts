/**
 * The queue backend on real parts: a private Redis, a bare repository as the shared remote, the
 * daemon's pipeline with the queue executor (its goal store, bus and log files), test/fake-openai
 * as every worker's model, and each worker a separate `ralph worker` process with its own folder
 * and HOME. Everything is stopped after the test, last started first.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { ResolvedProvider } from '../../daemon/config/env.ts';
import { defaultConfig, type RalphConfig } from '../../daemon/config/schema.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { ModelTable } from '../../daemon/llm/models.ts';
import { createProvider } from '../../daemon/llm/provider.ts';
import { Pipeline } from '../../daemon/pipeline/pipeline.ts';
import { QueueExecutor } from '../../daemon/queue/queue-executor.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import type { EventEnvelope, Goal, GoalState, LogEntry } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fake-openai/index.ts';
import type { ScenarioRequest } from '../fake-openai/request.ts';
import { cliEnv, startRalph, type Running } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';

export interface QueueHarness {
  redis: TestRedis;
  repoRoot: string;
  /** The bare repository every worker fetches from and pushes to (the repository's `origin`). */
  remote: string;
  /** The test's folder: the remote, the worktrees, each worker's folder (`worker-<name>`) and HOME. */
  scratch: string;
  server: FakeOpenAIServer;
  bus: EventBus;
  events: EventEnvelope[];
  store: GoalStore;
  pipeline: Pipeline;
  executor: QueueExecutor;
  logs: string[];
  /** Starts `ralph worker` as NAME, in a folder and HOME of its own, `args` added to its command line (`--allow-commands` …). */
  startWorker(name: string, args?: string[]): Promise<Running>;
  addGoal(title: string): Promise<Goal>;
  waitForState(id: number, states: GoalState | GoalState[], timeoutMs?: number): Promise<Goal>;
  logOf(id: number): Promise<LogEntry[]>;
}

/**
 * Every goal's model, whatever worker asks: the first iteration writes `goal-<id>.txt`, the second
 * says the goal is done.
 */
export function twoIterationScenario(request: ScenarioRequest) {
  const goalId = /# Goal #(\d+)/.exec(request.lastUserText)?.[1] ?? /# Goal #(\d+)/.exec(JSON.stringify(request.body))?.[1];
  if (request.pendingToolResults.length > 0) return { text: 'Wrote the file; next: say done.' };
  if (/Iteration 1 /.test(request.lastUserText)) {
    return { toolCalls: [{ name: 'write_file', arguments: { path: `goal-${goalId}.txt`, content: `goal ${goalId}\n` } }] };
  }
  return { toolCalls: [{ name: 'goal_done', arguments: { summary: `goal-${goalId}.txt is written` } }] };
}

export async function startQueue(t: TestContext, options: { executor?: Partial<RalphConfig['executor']> } = {}): Promise<QueueHarness> {
  const redis = await startRedis({ appendOnly: true });
  defer(t, () => redis.dispose());
  const repoRoot = await makeTempRepo(undefined, { 'README.md': '# test\n' });
  defer(t, () => rm(repoRoot, { recursive: true, force: true }));
  const scratch = await makeTempDir(undefined, 'ralph-queue-');
  defer(t, () => rm(scratch, { recursive: true, force: true }));
  const remote = path.join(scratch, 'remote.git');
  git(scratch, 'init', '--quiet', '--bare', remote);
  git(repoRoot, 'remote', 'add', 'origin', remote);
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  server.setScenario(twoIterationScenario);

  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope));
  const logs: string[] = [];
  const log = (line: string): void => {
    logs.push(line);
    if (process.env.RALPH_TEST_LOG) process.stderr.write(`[daemon] ${line}\n`);
  };
  const store = await GoalStore.open({ repoRoot, bus, watch: false, onError: (error) => log(`store: ${error.message}`) });
  defer(t, () => store.close());
  const executorSettings: RalphConfig['executor'] = { ...defaultConfig().executor, concurrency: 3, ...options.executor };
  const provider: ResolvedProvider = {
    model: UNPRICED_MODEL,
    api: 'chat',
    baseURL: server.url,
    apiKey: 'test-key',
    configured: true,
  };
  const executor = new QueueExecutor({ url: redis.url, repoRoot, provider: () => provider, log: store.log, bus, report: log });
  const models = new ModelTable();
  const pipeline = Pipeline.create({
    repoRoot,
    bus,
    store,
    settings: { executor: () => executorSettings, provider: () => provider, models: () => models },
    createProvider: (settings) => createProvider({ ...settings, maxRetries: 0, timeoutMs: 20_000 }),
    log,
    worktreesRoot: path.join(scratch, 'worktrees'),
    remote: executor,
  });
  defer(t, () => pipeline.close());
  pipeline.start();

  const startWorker = (name: string, args?: string[]): Promise<Running> =>
    startWorkerProcess(t, { name, url: redis.url, scratch, modelUrl: server.url, ...(args ? { args } : {}) });

  return {
    redis,
    repoRoot,
    remote,
    scratch,
    server,
    bus,
    events,
    store,
    pipeline,
    executor,
    logs,
    startWorker,
    addGoal: (title) => store.create({ title, spec: `## Objective\n\n${title}\n`, queue: true }),
    waitForState: (id, states, timeoutMs = 20_000) => {
      const wanted = Array.isArray(states) ? states : [states];
      return waitFor(
        () => {
          const goal = store.get(id);
          return goal && wanted.includes(goal.state) ? goal : undefined;
        },
        { timeoutMs, message: `goal #${id} to be ${wanted.join(' or ')} (daemon log: ${logs.slice(-5).join(' | ')})` },
      );
    },
    logOf: async (id) => (await store.log.read(id, { from: 0, limit: 10_000 })).entries,
  };
}

/** `ralph worker` as NAME, in `<scratch>/worker-<name>` with a HOME of its own, its model the fake server; killed after the test. */
export async function startWorkerProcess(
  t: TestContext,
  options: { name: string; url: string; scratch: string; modelUrl: string; env?: NodeJS.ProcessEnv; args?: string[] },
): Promise<Running> {
  const { name, scratch } = options;
  const args = ['worker', '--queue', options.url, '--dir', path.join(scratch, `worker-${name}`), '--name', name, ...(options.args ?? [])];
  const worker = startRalph(args, {
    cwd: scratch,
    env: cliEnv({
      HOME: path.join(scratch, `home-${name}`),
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: options.modelUrl,
      RALPH_API: 'chat',
      RALPH_MODEL: UNPRICED_MODEL,
      // A dead worker's job is handed on after a second, not BullMQ's 30 s.
      RALPH_WORKER_LOCK_MS: '1000',
      ...options.env,
    }),
  });
  defer(t, async () => {
    worker.signal('SIGKILL');
    await worker.done.catch(() => undefined);
  });
  await waitFor(() => worker.stdout().includes('takes goals from'), {
    timeoutMs: 15_000,
    message: `worker ${name} to start (stderr: ${worker.stderr()})`,
  });
  return worker;
}
