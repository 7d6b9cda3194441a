/**
 * Ralph's overhead around an external agent, per iteration: the real Claude Code and the real Codex
 * (installed by test/helpers/agent-cli.ts) on the same scripted task, run directly and as the body
 * of a Ralph iteration in a real daemon. Target: the overhead ≤ 10 % of one iteration (median).
 *
 * The task: the fake model (test/fake-anthropic for Claude Code, test/fake-openai's Responses API
 * for Codex) makes the CLI write one file with its own tool (Write, apply_patch), then says
 * `RALPH_GOAL_DONE: …`: two model calls. The goal's check is `true`. Measured twice: the model
 * at zero latency (the CLI's shortest possible run, so Ralph's share is at its largest), and at a
 * fixed latency before each response (1 s, BENCH_AGENTS_LATENCY_MS; a real model's turn is
 * seconds), which lengthens the iteration but not what Ralph does around it.
 *
 * How the CLI's own time is told apart from Ralph's: each CLI is run through a wrapper, the
 * executable the config's `executor.agents.<name>.path` names (as the agent tests do, to give the
 * CLI a fresh HOME and no way out but to 127.0.0.1). The wrapper (bash) notes the wall clock
 * ($EPOCHREALTIME, µs) just before it starts the CLI and just after the CLI exits, and appends both
 * to a file. So in each daemon run:
 *
 *   iteration   the iteration's record: startedAt → endedAt (the daemon's clock: the same realtime clock)
 *   CLI         the wrapper's two marks: the CLI's process lifetime inside the iteration
 *   overhead    iteration − CLI: building the prompt, the agent's record, the spawn (and the wrapper's
 *               bash start, a few ms: a bench artifact counted against Ralph), after the CLI's exit the
 *               group and marker sweep and the pipes' drain, the commit, the check, the record.
 *               Reading and logging the CLI's events happens while it runs: only what is left of it
 *               after its exit counts.
 *
 * and the overhead broken down by the goal's log: iteration start → CLI start (spawn), CLI exit →
 * the `commit` entry (exit, sweep, commit), → the `check` entry (check launch and run), → the
 * record (iteration end). The whole goal (queued → done event at a client, this process's clock)
 * is reported beside it: it adds picking the goal up, its worktree and its state changes, which
 * happen once per goal, not per iteration.
 *
 * Each direct run starts the same wrapper with the backend's own invocation (its args, env and
 * stdin, from the backend's `invocation`, the same iteration prompt, the environment Ralph builds)
 * in a fresh worktree of the same repository (as each goal gets one), timed spawn → exit here and
 * by the wrapper's marks. Direct and daemon runs alternate (which goes first too), each backend's
 * in turn, after one warm-up of each. BENCH_AGENTS_RUNS sets the runs (10).
 *
 * Killed (Ctrl+C, SIGTERM, SIGHUP), the bench first stops what it started: a direct CLI's process
 * group, the daemon (which ends its agent's group), the scratch folders; the fake servers live in
 * this process and end with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DONE_MARKER, type AgentBackend } from '../daemon/agent/external/backend.ts';
import { AGENT_MARKER_VARIABLE, PROMPT_FILE_VARIABLE } from '../daemon/agent/external/external-run.ts';
import { claudeBackend } from '../daemon/agent/external/claude.ts';
import { codexBackend } from '../daemon/agent/external/codex.ts';
import { iterationPrompt } from '../daemon/pipeline/iteration.ts';
import { commandEnvironment } from '../daemon/secrets/environment.ts';
import { RalphClient } from '../protocol/client.ts';
import { readDaemonFile, type EventEnvelope, type Goal } from '../protocol/index.ts';
import { startFakeAnthropic, type FakeAnthropicServer, type ReplyFn } from '../test/fake-anthropic/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../test/fake-openai/index.ts';
import { installAgentCli } from '../test/helpers/agent-cli.ts';
import { CODEX_TEST_KEY, makeCodexHome } from '../test/helpers/codex-home.ts';
import { git, makeTempDir, makeTempRepo } from '../test/helpers/repo.ts';
import { daemonProcess } from '../tui/connection/daemon.ts';
import { percentile, printTable, type Row } from './table.ts';

/** Measured runs per backend and mode (direct, daemon), after one warm-up of each. */
const RUNS = Number(process.env.BENCH_AGENTS_RUNS ?? 10);
/**
 * The fake model's latency before each response: none (the CLI's shortest run: Ralph's share at its
 * largest), and a fixed one closer to a fast real model's turn (BENCH_AGENTS_LATENCY_MS).
 */
