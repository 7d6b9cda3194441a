/**
 * The pipeline on real parts for tests: a temporary git repository, a goal store, the real
 * provider against test/fake-openai, goal worktrees in a temporary folder. Everything is closed
 * after the test, last started first (the pipeline before the store, the store before the folders).
 */
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { EventBus } from '../../daemon/events/bus.ts';
import type { ResolvedProvider } from '../../daemon/config/env.ts';
import { defaultConfig, type RalphConfig } from '../../daemon/config/schema.ts';
import { ModelTable } from '../../daemon/llm/models.ts';
import { createProvider } from '../../daemon/llm/provider.ts';
import { Pipeline, type PipelineTuning } from '../../daemon/pipeline/pipeline.ts';
import { GoalWorkspace } from '../../daemon/pipeline/workspace.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import { Iteration, type EventEnvelope, type Goal, type GoalState, type LogEntry } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer, type ScenarioRequest } from '../fake-openai/index.ts';
import { defer } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

export type ExecutorConfig = RalphConfig['executor'];

/** A model of the built-in table with published prices, so calls carry a cost. */
export const PRICED_MODEL = 'gpt-5.4-mini';
/** A model the table does not know: its cost is unknown, tokens are counted instead. */
export const UNPRICED_MODEL = 'fake-model';

export interface ExecutorHarnessOptions {
  /** Settings of `executor` over the defaults (verify, bounds, …). */
  executor?: Partial<ExecutorConfig>;
  /** Files of the repository's first commit. */
  files?: Record<string, string>;
  model?: string;
  /** Provider settings over the fake server's (`{ apiKey: null, baseURL: null }`: none configured). */
  provider?: Partial<ResolvedProvider>;
  tuning?: Omit<PipelineTuning, 'worktreesRoot'>;
}

export interface ExecutorHarness {
  repoRoot: string;
  worktreesRoot: string;
  server: FakeOpenAIServer;
  bus: EventBus;
  store: GoalStore;
  pipeline: Pipeline;
  /** Every event published, in order. */
  events: EventEnvelope[];
  /** The daemon-side log lines the pipeline wrote. */
  logs: string[];
  /** The settings in force: change them between iterations like a config reload. */
  executor: ExecutorConfig;
  /** A new queued goal. */
  addGoal(title?: string, spec?: string): Promise<Goal>;
  /** The goal once it is in one of `states`. */
  waitForState(id: number, states: GoalState | GoalState[], timeoutMs?: number): Promise<Goal>;
  logOf(id: number): Promise<LogEntry[]>;
  /** The goal's worktree (opened as the pipeline does: existing is reused). */
  workspace(id: number): Promise<GoalWorkspace>;
}

export async function startExecutor(t: TestContext, options: ExecutorHarnessOptions = {}): Promise<ExecutorHarness> {
  const repoRoot = await makeTempRepo(undefined, options.files);
  defer(t, () => rm(repoRoot, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());

  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope));
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    if (process.env.RALPH_TEST_LOG) process.stderr.write(`[pipeline] ${line}\n`);
  };
  const store = await GoalStore.open({ repoRoot, bus, watch: false, onError: (error) => log(`store: ${error.message}`) });
  defer(t, () => store.close());

  const executor: ExecutorConfig = { ...defaultConfig().executor, ...options.executor };
  const provider: ResolvedProvider = {
    model: options.model ?? UNPRICED_MODEL,
    api: 'chat',
    baseURL: server.url,
    apiKey: 'test-key',
    configured: true,
    ...options.provider,
  };
  const models = new ModelTable();
  const pipeline = Pipeline.create({
    repoRoot,
    bus,
    store,
    settings: { executor: () => executor, provider: () => provider, models: () => models },
    // No SDK retries: a fault in a test is meant to reach the pipeline.
    createProvider: (settings) => createProvider({ ...settings, maxRetries: 0, timeoutMs: 20_000 }),
    log,
    worktreesRoot,
    ...options.tuning,
  });
  defer(t, () => pipeline.close());
  pipeline.start();

  return {
    repoRoot,
    worktreesRoot,
    server,
    bus,
    store,
    pipeline,
    events,
    logs,
    executor,
    addGoal: (title = 'Write hello.txt', spec = '## Objective\n\nA file hello.txt.\n\n## Acceptance\n\nhello.txt exists.\n') =>
      store.create({ title, spec, queue: true }),
    waitForState: (id, states, timeoutMs = 15_000) => {
      const wanted = Array.isArray(states) ? states : [states];
      return waitFor(
        () => {
          const goal = store.get(id);
          return goal && wanted.includes(goal.state) ? goal : undefined;
        },
        { timeoutMs, message: `goal #${id} to be ${wanted.join(' or ')} (it is ${store.get(id)?.state}; daemon log: ${logs.join(' | ')})` },
      );
    },
    logOf: async (id) => (await store.log.read(id)).entries,
    workspace: (id) => GoalWorkspace.open({ repoRoot, goalId: id, worktreesRoot }),
  };
}

/** The iterations of a goal's attempt (default: the last), parsed. */
export function iterationsOf(goal: Goal, attempt = goal.attempts.length): Iteration[] {
  return (goal.attempts[attempt - 1]?.iterations ?? []).map((entry) => Iteration.parse(entry));
}

/** The text of every user and developer message of a request, joined: what the model was told. */
export function promptOf(request: ScenarioRequest): string {
  return request.conversation
    .flatMap((item) =>
      item.kind === 'message' && (item.role === 'user' || item.role === 'developer' || item.role === 'system') ? [item.text] : [],
    )
    .join('\n');
}

/** The outputs of the tool results in a request. */
export function toolResultsOf(request: ScenarioRequest): string[] {
  return request.conversation.flatMap((item) => (item.kind === 'tool-result' ? [item.output] : []));
}

/** A promise with its resolve, to hold a scripted reply until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Scripted replies: a tool call, or goal_done. */
export const reply = {
  write: (path: string, content: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content } }] }),
  run: (command: string) => ({ toolCalls: [{ name: 'run_command', arguments: { command } }] }),
  done: (summary: string) => ({ toolCalls: [{ name: 'goal_done', arguments: { summary } }] }),
  text: (text: string) => ({ text }),
};
