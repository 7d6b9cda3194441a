/**
 * Harness overhead per iteration of the Ralph loop, model time excluded, on a repository of 10,000
 * files: what the daemon itself does around each agent step. Target: median ≤ 150 ms.
 *
 * 1. The executor's own iteration (`runIteration` from daemon/pipeline/iteration.ts, then the record
 *    written on the goal file, as goal-run.ts does) against the fake OpenAI server at zero latency
 *    with a one-step script: the model writes one file and calls goal_done in a single answer. The
 *    model's share (each request from arrival to the end of its response, on the server's clock)
 *    is subtracted from the iteration's wall time; the SDK's client-side handling stays in, so the
 *    figure is an upper bound of the harness's own time.
 * 2. The same harness steps measured one by one, to show where the time goes:
 *      worktree  GoalWorkspace.open on the goal's existing worktree (reuse, as after a daemon restart)
 *      commit    workspace.commitIteration: `git add -A`, the staged check, the commit (one file changed)
 *      check     launching the goal check (`true`) in its own process group and collecting its result
 *      log       four log entries appended to .ralph/logs/<id>.jsonl (and published)
 *      record    the iteration recorded on the goal file (atomic write)
 *    The agent's edit (one file written) happens outside the timed spans.
 *
 * Creating a worktree (first iteration of a goal only: it checks out all 10,000 files) is reported apart.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { defaultConfig } from '../daemon/config/schema.ts';
import { EventBus } from '../daemon/events/bus.ts';
import { ModelTable } from '../daemon/llm/models.ts';
import { createProvider } from '../daemon/llm/provider.ts';
import { runCheck } from '../daemon/pipeline/check.ts';
import { runIteration, type IterationRecord } from '../daemon/pipeline/iteration.ts';
import { GoalJournal } from '../daemon/pipeline/journal.ts';
import { iterationNote } from '../daemon/pipeline/notes.ts';
import { GoalWorkspace } from '../daemon/pipeline/workspace.ts';
import { GoalStore } from '../daemon/store/goal-store.ts';
import { emptyUsage, type Goal, type Iteration } from '../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../test/fake-openai/index.ts';
import { percentile, printTable, type Row } from './table.ts';

const FOLDERS = 100;
const FILES_PER_FOLDER = 100; // 10,000 files
const ITERATIONS = 30;
const TARGET_MEDIAN_MS = 150;
const CHECK_COMMAND = 'true';
const MODEL = 'gpt-5.4-mini';
/** Entries an iteration writes to the goal's log besides the model call's: a tool call, the commit, the check, the note. */
const LOG_ENTRIES_PER_ITERATION = 4;

const STEPS = ['worktree', 'commit', 'check', 'log', 'record'] as const;
type Step = (typeof STEPS)[number];

function gitSync(cwd: string, ...args: string[]): void {
  const identity = {
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@ralph.invalid',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@ralph.invalid',
  };
  execFileSync('git', args, { cwd, stdio: 'ignore', env: { ...process.env, ...identity } });
}