const LATENCIES_MS = [...new Set([0, Number(process.env.BENCH_AGENTS_LATENCY_MS ?? 1000)])];
const TARGET_PERCENT = 10;
const CHECK_COMMAND = 'true';
const CLAUDE_KEY = 'sk-ant-bench';
const CODEX_MODEL = 'gpt-5.5';
const CLAUDE_FILE = 'hello.txt';
const STARTUP_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 120_000;

/** Epoch milliseconds, fractional: the realtime clock the daemon's timestamps and the wrapper's marks use. */
const now = () => performance.timeOrigin + performance.now();

// ---- stopping what it started, also when killed ----------------------------------------------

const killUndos = new Set<() => Promise<unknown>>();
/** Set once a signal came: what fails from then on failed because its processes were stopped. */
let killed = false;

/** Registers `undo` to run if the bench is killed; returns its removal (once it was undone anyway). */
function onKill(undo: () => Promise<unknown>): () => void {
  killUndos.add(undo);
  return () => killUndos.delete(undo);
}

function stopOnSignals(): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench agents: ${signal}: stopping what it started\n`);
    killed = true;
    const undos = [...killUndos].reverse();
    killUndos.clear();
    void (async () => {
      for (const undo of undos) await undo().catch(() => {});
      process.exit(130);
    })();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}

// ---- the two CLIs, each behind its timing wrapper ---------------------------------------------

interface Lane {
  backend: AgentBackend;
  /** The config's model for it, if any. */
  model: string | null;
  wrapper: string;
  /** Where the wrapper appends `start end exit-code` (epoch seconds with µs) for each run. */
  marks: string;
  /** Where the direct runs' worktrees go (each run a fresh one, as each goal gets). */
  directRoot: string;
  /** The file the scripted task writes. */
  file: string;
}

/** A bash wrapper that runs `bin` with `env` exported and notes when the CLI itself starts and exits. */
async function writeWrapper(file: string, bin: string, env: Record<string, string>, marks: string): Promise<void> {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  await writeFile(
    file,
    [
      '#!/bin/bash',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${quote(value)}`),
      'start=$EPOCHREALTIME',
      `${quote(bin)} "$@"`,
      'code=$?',
      'end=$EPOCHREALTIME',
      `echo "$start $end $code" >> ${quote(marks)}`,
      'exit $code',
      '',
    ].join('\n'),
  );
  await chmod(file, 0o755);
}

interface Mark {
  startMs: number;
  endMs: number;
  exitCode: number;
}

async function readMarks(file: string): Promise<Mark[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, end, code] = line.split(' ');
      return { startMs: Number(start) * 1000, endMs: Number(end) * 1000, exitCode: Number(code) };
    });
}

/** The one mark a run appended. */
async function newMark(file: string, before: number): Promise<Mark> {
  const marks = await readMarks(file);
  if (marks.length !== before + 1) throw new Error(`expected one new run in ${file}, found ${marks.length - before}`);
  return marks.at(-1)!;
}

/** Model latency (before each response starts), the same for both fake servers. */
const latency = { ms: 0 };

/** Claude Code's scripted turns, every run: the Write, then the done line (any other request: a plain answer). */
function claudeScript(file: string): ReplyFn {
  return async (request) => {
    if (latency.ms > 0) await sleep(latency.ms);
    if (!request.toolNames.includes('Write')) return { text: 'ok' };
    if (request.toolResults.length === 0)
      return { text: `I will write ${file}.`, toolUses: [{ name: 'Write', input: { file_path: file, content: 'hello from claude\n' } }] };
    return { text: `Wrote ${file}.\n${DONE_MARKER}: ${file} says hello` };
  };
}

