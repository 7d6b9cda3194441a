/**
 * Scale-out throughput: 16 goals of 3 iterations each, run by 1, 2 and 4 `ralph worker` processes
 * on this machine through BullMQ on a private Redis, against test/fake-openai with a fixed model
 * latency (every request answers after LATENCY_MS). The daemon side is the real pipeline with the
 * queue executor (16 goals may run at once: the workers are the limit).
 *
 * Reported per worker count: wall time from queueing to the last goal done, goals/minute, the
 * ratio to one worker (targets: ≥ 1.8× at 2, ≥ 3.2× at 4, while the machine's cores allow; the
 * cores and load are printed), the job pick-up time with a worker free (goal started → its
 * worker's first line written: the quickest of the 16, the others wait for a worker), and log delivery (a line XADDed by the worker → written to the
 * daemon's log and broadcast; the stream id is Redis's clock, the entry's time the daemon's, one
 * machine: p50 and p99; target p99 ≤ 100 ms).
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ResolvedProvider } from '../daemon/config/env.ts';
import { defaultConfig } from '../daemon/config/schema.ts';
import { EventBus } from '../daemon/events/bus.ts';
import { ModelTable } from '../daemon/llm/models.ts';
import { createProvider } from '../daemon/llm/provider.ts';
import { Pipeline } from '../daemon/pipeline/pipeline.ts';
import { QueueExecutor } from '../daemon/queue/queue-executor.ts';
import { GoalStore } from '../daemon/store/goal-store.ts';
import { startFakeOpenAI } from '../test/fake-openai/index.ts';
import type { ScenarioRequest } from '../test/fake-openai/request.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { percentile, printTable, type Row } from './table.ts';

const GOALS = 16;
const LATENCY_MS = 300;
const WORKER_COUNTS = [1, 2, 4];
const RALPH_BIN = fileURLToPath(new URL('../tui/bin/ralph.js', import.meta.url));
const MODEL = 'fake-model';

/** Three iterations: two write a file each, the third says done. */
function threeIterations(request: ScenarioRequest) {
  const goalId = /# Goal #(\d+)/.exec(request.lastUserText)?.[1] ?? '0';
  if (request.pendingToolResults.length > 0) return { text: 'Done with this step.' };
  const iteration = Number(/Iteration (\d+) /.exec(request.lastUserText)?.[1] ?? '1');
  if (iteration < 3) {
    return { toolCalls: [{ name: 'write_file', arguments: { path: `g${goalId}-${iteration}.txt`, content: `${iteration}\n` } }] };
  }
  return { toolCalls: [{ name: 'goal_done', arguments: { summary: 'all written' } }] };
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' });
}

async function runWith(workers: number): Promise<Row> {
  const redis = await startRedis();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-queue-'));
  const repoRoot = path.join(scratch, 'repo');
  const remote = path.join(scratch, 'remote.git');
  execFileSync('git', ['init', '--quiet', '-b', 'main', repoRoot]);
  execFileSync('sh', ['-c', 'echo "# bench" > README.md'], { cwd: repoRoot });
  git(repoRoot, 'add', '.');
  git(repoRoot, '-c', 'user.name=bench', '-c', 'user.email=bench@ralph.invalid', 'commit', '--quiet', '-m', 'first');
  git(scratch, 'init', '--quiet', '--bare', remote);
  git(repoRoot, 'remote', 'add', 'origin', remote);
  const server = await startFakeOpenAI({ latencyMs: LATENCY_MS });
  server.setScenario(threeIterations);

  const bus = new EventBus();
  const store = await GoalStore.open({ repoRoot, bus, watch: false });
  const provider: ResolvedProvider = { model: MODEL, api: 'chat', baseURL: server.url, apiKey: 'bench-key', configured: true };
  const executorSettings = { ...defaultConfig().executor, concurrency: GOALS };
  const executor = new QueueExecutor({ url: redis.url, repoRoot, provider: () => provider, log: store.log, bus, report: () => undefined });
  const models = new ModelTable();
  const pipeline = Pipeline.create({
    repoRoot,
    bus,
    store,
    settings: { executor: () => executorSettings, provider: () => provider, models: () => models },
    createProvider: (settings) => createProvider({ ...settings, maxRetries: 0 }),
    log: () => undefined,
    worktreesRoot: path.join(scratch, 'worktrees'),
    remote: executor,
  });
  const started = new Map<number, number>();
  const firstLine = new Map<number, number>();
  const deliveries: number[] = [];
  bus.subscribe(({ envelope }) => {
    if (envelope.type === 'goal.updated' || envelope.type === 'goal.created') {
      const goal = (envelope.data as { goal?: { id: number; state: string } }).goal;
      if (goal?.state === 'running' && !started.has(goal.id)) started.set(goal.id, Date.now());
    }
    if (envelope.type === 'log.appended') {
      const now = Date.now();
      for (const entry of (envelope.data as { entries: { goalId: number; streamId?: unknown }[] }).entries) {
        if (typeof entry.streamId !== 'string') continue;
        const sent = Number(entry.streamId.split('-')[0]);
        deliveries.push(now - sent);
        if (!firstLine.has(entry.goalId)) firstLine.set(entry.goalId, sent);
      }
    }
  });

  const children: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) {
    const child = spawn(
      process.execPath,
      [RALPH_BIN, 'worker', '--queue', redis.url, '--dir', path.join(scratch, `worker-${i}`), '--name', `w${i}`],
      {
        cwd: scratch,
        env: {
          ...process.env,
          HOME: path.join(scratch, `home-${i}`),
          OPENAI_API_KEY: 'bench-key',
          OPENAI_BASE_URL: server.url,
          RALPH_API: 'chat',
          RALPH_MODEL: MODEL,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('takes goals from')) resolve();
      });
    });
  }

  pipeline.start();
  const begin = performance.now();
  const ids: number[] = [];
  for (let i = 0; i < GOALS; i++) ids.push((await store.create({ title: `Goal ${i}`, spec: 'Write the files.', queue: true })).id);
  const deadline = Date.now() + 10 * 60_000;
  while (!ids.every((id) => ['done', 'stuck'].includes(store.get(id)?.state ?? ''))) {
    if (Date.now() > deadline) throw new Error('the goals did not finish within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const wallMs = performance.now() - begin;
  const stuck = ids.filter((id) => store.get(id)?.state === 'stuck').length;

  await pipeline.close();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  await store.close();
  await server.close();
  await redis.dispose();
  await rm(scratch, { recursive: true, force: true });

  const pickups = ids
    .map((id) => (firstLine.get(id) ?? Number.NaN) - (started.get(id) ?? Number.NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  deliveries.sort((a, b) => a - b);
  return {
    workers,
    'wall s': wallMs / 1000,
    'goals/min': (GOALS - stuck) / (wallMs / 60_000),
    stuck,
    'pick-up min ms': percentile(pickups, 0),
    'delivery p50 ms': percentile(deliveries, 50),
    'delivery p99 ms': percentile(deliveries, 99),
  };
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const workers of WORKER_COUNTS) rows.push(await runWith(workers));
  const base = Number(rows[0]?.['goals/min']);
  for (const row of rows) row['× 1 worker'] = Number(row['goals/min']) / base;
  printTable(
    `queue: ${GOALS} goals × 3 iterations, model latency ${LATENCY_MS} ms, workers as processes on this machine (${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)})`,
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
