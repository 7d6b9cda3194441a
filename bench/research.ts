/**
 * Research efficiency: N research agents at once against a model server with a fixed
 * latency per request, each agent scripted to take 3 steps (two file reads, then its report), with
 * concurrency = N. Wall time of N agents divided by wall time of 1: the limit is 1.0 (the agents
 * wait on the server side by side), the target ≤ 1.1 at N = 8. The research service runs in this
 * process with a real event bus, real tools on a real repository, and the real provider over HTTP.
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ModelTable } from '../daemon/llm/models.ts';
import { EventBus } from '../daemon/events/bus.ts';
import { createProvider } from '../daemon/llm/provider.ts';
import { ResearchService } from '../daemon/research/research-service.ts';
import { startFakeOpenAI } from '../test/fake-openai/index.ts';
import { makeTempRepo } from '../test/helpers/repo.ts';
import { researchScenario } from '../test/research/helpers.ts';
import { percentile, printTable, type Row } from './table.ts';

const LATENCY_MS = Number(process.env.BENCH_RESEARCH_LATENCY_MS ?? 300);
const AGENT_COUNTS = [1, 2, 4, 8];
/** Runs per N; the median wall time is reported. */
const REPEATS = Number(process.env.BENCH_RESEARCH_REPEATS ?? 3);
const STEPS = 3;

interface Measured {
  wallMs: number;
  requests: number;
  maxInFlight: number;
}

async function measure(agents: number, repoRoot: string): Promise<Measured> {
  const server = await startFakeOpenAI({
    latencyMs: LATENCY_MS,
    // Two tool calls (reading two files of the repository), then the report: three model calls. (read_file,
    // not list_files or search_files: those spawn git, and eight agents spawning git at once measure the
    // machine's cores, not how well the agents overlap their waits on the model.)
    scenario: researchScenario({
      calls: () => [
        { name: 'read_file', arguments: { path: 'notes.md' } },
        { name: 'read_file', arguments: { path: 'README.md' } },
      ],
    }),
  });
  const bus = new EventBus();
  const service = await ResearchService.open({
    repoRoot,
    bus,
    settings: {
      provider: () => ({ model: 'gpt-5.4-mini', api: 'chat', baseURL: server.url, apiKey: 'bench-key', configured: true }),
      models: () => new ModelTable(),
      research: () => ({ concurrency: agents, maxSteps: STEPS + 1, timeoutSeconds: 120 }),
    },
    createProvider,
    log: () => {},
  });
  try {
    const questions = Array.from({ length: agents }, (_, index) => `Question ${index + 1}?`);
    const started = performance.now();
    const run = await service.wait((await service.start({ questions, consolidate: false })).id);
    const wallMs = performance.now() - started;
    if (run.status !== 'done' || run.agents.some((agent) => agent.step !== STEPS)) {
      throw new Error(
        `the run did not go as scripted: ${JSON.stringify(run.agents.map((agent) => [agent.status, agent.step, agent.error]))}`,
      );
    }
    return { wallMs, requests: server.modelRequests().length, maxInFlight: server.maxConcurrency() };
  } finally {
    await service.close();
    await server.close();
  }
}

export async function run(): Promise<void> {
  const repoRoot = await makeTempRepo(undefined, { 'notes.md': 'test notes\n' });
  try {
    const rows: Row[] = [];
    let base = Number.NaN;
    await measure(1, repoRoot); // warm-up: the first run pays for loading and compiling the code
    for (const agents of AGENT_COUNTS) {
      const runs: Measured[] = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) runs.push(await measure(agents, repoRoot));
      const wallMs = percentile(
        runs.map((each) => each.wallMs).sort((a, b) => a - b),
        50,
      );
      if (agents === 1) base = wallMs;
      rows.push({
        agents,
        'wall ms (median)': wallMs,
        'model requests': runs[0]!.requests,
        'most in flight': Math.max(...runs.map((each) => each.maxInFlight)),
        'ratio to N=1': wallMs / base,
      });
    }
    printTable(
      `Research efficiency: N agents × ${STEPS} steps, ${LATENCY_MS} ms latency per request, concurrency = N, median of ${REPEATS} (target: ratio ≤ 1.1 at N = 8)`,
      rows,
    );
  } finally {
    await rm(repoRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