/** Codex's scripted turns, every run: apply_patch adding the file, then the done line. */
function codexScenario(server: FakeOpenAIServer, file: string): void {
  const patch = `*** Begin Patch\n*** Add File: ${file}\n+hello from codex\n*** End Patch\n`;
  server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { text: `Adding ${file}.`, toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: patch }] }
      : { text: `The file is there.\n${DONE_MARKER}: wrote ${file}` },
  );
}

// ---- one direct run -----------------------------------------------------------------------------

interface DirectRun {
  /** Spawn → exit, on this process's clock. */
  wallMs: number;
  /** The CLI's own lifetime, by the wrapper's marks. */
  cliMs: number;
}

let directRuns = 0;

/** The CLI started as Ralph starts it (args, env, stdin), but by this process, in a fresh worktree: timed spawn → exit. */
async function directRun(lane: Lane, repo: string, prompt: string, scratch: string): Promise<DirectRun> {
  const { backend } = lane;
  const cwd = path.join(lane.directRoot, String(++directRuns));
  git(repo, 'worktree', 'add', '-q', '--detach', cwd);
  const invocation = backend.invocation({ prompt, cwd, model: lane.model, permissions: 'workspace', extraArgs: [] });
  const promptFile = path.join(scratch, `${backend.name}.prompt.md`);
  await writeFile(promptFile, prompt, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...commandEnvironment(process.env, [], { passEnv: [...backend.authEnv], hideEnv: [] }),
    ...invocation.env,
    PWD: cwd,
    [PROMPT_FILE_VARIABLE]: promptFile,
    [AGENT_MARKER_VARIABLE]: `bench-${backend.name}`,
  };
  const marksBefore = (await readMarks(lane.marks)).length;
  const started = now();
  const child = spawn(lane.wrapper, invocation.args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const forget = onKill(async () => killGroupOf(child));
  try {
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.stdin!.on('error', () => {});
    child.stdin!.end(invocation.stdin ?? '');
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    // Its output read and parsed as the daemon does (not logged): the final text must carry the done line.
    const parse = backend.parser({ cwd, model: lane.model });
    let said = '';
    const reading = (async () => {
      for await (const line of createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY })) {
        for (const event of parse(line))
          if (event.type === 'result' || event.type === 'text') said += `${'text' in event ? event.text : ''}\n`;
      }
    })();
    const timer = setTimeout(() => killGroupOf(child), RUN_TIMEOUT_MS);
    const [code] = await exited;
    const wallMs = now() - started;
    clearTimeout(timer);
    await reading;
    const mark = await newMark(lane.marks, marksBefore);
    const wrote = await readFile(path.join(cwd, lane.file), 'utf8').catch(() => null);
    if (code !== 0 || !wrote || !said.includes(DONE_MARKER)) {
      throw new Error(
        `${backend.displayName} run directly did not go as scripted (exit ${code}, file ${wrote !== null}): ${stderr.trim()}`,
      );
    }
    return { wallMs, cliMs: mark.endMs - mark.startMs };
  } finally {
    forget();
    killGroupOf(child);
    git(repo, 'worktree', 'remove', '--force', cwd);
  }
}