async function buildRepo(root: string): Promise<void> {
  gitSync(root, 'init', '-q', '-b', 'main');
  for (let folder = 0; folder < FOLDERS; folder++) {
    const dir = path.join(root, 'src', `mod-${folder}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: FILES_PER_FOLDER }, (_, file) =>
        writeFile(path.join(dir, `file-${file}.ts`), `export const v${file} = ${folder};\n`),
      ),
    );
  }
  gitSync(root, 'add', '-A');
  gitSync(root, 'commit', '-q', '-m', 'initial: 10,000 files');
}

/** The file an iteration edits, and content it never had. */
function edit(iteration: number): { path: string; content: string } {
  return { path: `src/mod-${iteration % FOLDERS}/file-0.ts`, content: `export const v0 = -${iteration};\n` };
}

/** A running goal with an open attempt and its worktree made (not timed). */
async function runningGoal(store: GoalStore, repo: string, worktreesRoot: string, title: string) {
  const { id } = await store.create({ title, queue: true });
  const goal = await store.transition(id, 'start');
  const started = performance.now();
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: id, worktreesRoot });
  return { goal, workspace, createMs: performance.now() - started };
}

function iterationOf(record: IterationRecord): Iteration {
  const { number, startedAt, endedAt, summary, commit, check, doneClaimed, usage } = record;
  return { number, startedAt, endedAt, summary, commit, check, doneClaimed, usage };
}

function stats(name: string, values: number[], extra: Row = {}): Row {
  const sorted = [...values].sort((a, b) => a - b);
  return { step: name, 'median (ms)': percentile(sorted, 50), 'p90 (ms)': percentile(sorted, 90), ...extra };
}

function verdict(medianMs: number): string {
  return medianMs <= TARGET_MEDIAN_MS ? `met (≤ ${TARGET_MEDIAN_MS})` : `MISSED (> ${TARGET_MEDIAN_MS})`;
}

/** Part 1: whole iterations through the executor, the fake model's time taken out. */
async function measureExecutorIterations(store: GoalStore, bus: EventBus, server: FakeOpenAIServer, repo: string, worktreesRoot: string) {
  const { goal, workspace, createMs } = await runningGoal(store, repo, worktreesRoot, 'Benchmark: executor iterations');
  const executor = { ...defaultConfig().executor, verify: CHECK_COMMAND };
  const provider = createProvider({ api: 'responses', apiKey: 'bench-key', baseURL: server.url, maxRetries: 0 });
  const journal = new GoalJournal({ goalId: goal.id, log: store.log, bus, report: (line) => process.stderr.write(`${line}\n`) });
  const models = new ModelTable();
  const totals: number[] = [];
  const modelTimes: number[] = [];
  const harness: number[] = [];
  let current: Goal = goal;
  for (let number = 1; number <= ITERATIONS; number++) {
    const change = edit(number);
    server.script({
      toolCalls: [
        { name: 'write_file', arguments: change },
        { name: 'goal_done', arguments: { summary: `iteration ${number}: edited ${change.path}` } },
      ],
    });
    const firstRequest = server.requests.length;
    const started = performance.now();
    const record = await runIteration({
      goal: current,
      number,
      positionInAttempt: number,
      notes: current.attempts.at(-1)?.notes ?? [],
      lastCheck: null,
      retryContext: null,
      workspace,
      provider,
      model: MODEL,
      models,
      executor,
      secrets: ['bench-key'],
      stopSignal: new AbortController().signal,
      boundSignal: new AbortController().signal,
      journal,
    });
    const note = iterationNote(record);
    current = await store.recordExecution(goal.id, { attempt: 1, iteration: iterationOf(record), note, usage: record.usage });
    await journal.write('note', note, { iteration: number });
    const total = performance.now() - started;
    if (!record.commit || !record.check?.ok || !record.doneClaimed) {
      throw new Error(
        `iteration ${number} did not go as scripted: commit ${record.commit}, check ${record.check?.ok}, done ${record.doneClaimed}`,
      );
    }
    const model = server.requests
      .slice(firstRequest)
      .reduce((sum, request) => sum + ((request.endedAt ?? request.startedAt) - request.startedAt), 0);
    totals.push(total);
    modelTimes.push(model);
    harness.push(total - model);
  }
  return { totals, modelTimes, harness, createMs, modelCalls: server.requests.length };
}

/** Part 2: the same steps, one by one. */
async function measureSteps(store: GoalStore, repo: string, worktreesRoot: string) {
  const { goal, createMs } = await runningGoal(store, repo, worktreesRoot, 'Benchmark: harness steps');
  const samples: Record<Step, number[]> = { worktree: [], commit: [], check: [], log: [], record: [] };
  const totals: number[] = [];
  const timed = async <T>(step: Step, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    samples[step].push(performance.now() - started);
    return result;
  };
  for (let number = 1; number <= ITERATIONS; number++) {
    const before = STEPS.map((step) => samples[step].length);
    const workspace = await timed('worktree', () => GoalWorkspace.open({ repoRoot: repo, goalId: goal.id, worktreesRoot }));
    const change = edit(number);
    await writeFile(path.join(workspace.path, change.path), change.content); // the agent's step: not timed
    const commit = await timed('commit', () => workspace.commitIteration({ iteration: number, summary: `iteration ${number}` }));
    if (!commit) throw new Error(`iteration ${number} committed nothing`);
    const check = await timed('check', () =>
      runCheck(CHECK_COMMAND, workspace.path, { timeoutMs: 60_000, outputLimitBytes: 64 * 1024, secrets: [] }),
    );
    if (!check.ok) throw new Error(`the check failed: ${check.output}`);
    await timed('log', async () => {
      for (let entry = 0; entry < LOG_ENTRIES_PER_ITERATION; entry++) {
        await store.log.append(goal.id, { kind: 'tool', text: `iteration ${number}: entry ${entry}`, commit });
      }
    });
    await timed('record', () =>
      store.recordExecution(goal.id, {
        attempt: 1,
        iteration: {
          number,
          startedAt: new Date().toISOString(),
          summary: `iteration ${number}`,
          commit,
          check,
          doneClaimed: false,
          usage: emptyUsage(),
        },
        note: `iteration ${number}`,
      }),
    );
    totals.push(STEPS.reduce((sum, step, i) => sum + samples[step].slice(before[i]).reduce((a, b) => a + b, 0), 0));
  }
  return { samples, totals, createMs };
}

export async function run(): Promise<void> {
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-harness-')));
  const repo = path.join(scratch, 'repo');
  const worktreesRoot = path.join(scratch, 'worktrees');
  await mkdir(repo);
  const bus = new EventBus();
  let store: GoalStore | undefined;
  let server: FakeOpenAIServer | undefined;
  try {
    const buildStarted = performance.now();
    await buildRepo(repo);
    const buildMs = performance.now() - buildStarted;
    store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
    server = await startFakeOpenAI({ scenario: () => ({ text: 'unscripted request' }), latencyMs: 0 });

    const executor = await measureExecutorIterations(store, bus, server, repo, worktreesRoot);
    const steps = await measureSteps(store, repo, worktreesRoot);

    const harnessRow = stats('harness (iteration − model)', executor.harness);
    printTable(
      `Harness overhead per iteration, model time excluded: ${(FOLDERS * FILES_PER_FOLDER).toLocaleString('en-US')} files, ${ITERATIONS} iterations, executor's runIteration + goal record, fake model at zero latency`,
      [
        stats('whole iteration', executor.totals),
        stats('model requests (server side)', executor.modelTimes),
        { ...harnessRow, target: verdict(harnessRow['median (ms)'] as number) },
      ],
    );
    const stepTotal = stats('sum of the steps', steps.totals);
    printTable('The harness steps one by one (same repository)', [
      ...STEPS.map((step) => stats(step, steps.samples[step])),
      { ...stepTotal, target: verdict(stepTotal['median (ms)'] as number) },
    ]);
    printTable('One-off costs', [
      { cost: 'building the repository (10,000 files, git add + commit)', ms: buildMs },
      { cost: "creating a goal's worktree (its first iteration only)", ms: Math.max(executor.createMs, steps.createMs) },
    ]);
  } finally {
    await server?.close();
    await store?.close();
    // The worktrees are registered in the repository: both go with the scratch folder.
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
