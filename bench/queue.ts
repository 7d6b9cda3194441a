/**
 * Scale-out throughput: 16 goals of 3 iterations each, run by 1, 2 and 4 `ralph worker` processes
 * on this machine through BullMQ on a private Redis, against test/fake-openai with a fixed model
 * latency (every request answers after LATENCY_MS). The daemon side is the real pipeline with the
 * queue executor (16 goals may run at once: the workers are the limit).
 *
 * Reported per worker count: wall time from queueing to the last goal done, goals/minute, the
 * ratio to one worker (targets: ≥ 1.8× at 2, ≥ 3.2× at 4, while the machine's cores allow; the
 * cores and the load average before and after each run are printed), the queue's latency per
 * iteration, and log delivery.
 * - Turn pick-up: the daemon asking for an iteration (the turn's `publishedAt`) → the goal's worker
 *   taking it (the answer's `timing.taken`), p50/p99 over every turn after a goal's first (the
 *   first waits for a free worker to take the job: that is the job pick-up).
 * - Job pick-up: the job published with a goal's first turn → its worker's first line (the job
 *   taken): the quickest of the 16 (the others wait for a worker to be free).
 * - Where an iteration's time goes (a second table, p50 per step): the worker setting its worktree
 *   to the pushed branch, the iteration less its model calls, the worker's push, its answer reaching
 *   Redis, and the daemon from the answer to the next turn (relay, fetch, recording, push).
 * - Log delivery: a line XADDed by the worker → written to the daemon's log and broadcast (the
 *   stream id is Redis's clock, the broadcast's time the daemon's, one machine): p50 and p99, target
 *   p99 ≤ 100 ms; in the second table in two parts, split at the entry's own time (the daemon's
 *   clock as it took the line to append): read (XADD → the daemon's follower has it) and written
 *   (→ in the log file and broadcast).
 * Timings come from the answers on the goals' streams, read after the run. Killed (Ctrl+C,
 * SIGTERM), the bench stops every worker, Redis and the fake server it started, and removes its folders.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ResolvedProvider } from '../daemon/config/env.ts';
import { defaultConfig } from '../daemon/config/schema.ts';
import { EventBus } from '../daemon/events/bus.ts';
import { ModelTable } from '../daemon/llm/models.ts';
import { createProvider } from '../daemon/llm/provider.ts';
import { Pipeline } from '../daemon/pipeline/pipeline.ts';
import { logStreamKey, queueNameFor } from '../daemon/queue/queue.ts';
import { QueueExecutor } from '../daemon/queue/queue-executor.ts';
import type { StreamMessage } from '../daemon/queue/log-stream.ts';
import { GoalStore } from '../daemon/store/goal-store.ts';
import { startFakeOpenAI } from '../test/fake-openai/index.ts';
import type { ScenarioRequest } from '../test/fake-openai/request.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { percentile, printTable, type Row } from './table.ts';

const GOALS = 16;
const LATENCY_MS = 300;
/** RALPH_BENCH_WORKERS=1,4 runs only those counts (the first is the ratio's base). */
const WORKER_COUNTS = (process.env.RALPH_BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
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

/** What a run started, stopped by its end or by a signal (stop is idempotent). */
const running = new Set<() => Promise<void>>();

function load(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
}

/** One turn's answer as the goal's stream holds it: the worker's timing, and when Redis took it. */
interface Answer {
  goalId: number;
  seq: number;
  answeredAt: number;
  published?: number;
  taken: number;
  synced?: number;
  ran?: number;
  pushed?: number;
}

/**
 * Collects every turn answer from the goals' streams while they run (the daemon deletes a stream
 * once its goal is over): one connection, one blocking XREAD over all of them.
 */
function collectAnswers(url: string, queueName: string, ids: number[]): { stop: () => Promise<Answer[]> } {
  const redis = new Redis(url);
  redis.on('error', () => undefined); // Redis stopped under it (Ctrl+C reaches redis-server too): the run is over
  const answers: Answer[] = [];
  const cursors = new Map(ids.map((goalId) => [logStreamKey(queueName, goalId), { goalId, id: '0' }]));
  let stopped = false;
  const reading = (async () => {
    while (!stopped) {
      const keys = [...cursors.keys()];
      const streams = await redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', ...keys, ...keys.map((key) => cursors.get(key)?.id ?? '0'));
      for (const [key, entries] of streams ?? []) {
        const cursor = cursors.get(key);
        if (!cursor) continue;
        for (const [id, fields] of entries) {
          cursor.id = id;
          const message = JSON.parse(fields[fields.indexOf('m') + 1] ?? 'null') as StreamMessage | null;
          if (message?.type !== 'turn' || !message.timing) continue;
          answers.push({ goalId: cursor.goalId, seq: message.seq, answeredAt: Number(id.split('-')[0]), ...message.timing });
        }
      }
    }
  })().catch(() => undefined); // Redis gone (the run failed): what was read is kept
  return {
    stop: async () => {
      stopped = true;
      await reading;
      redis.disconnect();
      // In order per goal: a goal's answers, then the next goal's.
      return answers.sort((a, b) => a.goalId - b.goalId || a.seq - b.seq);
    },
  };
}

function sorted(values: (number | undefined)[]): number[] {
  return values.filter((value): value is number => value !== undefined && Number.isFinite(value)).sort((a, b) => a - b);
}

async function runWith(workers: number, steps: Row[]): Promise<Row> {
  const loadBefore = load();
  const redis = await startRedis();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-queue-'));
  const children: ChildProcess[] = [];
  let closeRest = async (): Promise<void> => undefined;
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // `ralph worker` passes SIGTERM on to its worker process; one killed outright takes it along (worker-main.ts).
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
      // Ctrl+C reaches redis-server too: goal runs waiting on a Redis that is gone never end, so the wait is bounded.
      await Promise.race([closeRest().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await redis.dispose();
      await rm(scratch, { recursive: true, force: true, maxRetries: 5 });
    })();
    return stopped;
  };
  running.add(stop);
  try {
    const repoRoot = path.join(scratch, 'repo');
    const remote = path.join(scratch, 'remote.git');
    execFileSync('git', ['init', '--quiet', '-b', 'main', repoRoot]);
    execFileSync('sh', ['-c', 'echo "# bench" > README.md'], { cwd: repoRoot });
    git(repoRoot, 'add', '.');
    git(repoRoot, '-c', 'user.name=bench', '-c', 'user.email=bench@ralph.invalid', 'commit', '--quiet', '-m', 'first');
    git(scratch, 'init', '--quiet', '--bare', remote);
    git(repoRoot, 'remote', 'add', 'origin', remote);
    const server = await startFakeOpenAI({ latencyMs: LATENCY_MS });
    // Model calls per goal and iteration: an iteration's time less its calls' fixed latency is the harness's own.
    const modelCalls = new Map<string, number>();
    server.setScenario((request) => {
      const key = `${/# Goal #(\d+)/.exec(request.lastUserText)?.[1]}:${/Iteration (\d+) /.exec(request.lastUserText)?.[1]}`;
      modelCalls.set(key, (modelCalls.get(key) ?? 0) + 1);
      return threeIterations(request);
    });

    const bus = new EventBus();
    const store = await GoalStore.open({ repoRoot, bus, watch: false });
    const provider: ResolvedProvider = { model: MODEL, api: 'chat', baseURL: server.url, apiKey: 'bench-key', configured: true };
    const executorSettings = { ...defaultConfig().executor, concurrency: GOALS };
    const executor = new QueueExecutor({
      url: redis.url,
      repoRoot,
      provider: () => provider,
      log: store.log,
      bus,
      report: () => undefined,
    });
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
    closeRest = async () => {
      await pipeline.close();
      await executor.close();
      await store.close();
      await server.close();
    };
    const deliveries: number[] = [];
    // A delivery in two parts, by the entry's own time (the daemon's clock as it took the line to append):
    // the worker's XADD → the daemon read it; → written to the log and broadcast.
    const reads: number[] = [];
    const writes: number[] = [];
    /** Goal → when its worker wrote its first line (it took the job). */
    const firstLine = new Map<number, number>();
    bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'log.appended') return;
      const now = Date.now();
      for (const entry of (envelope.data as { entries: { goalId: number; time: string; streamId?: unknown }[] }).entries) {
        if (typeof entry.streamId !== 'string') continue;
        const sent = Number(entry.streamId.split('-')[0]);
        deliveries.push(now - sent);
        const taken = Date.parse(entry.time);
        reads.push(taken - sent);
        writes.push(now - taken);
        if (!firstLine.has(entry.goalId)) firstLine.set(entry.goalId, sent);
      }
    });

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
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.once('exit', (code) => reject(new Error(`worker ${i} exited (${code}) before it took goals:\n${out}`)));
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
    const collector = collectAnswers(redis.url, await queueNameFor(repoRoot), ids);
    const deadline = Date.now() + 10 * 60_000;
    while (!ids.every((id) => ['done', 'stuck'].includes(store.get(id)?.state ?? ''))) {
      if (Date.now() > deadline) throw new Error('the goals did not finish within 10 minutes');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const wallMs = performance.now() - begin;
    const stuck = ids.filter((id) => store.get(id)?.state === 'stuck').length;
    for (const id of ids) {
      const goal = store.get(id);
      // A stuck goal says why (its last attempt's reason), so a slow run is told from a broken one.
      if (goal?.state === 'stuck') console.error(`queue bench: goal #${id} stuck: ${goal.attempts.at(-1)?.reason ?? '?'}`);
    }

    const answers = await collector.stop();
    const firstSeq = new Map<number, number>();
    const firstPublished = new Map<number, number>();
    for (const answer of answers) {
      if (firstSeq.has(answer.goalId)) continue;
      firstSeq.set(answer.goalId, answer.seq);
      if (answer.published !== undefined) firstPublished.set(answer.goalId, answer.published);
    }
    // The job published with the goal's first turn → its worker's first line (the job taken).
    const jobs = sorted(ids.map((id) => (firstLine.get(id) ?? NaN) - (firstPublished.get(id) ?? NaN)));
    const pickup = (answer: Answer) => (answer.published === undefined ? undefined : answer.taken - answer.published);
    const laterPickups = sorted(answers.filter((answer) => answer.seq !== firstSeq.get(answer.goalId)).map(pickup));
    // The daemon's part: an answer in Redis → the next turn of the same goal asked for.
    const daemonSide = sorted(
      answers.map((answer, i) => {
        const next = answers[i + 1];
        return next?.goalId === answer.goalId && next.published !== undefined ? next.published - answer.answeredAt : undefined;
      }),
    );
    // The k-th answer of a goal is its iteration k (no retries here).
    const nth = new Map<number, number>();
    const harnessMs = sorted(
      answers.map((answer) => {
        const number = (nth.get(answer.goalId) ?? 0) + 1;
        nth.set(answer.goalId, number);
        const calls = modelCalls.get(`${answer.goalId}:${number}`) ?? 0;
        return (answer.ran ?? NaN) - (answer.synced ?? NaN) - calls * LATENCY_MS;
      }),
    );
    const step = (values: number[]) => `${percentile(values, 50).toFixed(0)} / ${percentile(values, 99).toFixed(0)}`;
    steps.push({
      workers,
      'turns answered': answers.length,
      'turn pick-up': step(laterPickups),
      'worker sync': step(sorted(answers.map((answer) => (answer.synced ?? NaN) - answer.taken))),
      'iteration less model': step(harnessMs),
      'worker push': step(sorted(answers.map((answer) => (answer.pushed ?? NaN) - (answer.ran ?? NaN)))),
      'answer to Redis': step(sorted(answers.map((answer) => answer.answeredAt - (answer.pushed ?? NaN)))),
      'daemon: answer → next turn': step(daemonSide),
      'delivery: read': step(sorted(reads)),
      'delivery: written': step(sorted(writes)),
    });

    deliveries.sort((a, b) => a - b);
    return {
      workers,
      'wall s': wallMs / 1000,
      'goals/min': (GOALS - stuck) / (wallMs / 60_000),
      stuck,
      'turn pick-up p50 ms': percentile(laterPickups, 50),
      'turn pick-up p99 ms': percentile(laterPickups, 99),
      'job pick-up min ms': percentile(jobs, 0),
      'delivery p50 ms': percentile(deliveries, 50),
      'delivery p99 ms': percentile(deliveries, 99),
      'load before → after': `${loadBefore} → ${load()}`,
    };
  } finally {
    await stop();
    running.delete(stop);
  }
}

/** Ctrl+C or SIGTERM: everything the runs started is stopped and removed, then the bench exits. */
function stopOnSignals(): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\nqueue bench: ${signal}: stopping its workers, Redis and fake server`);
    void Promise.allSettled([...running].map((stop) => stop())).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

export async function run(): Promise<void> {
  const release = stopOnSignals();
  const cores = os.cpus().length;
  const loadAtStart = load();
  const rows: Row[] = [];
  const steps: Row[] = [];
  try {
    for (const workers of WORKER_COUNTS) rows.push(await runWith(workers, steps));
  } finally {
    release();
  }
  const base = Number(rows[0]?.['goals/min']);
  for (const row of rows) row['× 1 worker'] = Number(row['goals/min']) / base;
  printTable(
    `queue: ${GOALS} goals × 3 iterations, model latency ${LATENCY_MS} ms, workers as processes on this machine: ${cores} cores (the workers, daemon, Redis and fake server share them), load average (1/5/15 min) ${loadAtStart} at start, ${load()} at end`,
    rows,
  );
  printTable('queue: where an iteration goes besides its model calls, p50 / p99 ms (turn pick-up: turns after a goal’s first)', steps);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