function killGroupOf(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

// ---- the daemon, and one goal through it -------------------------------------------------------

async function startDaemon(repo: string, stateHome: string): Promise<ChildProcess> {
  const { command, args, env: daemonEnv } = daemonProcess(repo, 'foreground');
  // Its goals' worktrees in the scratch folder; its pipeline running whatever this shell says.
  const env: NodeJS.ProcessEnv = { ...daemonEnv, XDG_STATE_HOME: stateHome };
  delete env.RALPH_PIPELINE;
  const child = spawn(command, args, { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const file = await readDaemonFile(repo).catch(() => null);
    if (file?.pid === child.pid) return child;
    if (child.exitCode !== null) throw new Error(`the daemon exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the daemon did not start within ${STARTUP_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopDaemon(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = once(daemon, 'exit');
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** When each goal reached done or stuck, as this client heard it. */
class GoalEnds {
  private readonly ended = new Map<number, { at: number; goal: Goal }>();
  private readonly waiting = new Map<number, (end: { at: number; goal: Goal }) => void>();

  constructor(client: RalphClient) {
    client.on('event', (event: EventEnvelope) => {
      if (event.type !== 'goal.updated') return;
      const { goal } = event.data;
      if (goal.state !== 'done' && goal.state !== 'stuck') return;
      if (this.ended.has(goal.id)) return;
      const end = { at: now(), goal };
      this.ended.set(goal.id, end);
      this.waiting.get(goal.id)?.(end);
    });
  }

  wait(id: number): Promise<{ at: number; goal: Goal }> {
    const ended = this.ended.get(id);
    if (ended) return Promise.resolve(ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`goal #${id} did not end within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
      this.waiting.set(id, (end) => {
        clearTimeout(timer);
        resolve(end);
      });
    });
  }
}

interface DaemonRun {
  /** Goal created (queued) → its done event here. */
  goalMs: number;
  /** The iteration's record, startedAt → endedAt. */
  iterationMs: number;
  /** The CLI's own lifetime inside it (the wrapper's marks). */
  cliMs: number;
  overheadMs: number;
  /** The overhead by phase: iteration start → CLI start; CLI exit → commit logged; → check logged; → iteration end. */
  spawnMs: number;
  exitToCommitMs: number;
  checkMs: number;
  recordMs: number;
  goal: Goal;
}

async function daemonRun(client: RalphClient, ends: GoalEnds, lane: Lane, title: string): Promise<DaemonRun> {
  const marksBefore = (await readMarks(lane.marks)).length;
  const created = now();
  const { goal } = await client.request('goal.create', { title, agent: lane.backend.name, queue: true });
  const end = await ends.wait(goal.id);
  const goalMs = end.at - created;
  const done = end.goal;
  const iteration = done.attempts[0]?.iterations[0];
  if (done.state !== 'done' || !iteration?.endedAt || !iteration.commit || !iteration.doneClaimed) {
    throw new Error(`goal #${goal.id} with ${lane.backend.displayName} did not go as scripted: ${JSON.stringify(done.history.at(-1))}`);
  }
  const mark = await newMark(lane.marks, marksBefore);
  const { entries } = await client.request('logs.read', { id: goal.id });
  const timeOf = (kind: string): number => {
    const entry = entries.find((each) => each.kind === kind && each.iteration === 1);
    if (!entry) throw new Error(`goal #${goal.id}: no ${kind} entry in its log`);
    return Date.parse(entry.time);
  };
  const startedAt = Date.parse(String(iteration.startedAt));
  const endedAt = Date.parse(String(iteration.endedAt));
  const commitAt = timeOf('commit');
  const checkAt = timeOf('check');
  const iterationMs = endedAt - startedAt;
  const cliMs = mark.endMs - mark.startMs;
  return {
    goalMs,
    iterationMs,
    cliMs,
    overheadMs: iterationMs - cliMs,
    spawnMs: mark.startMs - startedAt,
    exitToCommitMs: commitAt - mark.endMs,
    checkMs: checkAt - commitAt,
    recordMs: endedAt - checkAt,
    goal: done,
  };
}

// ---- the report -----------------------------------------------------------------------------------

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const p90 = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    90,
  );

/** One backend's runs at one model latency. */
interface Measured {
  lane: Lane;
  latencyMs: number;
  direct: DirectRun[];
  daemon: DaemonRun[];
}

function summaryRow({ lane, latencyMs, direct, daemon }: Measured): Row {
  const percents = daemon.map((run) => (100 * run.overheadMs) / run.iterationMs);
  const medianPercent = median(percents);
  return {
    backend: lane.backend.displayName,
    'model latency (ms)': latencyMs,
    'CLI direct (ms)': median(direct.map((run) => run.cliMs)),
    'CLI in iteration (ms)': median(daemon.map((run) => run.cliMs)),
    'iteration (ms)': median(daemon.map((run) => run.iterationMs)),
    'overhead (ms)': median(daemon.map((run) => run.overheadMs)),
    'p90 (ms)': p90(daemon.map((run) => run.overheadMs)),
    'overhead %': medianPercent,
    'p90 %': p90(percents),
    target: `≤ ${TARGET_PERCENT} %`,
    result: medianPercent <= TARGET_PERCENT ? 'pass' : 'FAIL',
  };
}

/** The overhead by phase, every latency's runs of a backend together (the phases do not wait on the model). */
function breakdownRows(lane: Lane, measured: Measured[]): Row[] {
  const daemon = measured.filter((each) => each.lane === lane).flatMap((each) => each.daemon);
  const direct = measured.filter((each) => each.lane === lane).flatMap((each) => each.direct);
  const row = (phase: string, values: number[]): Row => ({
    backend: lane.backend.displayName,
    phase,
    'median (ms)': median(values),
    'p90 (ms)': p90(values),
  });
  return [
    row(
      'iteration start → CLI start (prompt, agent record, spawn, wrapper)',
      daemon.map((run) => run.spawnMs),
    ),
    row(
      'CLI exit → commit logged (exit, group sweep, drain, git commit)',
      daemon.map((run) => run.exitToCommitMs),
    ),
    row(
      `commit → check logged (check \`${CHECK_COMMAND}\` launched and run)`,
      daemon.map((run) => run.checkMs),
    ),
    row(
      'check → iteration end (record)',
      daemon.map((run) => run.recordMs),
    ),
    row(
      'the overhead in all',
      daemon.map((run) => run.overheadMs),
    ),
    row(
      'goal queued → done, minus the iteration (pick-up, worktree, states: once a goal)',
      daemon.map((run) => run.goalMs - run.iterationMs),
    ),
    row(
      'direct: spawn → exit, minus the CLI (node spawn + the wrapper)',
      direct.map((run) => run.wallMs - run.cliMs),
    ),
  ];
}

function wholeRunRow({ lane, latencyMs, direct, daemon }: Measured): Row {
  return {
    backend: lane.backend.displayName,
    'model latency (ms)': latencyMs,
    'direct: spawn → exit (ms)': median(direct.map((run) => run.wallMs)),
    'daemon: goal queued → done (ms)': median(daemon.map((run) => run.goalMs)),
    'iteration − CLI direct (ms)': median(daemon.map((run) => run.iterationMs)) - median(direct.map((run) => run.cliMs)),
  };
}

export async function run(): Promise<void> {
  const removeSignals = stopOnSignals();
  const scratch = await makeTempDir(undefined, 'ralph-bench-agents-');
  const forgetScratch = onKill(() => rm(scratch, { recursive: true, force: true }));
  const cleanups: (() => unknown)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  const forgetCleanups = onKill(runCleanups);
  // makeCodexHome takes a test's context only to remove its folder afterwards (t.after): here that runs after the bench.
  const context = { after: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as TestContext;
  let anthropic: FakeAnthropicServer | undefined;
  let openai: FakeOpenAIServer | undefined;
  let daemon: ChildProcess | undefined;
  let client: RalphClient | undefined;
  let repo: string | undefined;
  try {
    const [claudeCli, codexCli] = [await installAgentCli('claude'), await installAgentCli('codex')];
    anthropic = await startFakeAnthropic({ apiKey: CLAUDE_KEY, fallback: claudeScript(CLAUDE_FILE) });
    const openaiServer = await startFakeOpenAI({ apiKey: CODEX_TEST_KEY, latencyMs: 0 });
    openai = openaiServer;
    const { env: codexEnv } = await makeCodexHome(context, { baseUrl: openaiServer.url });
    const nowhere = 'http://127.0.0.1:9';
    const claudeEnv = {
      HOME: path.join(scratch, 'claude-home'),
      HTTPS_PROXY: nowhere,
      HTTP_PROXY: nowhere,
      NO_PROXY: '127.0.0.1,localhost',
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: CLAUDE_KEY,
    };
    await mkdir(claudeEnv.HOME, { recursive: true });

    repo = await makeTempRepo(undefined);
    const repoRoot = repo;
    const forgetRepo = onKill(() => rm(repoRoot, { recursive: true, force: true }));
    const makeLane = (backend: AgentBackend, model: string | null, file: string): Lane => ({
      backend,
      model,
      wrapper: path.join(scratch, backend.name),
      marks: path.join(scratch, `${backend.name}.marks`),
      directRoot: path.join(scratch, `direct-${backend.name}`),
      file,
    });
    const lanes = [makeLane(claudeBackend, null, CLAUDE_FILE), makeLane(codexBackend, CODEX_MODEL, 'notes/hello.txt')] as const;
    const [claude, codex] = lanes;
    await writeWrapper(claude.wrapper, claudeCli.bin, claudeEnv, claude.marks);
    await writeWrapper(codex.wrapper, codexCli.bin, codexEnv, codex.marks);
    codexScenario(openaiServer, codex.file);
    const config = {
      executor: {
        verify: CHECK_COMMAND,
        agents: { claude: { path: claude.wrapper }, codex: { path: codex.wrapper, model: CODEX_MODEL } },
      },
    };
    await writeFile(path.join(repo, 'ralph.config.ts'), `export default ${JSON.stringify(config)};\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'ralph.config.ts for the bench');

    daemon = await startDaemon(repo, path.join(scratch, 'state'));
    const running = daemon;
    const forgetDaemon = onKill(() => stopDaemon(running));
    const file = await readDaemonFile(repo);
    if (!file) throw new Error('no daemon.json');
    client = await RalphClient.connect({ endpoint: { url: file.url, token: file.token }, name: 'bench', reconnect: false });
    const ends = new GoalEnds(client);

    const title = (lane: Lane) => `Write ${lane.file} saying hello`;
    const prompts = new Map<Lane, string>();
    // Warm-up, not counted: the first goal of each gives the iteration prompt the direct runs get.
    for (const lane of lanes) {
      const warm = await daemonRun(client, ends, lane, title(lane));
      const prompt = iterationPrompt({
        goal: warm.goal,
        number: 1,
        positionInAttempt: 1,
        notes: [],
        lastCheck: null,
        retryContext: null,
        verify: CHECK_COMMAND,
        external: true,
      });
      prompts.set(lane, prompt);
      await directRun(lane, repoRoot, prompt, scratch);
    }
    const measured: Measured[] = [];
    for (const latencyMs of LATENCIES_MS) {
      latency.ms = latencyMs;
      openaiServer.latencyMs = latencyMs;
      const batch = lanes.map((lane): Measured => ({ lane, latencyMs, direct: [], daemon: [] }));
      for (let index = 0; index < RUNS; index++) {
        for (const each of batch) {
          const direct = () => directRun(each.lane, repoRoot, prompts.get(each.lane)!, scratch);
          // Alternating which goes first: neither always runs on the machine the other just warmed.
          if (index % 2 === 0) each.direct.push(await direct());
          each.daemon.push(await daemonRun(client, ends, each.lane, title(each.lane)));
          if (index % 2 === 1) each.direct.push(await direct());
        }
        process.stderr.write(`bench agents: model latency ${latencyMs} ms: ${index + 1}/${RUNS}\n`);
      }
      measured.push(...batch);
    }

    printTable(
      `Ralph's overhead around an external agent per iteration: the real CLI writes one file and says done (two model calls), check \`${CHECK_COMMAND}\`, ${RUNS} runs each; overhead = the iteration − the CLI's own lifetime inside it (median, target ≤ ${TARGET_PERCENT} %)`,
      measured.map(summaryRow),
    );
    printTable(
      'Where the overhead goes (the iteration record and goal log times, ms resolution; all latencies together)',
      lanes.flatMap((lane) => breakdownRows(lane, measured)),
    );
    printTable('Whole runs (median)', measured.map(wholeRunRow));
    forgetDaemon();
    forgetRepo();
  } catch (error) {
    // Killed: the signal's undo stops everything and exits; the run's own failure is only its echo.
    if (killed) await new Promise(() => {});
    throw error;
  } finally {
    await client?.close();
    if (daemon) await stopDaemon(daemon);
    await anthropic?.close();
    await openai?.close();
    await runCleanups();
    forgetCleanups();
    // The goals' worktrees (under the state folder) and the direct runs' are registered in the repository: both go.
    if (repo) await rm(repo, { recursive: true, force: true, maxRetries: 3 });
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
    forgetScratch();
    removeSignals();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
