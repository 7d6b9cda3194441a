/**
 * The chaos run: the real daemon process (daemon/main.ts) is killed with SIGKILL over and over, at
 * random moments and right after chosen events (a goal starts running, a goal is done and landing
 * begins, a flood of log lines), and restarted each time, while goals are created through the real
 * protocol client and run against test/fake-openai: they write files, run commands, flood their
 * logs, claim done, are checked, and land automatically (`executor.land: 'auto'`) in a real git
 * repository. When the kills are over, one last daemon lets every goal finish, stops cleanly, and
 * everything on disk is examined for what a crash must never leave behind (see `Defects`).
 *
 * Shared by `npm run chaos` (test/chaos/main.ts: 100 kills, a table) and test/chaos/chaos.test.ts
 * (10 kills, every count must be zero). The kills are chosen by a seeded PRNG, so a seed names a
 * run's plan (its timing still depends on the machine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ralphPaths } from '../../daemon/paths.ts';
import { ITERATION_TRAILER, goalBranch, repoWorktreesFolder } from '../../daemon/pipeline/workspace.ts';
import { RalphClient } from '../../protocol/client.ts';
import { Goal, readDaemonFile, type EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer, type Reply, type ScenarioRequest } from '../fake-openai/index.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';

const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment variable every process of a run inherits, so processes left behind can be found. */
const MARK_VARIABLE = 'RALPH_CHAOS_MARK';

export interface ChaosOptions {
  /** How many times the daemon is killed (each followed by a restart). */
  kills: number;
  seed: number;
  /** Goals running at once (`executor.concurrency`). Default 2. */
  concurrency?: number;
  /** Goals waiting or running that the creator keeps in the queue. Default 3. */
  backlog?: number;
  /** How long the last daemon may take to finish every goal. Default 120 s. */
  settleTimeoutMs?: number;
  /**
   * How the daemon process runs: `source` (default) as the CLI starts it, `node --import tsx
   * daemon/main.ts`; `bundle`: the same sources bundled once by esbuild (as the CLI itself is), which
   * starts in about half the time, for the short run in `npm test`.
   */
  daemonFrom?: 'source' | 'bundle';
  /** Progress lines (one per kill). */
  progress?: (line: string) => void;
}

/** What must be zero. */
export interface Defects {
  /** Goals whose creation was answered before a kill and that are missing after it (at any restart or at the end). */
  goalsLost: number;
  /** Goal files that do not parse as JSON or as a goal (at the end, or shown invalid at any restart). */
  unparsableGoalFiles: number;
  /** An iteration recorded twice on a goal (the same number in its attempts more than once). */
  iterationsRecordedTwice: number;
  /** Two commits for one iteration of a goal (the `Ralph-Iteration: <id>/<k>` trailer twice in its history). */
  duplicateIterationCommits: number;
  /** A goal's `Goal #<id>: <title>` landing commit on the target branch more than once. */
  duplicateLandingCommits: number;
  /** A goal whose landing was recorded more than once (two `landed` log entries), or recorded with a commit not on the branch. */
  badLandingRecords: number;
  /** A landing commit on the branch whose goal does not record it as landed. */
  unrecordedLandings: number;
  /** Log lines that are not a whole JSON entry (torn, and left in the file). */
  malformedLogLines: number;
  /** Readable log lines whose `index` is not their position (a gap or a repeat in the sequence). */
  logIndexGaps: number;
  /** Log entries a client was sent (so they were written) that are not in the file at their index afterwards. */
  acknowledgedLogEntriesLost: number;
  /** Worktree folders with no goal, or of a goal that has landed (its worktree should be gone), or branches of landed goals. */
  worktreesWithoutGoal: number;
  /** `git worktree list` entries whose folder is gone, or locked half-made ones. */
  danglingWorktrees: number;
  /** Temp files and scratch files left in `.ralph/`, `.git/` or the worktrees folder (index.lock included). */
  strayTempFiles: number;
  /** Files of the developer's working tree that differ from the branch (a landing cut short). */
  dirtyWorkingTreeFiles: number;
  /** Processes of the run still alive after the last daemon stopped (and a grace period). */
  leftoverProcesses: number;
  /** Restarts that failed (the daemon did not come up). */
  failedRestarts: number;
  /** Goals neither landed nor ended otherwise when the last daemon had had its time. */
  unsettledGoals: number;
  /** Goals that ended stuck or cancelled: nothing in the run should make a goal fail. */
  failedGoals: number;
  /** The last daemon did not stop cleanly on SIGTERM (exit code, daemon.json and lock removed). */
  uncleanStop: number;
}

export interface ChaosReport {
  seed: number;
  kills: number;
  restarts: number;
  /** Kills by what triggered them. */
  killsBy: Record<KillKind, number>;
  /** Goals at the end (some were created by a request the kill cut off before its answer). */
  goalsCreated: number;
  /** Goals whose creation was answered. */
  goalsAcknowledged: number;
  goalsDone: number;
  goalsLanded: number;
  logEntriesAcknowledged: number;
  /** Iteration commits found in the goals' histories (each checked for a twin). */
  iterationCommits: number;
  defects: Defects;
  /** One line per defect found, naming what. */
  details: string[];
  durationMs: number;
  /** Mean time from spawning a daemon to its ready line. */
  meanStartMs: number;
}

export type KillKind = 'random' | 'startup' | 'running' | 'landing' | 'flood';
const KILL_KINDS: KillKind[] = ['random', 'startup', 'running', 'landing', 'flood'];

/** mulberry32: small, seedable, good enough to pick moments. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSeed(): number {
  return randomBytes(4).readUInt32BE(0);
}

// ---- the model: goals that write, run, flood their logs and finish ----

/**
 * The fake model's executor, a function of the request alone (so a restarted daemon gets the same
 * answers): the goal's id comes from the prompt. Odd goals take one iteration; even goals take two
 * (the first writes part 1 and stops without claiming done). Each first step floods the log with
 * `list_files` calls (their number varies per goal).
 */
function executorScenario(request: ScenarioRequest): Reply {
  const prompt = request.conversation.find((item) => item.kind === 'message' && item.role === 'user');
  const match = prompt && prompt.kind === 'message' ? /# Goal #(\d+):/.exec(prompt.text) : null;
  if (!match) return { text: 'Nothing to do here.' };
  const id = Number(match[1]);
  if (request.pendingToolResults.length > 0) return { text: `Wrote part 1 of goal ${id}; the next iteration finishes it.` };
  const firstIteration = prompt!.kind === 'message' && prompt!.text.includes('None: this is the first iteration of this attempt.');
  const flood = Array.from({ length: 5 + ((id * 7) % 30) }, () => ({ name: 'list_files', arguments: { path: 'chaos' } }));
  if (id % 2 === 0 && firstIteration) {
    return {
      toolCalls: [{ name: 'write_file', arguments: { path: `chaos/goal-${id}-part1.txt`, content: `part 1 of goal ${id}\n` } }, ...flood],
    };
  }
  return {
    toolCalls: [
      { name: 'write_file', arguments: { path: `chaos/goal-${id}.txt`, content: `goal ${id}\n` } },
      ...(firstIteration ? flood : []),
      { name: 'run_command', arguments: { command: `seq 1 ${50 + id} | tail -n 3` } },
      { name: 'goal_done', arguments: { summary: `chaos/goal-${id}.txt is written` } },
    ],
  };
}

// ---- processes ----

interface DaemonLife {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Everything a run started, for the cleanup that must happen however the run ends. */
class Cleanup {
  readonly mark = randomBytes(8).toString('hex');
  daemons = new Set<number>();
  server: FakeOpenAIServer | null = null;
  dirs: string[] = [];

  /** Synchronous, for 'exit' and signal handlers: every daemon's process group, and marked processes. */
  killEverythingNow(): void {
    for (const pid of this.daemons) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const pid of markedProcesses(this.mark, this.dirs)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  async close(): Promise<void> {
    this.killEverythingNow();
    await this.server?.close().catch(() => undefined);
    for (const dir of this.dirs.reverse()) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Pids of live processes (not this one) of the run: their environment carries its mark, or they
 * work in one of its folders (the repository, the worktrees), whatever environment they were given.
 */
function markedProcesses(mark: string, dirs: readonly string[]): number[] {
  const needle = `${MARK_VARIABLE}=${mark}`;
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found; // not Linux: nothing to look at
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // not ours to read
      }
      const inRunFolder = dirs.some((dir) => cwd === dir || cwd.startsWith(`${dir}/`));
      if (!environ.split('\0').includes(needle) && !inRunFolder) continue;
      // A zombie (exited, not yet reaped) is not left running.
      const status = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (/\) Z /.test(status)) continue;
      found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function describeProcess(pid: number): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
    let cwd = '?';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // unreadable
    }
    return `pid ${pid} (${cmdline.slice(0, 120)}) in ${cwd}`;
  } catch {
    return `pid ${pid}`;
  }
}

/**
 * daemon/main.ts bundled into `dir` (packages stay imports, found through a link to the project's
 * node_modules). Returns the arguments that run it.
 */
async function bundleDaemon(dir: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const outfile = path.join(dir, 'daemon.mjs');
  await esbuild.build({
    entryPoints: [DAEMON_MAIN],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return [outfile];
}

async function spawnDaemon(
  daemonArgs: string[],
  repo: string,
  env: NodeJS.ProcessEnv,
  cleanup: Cleanup,
): Promise<DaemonLife | { error: string }> {
  // Its own process group (detached): the cleanup can kill it and everything it started at once.
  const child = spawn(process.execPath, [...daemonArgs, '--repo', repo, '--background'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  cleanup.daemons.add(pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const line = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 30_000);
    const check = () => {
      const end = out.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      resolve(out.slice(0, end));
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(out.includes('\n') ? out.slice(0, out.indexOf('\n')) : null);
    });
  });
  const ready = line ? (JSON.parse(line) as { ready: boolean; error?: string }) : null;
  if (!ready?.ready) {
    child.kill('SIGKILL');
    await exited;
    cleanup.daemons.delete(pid);
    return { error: ready?.error ?? `no ready line (stderr: ${err.trim().slice(0, 300)})` };
  }
  // The daemon never writes to these again; they must not keep this process alive.
  child.stdout!.destroy();
  child.stderr!.destroy();
  return { child, pid, exited };
}

async function killHard(life: DaemonLife, cleanup: Cleanup): Promise<void> {
  try {
    process.kill(life.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await life.exited;
  cleanup.daemons.delete(life.pid);
}

// ---- the run ----

interface AckedEntry {
  goalId: number;
  index: number;
  time: string;
  kind: string;
  text: string;
}

/** What the run learns while it goes: answered creations, log entries sent to the client, goal states. */
class Observed {
  /** Goals whose creation was answered, by id: their title. */
  created = new Map<number, string>();
  /** Log entries clients were sent, by goal then index. */
  acked = new Map<number, Map<number, AckedEntry>>();
  states = new Map<number, { state: string; landed: boolean }>();
  lost = new Set<number>();

  ackEntries(goalId: number, entries: { index: number; time: string; kind: string; text: string }[]): void {
    let byIndex = this.acked.get(goalId);
    if (!byIndex) {
      byIndex = new Map();
      this.acked.set(goalId, byIndex);
    }
    for (const entry of entries)
      byIndex.set(entry.index, { goalId, index: entry.index, time: entry.time, kind: entry.kind, text: entry.text });
  }

  noteGoal(goal: { id: number; state: string; landed?: unknown }): void {
    this.states.set(goal.id, { state: goal.state, landed: Boolean(goal.landed) });
  }

  /** Goals (answered or seen) not yet at rest: queued, running, or done and not landed yet. */
  unsettled(): number[] {
    return [...new Set([...this.created.keys(), ...this.states.keys()])].filter((id) => {
      const known = this.states.get(id);
      if (!known) return true;
      if (known.state === 'done') return !known.landed;
      return !['stuck', 'cancelled'].includes(known.state);
    });
  }
}

/** A client on one daemon life; its events feed `observed` and the kill triggers. */
async function connectClient(repo: string, observed: Observed): Promise<{ client: RalphClient; events: EventTarget }> {
  const file = await readDaemonFile(repo);
  if (!file) throw new Error('the daemon wrote no daemon.json');
  const client = await RalphClient.connect({
    endpoint: { url: file.url, token: file.token },
    name: 'chaos',
    reconnect: false,
    requestTimeoutMs: 10_000,
  });
  const events = new EventTarget();
  for (const goal of client.snapshot.goals) observed.noteGoal(goal);
  // Read loosely: only the fields the run needs, so a richer event shape does not break it.
  client.on('event', (event: EventEnvelope) => {
    if (event.type === 'goal.created' || event.type === 'goal.updated') {
      const data = event.data as { goal?: { id: number; state: string; landed?: unknown }; transition?: { to: string } };
      if (data.goal) observed.noteGoal(data.goal);
      if (data.transition) events.dispatchEvent(new CustomEvent('transition', { detail: data.transition.to }));
    } else if (event.type === 'log.appended') {
      const data = event.data as { goalId: number; entries: { index: number; time: string; kind: string; text: string }[] };
      observed.ackEntries(data.goalId, data.entries);
      events.dispatchEvent(new CustomEvent('log', { detail: data.entries.length }));
    }
  });
  return { client, events };
}

/** Resolves after the kill trigger of `kind` fires (or a fallback delay passes, so a run never hangs). */
function killTrigger(kind: KillKind, random: () => number, events: EventTarget, stopped: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const cleanups: (() => void)[] = [];
    const finish = (delayMs = 0) => {
      for (const undo of cleanups) undo();
      setTimeout(resolve, delayMs);
    };
    const listen = (type: string, handler: (detail: unknown) => void) => {
      const listener = (event: Event) => handler((event as CustomEvent).detail);
      events.addEventListener(type, listener);
      cleanups.push(() => events.removeEventListener(type, listener));
    };
    const fallback = setTimeout(() => finish(), 4000);
    cleanups.push(() => clearTimeout(fallback));
    stopped.addEventListener('abort', () => finish(), { once: true });
    switch (kind) {
      case 'random':
        finish(Math.floor(random() * 2500));
        break;
      case 'startup':
        finish(Math.floor(random() * 150));
        break;
      case 'running': {
        const delay = Math.floor(random() * 300);
        listen('transition', (to) => to === 'running' && finish(delay));
        break;
      }
      case 'landing': {
        // The goal became done: automatic landing starts on the next turn (rebase, check, commit, record).
        const delay = Math.floor(random() * 600);
        listen('transition', (to) => to === 'done' && finish(delay));
        break;
      }
      case 'flood': {
        const wanted = 1 + Math.floor(random() * 40);
        let seen = 0;
        listen('log', (count) => {
          seen += count as number;
          if (seen >= wanted) finish();
        });
        break;
      }
    }
  });
}

/** Keeps `backlog` goals waiting or running, creating goals through the client until aborted. */
async function createGoals(
  client: RalphClient,
  observed: Observed,
  backlog: number,
  random: () => number,
  signal: AbortSignal,
  counter: { next: number },
): Promise<void> {
  while (!signal.aborted) {
    if (observed.unsettled().length < backlog) {
      const number = counter.next++;
      try {
        const { goal } = await client.request('goal.create', {
          title: `Chaos goal ${number}`,
          spec: `## Objective\n\nA file chaos/goal-<id>.txt.\n\n## Acceptance\n\nThe file exists.\n`,
          queue: true,
        });
        observed.created.set(goal.id, goal.title);
        observed.noteGoal(goal);
      } catch {
        return; // the daemon is gone (killed): the next life creates more
      }
    }
    await sleep(50 + Math.floor(random() * 300), undefined, { signal }).catch(() => undefined);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = performance.now();
  const random = prng(options.seed);
  const progress = options.progress ?? (() => undefined);
  const concurrency = options.concurrency ?? 2;
  const backlog = options.backlog ?? 3;
  const cleanup = new Cleanup();
  // However this process ends, nothing of the run is left running.
  const onExit = () => {
    cleanup.killEverythingNow();
    for (const dir of cleanup.dirs) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const observed = new Observed();
  const killsBy = Object.fromEntries(KILL_KINDS.map((kind) => [kind, 0])) as Record<KillKind, number>;
  const details: string[] = [];
  const defects: Defects = {
    goalsLost: 0,
    unparsableGoalFiles: 0,
    iterationsRecordedTwice: 0,
    duplicateIterationCommits: 0,
    duplicateLandingCommits: 0,
    badLandingRecords: 0,
    unrecordedLandings: 0,
    malformedLogLines: 0,
    logIndexGaps: 0,
    acknowledgedLogEntriesLost: 0,
    worktreesWithoutGoal: 0,
    danglingWorktrees: 0,
    strayTempFiles: 0,
    dirtyWorkingTreeFiles: 0,
    leftoverProcesses: 0,
    failedRestarts: 0,
    unsettledGoals: 0,
    failedGoals: 0,
    uncleanStop: 0,
  };
  let restarts = 0;
  const startTimes: number[] = [];

  try {
    const verify = 'test -d chaos';
    const repo = await makeTempRepo(undefined, {
      'ralph.config.ts': `export default { executor: { land: 'auto', concurrency: ${concurrency}, verify: '${verify}' } };\n`,
    });
    cleanup.dirs.push(repo);
    const stateHome = await makeTempDir(undefined, 'ralph-chaos-state-');
    cleanup.dirs.push(stateHome);
    const daemonArgs = options.daemonFrom === 'bundle' ? await bundleDaemon(stateHome) : ['--import', 'tsx', DAEMON_MAIN];
    const server = await startFakeOpenAI({ scenario: executorScenario });
    cleanup.server = server;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'chaos-key',
      RALPH_API: 'chat',
      RALPH_MODEL: 'fake-model',
      RALPH_PIPELINE: '',
      XDG_STATE_HOME: stateHome,
      GIT_AUTHOR_NAME: 'Ralph Chaos',
      GIT_AUTHOR_EMAIL: 'chaos@ralph.invalid',
      GIT_COMMITTER_NAME: 'Ralph Chaos',
      GIT_COMMITTER_EMAIL: 'chaos@ralph.invalid',
      [MARK_VARIABLE]: cleanup.mark,
    };
    const counter = { next: 1 };

    const start = async (): Promise<DaemonLife> => {
      for (let attempt = 1; ; attempt++) {
        const began = performance.now();
        const life = await spawnDaemon(daemonArgs, repo, env, cleanup);
        if (!('error' in life)) {
          startTimes.push(performance.now() - began);
          return life;
        }
        defects.failedRestarts++;
        details.push(`restart failed: ${life.error}`);
        if (attempt === 3) throw new Error(`the daemon would not start three times in a row: ${life.error}`);
      }
    };

    /** After a restart: every goal whose creation was answered must be there, and every goal file valid. */
    const invalidSeen = new Set<string>();
    const checkNothingLost = (client: RalphClient, when: string) => {
      for (const invalid of client.snapshot.invalid) {
        const key = JSON.stringify(invalid);
        if (invalidSeen.has(key)) continue;
        invalidSeen.add(key);
        defects.unparsableGoalFiles++;
        details.push(`${when}, the daemon showed an invalid goal file: ${key.slice(0, 200)}`);
      }
      const present = new Set(client.snapshot.goals.map((goal) => goal.id));
      for (const id of observed.created.keys()) {
        if (present.has(id) || observed.lost.has(id)) continue;
        observed.lost.add(id);
        details.push(`goal #${id} lost ${when}`);
      }
    };

    for (let kill = 1; kill <= options.kills; kill++) {
      const life = await start();
      if (kill > 1) restarts++;
      const kind = KILL_KINDS[Math.floor(random() * KILL_KINDS.length)]!;
      const stopCreating = new AbortController();
      let client: RalphClient | undefined;
      try {
        const connected = await connectClient(repo, observed);
        client = connected.client;
        checkNothingLost(client, `after restart ${kill - 1}`);
        const creating = createGoals(client, observed, backlog, random, stopCreating.signal, counter);
        await killTrigger(kind, random, connected.events, stopCreating.signal);
        await killHard(life, cleanup);
        stopCreating.abort();
        await creating;
      } catch (error) {
        // The daemon died under the client before it connected (a startup kill can race it): still a kill.
        await killHard(life, cleanup);
        stopCreating.abort();
        if (!/connect|closed|lost|ECONNREFUSED|daemon/i.test((error as Error).message)) throw error;
      } finally {
        await client?.close().catch(() => undefined);
      }
      killsBy[kind]++;
      progress(`kill ${kill}/${options.kills} (${kind}): ${observed.created.size} goals created, ${observed.unsettled().length} unsettled`);
    }

    // The last daemon: no more kills; every goal finishes and lands.
    const last = await start();
    restarts++;
    const { client } = await connectClient(repo, observed);
    checkNothingLost(client, 'at the last restart');
    const deadline = Date.now() + (options.settleTimeoutMs ?? 120_000);
    while (observed.unsettled().length > 0 && Date.now() < deadline) await sleep(100);
    const unsettled = observed.unsettled();
    defects.unsettledGoals = unsettled.length;
    for (const id of unsettled)
      details.push(`goal #${id} is ${observed.states.get(id)?.state ?? 'unknown'} (not landed) after the settle time`);
    await client.close();
    last.child.kill('SIGTERM');
    const giveUp = new AbortController();
    const stopped = await Promise.race([last.exited, sleep(20_000, null, { signal: giveUp.signal }).catch(() => null)]);
    giveUp.abort();
    cleanup.daemons.delete(last.pid);
    const paths = ralphPaths(repo);
    const leftFiles = (
      await Promise.all(
        [paths.daemonFile, paths.lock].map((file) =>
          stat(file).then(
            () => file,
            () => null,
          ),
        ),
      )
    ).filter(Boolean);
    if (stopped?.code !== 0 || leftFiles.length > 0) {
      defects.uncleanStop = 1;
      details.push(
        `the last daemon did not stop cleanly: ${stopped ? `exit ${stopped.code ?? stopped.signal}` : 'still running after 20 s'}, left ${leftFiles.join(', ') || 'nothing'}`,
      );
      if (!stopped) await killHard(last, cleanup);
    }

    const { goals, iterationCommits } = await examine(repo, stateHome, observed, defects, details);

    // Processes of the run (its mark in their environment) that outlived their daemon.
    let left = markedProcesses(cleanup.mark, cleanup.dirs);
    for (let waited = 0; left.length > 0 && waited < 5000; waited += 100) {
      await sleep(100);
      left = markedProcesses(cleanup.mark, cleanup.dirs);
    }
    defects.leftoverProcesses = left.length;
    for (const pid of left) details.push(`process left running: ${describeProcess(pid)}`);
    defects.goalsLost = observed.lost.size;

    let goalsDone = 0;
    let goalsLanded = 0;
    for (const goal of goals.values()) {
      if (goal.state === 'done') goalsDone++;
      if (goal.landed) goalsLanded++;
      if (goal.state === 'stuck' || goal.state === 'cancelled') {
        defects.failedGoals++;
        details.push(`goal #${goal.id} ended ${goal.state}: ${goal.history.at(-1)?.note ?? ''}`);
      }
    }
    return {
      seed: options.seed,
      kills: options.kills,
      restarts,
      killsBy,
      goalsCreated: goals.size,
      goalsAcknowledged: observed.created.size,
      goalsDone,
      goalsLanded,
      logEntriesAcknowledged: [...observed.acked.values()].reduce((sum, entries) => sum + entries.size, 0),
      iterationCommits,
      defects,
      details,
      durationMs: performance.now() - started,
      meanStartMs: startTimes.reduce((sum, ms) => sum + ms, 0) / Math.max(1, startTimes.length),
    };
  } finally {
    process.off('exit', onExit);
    await cleanup.close();
  }
}

// ---- what is left on disk ----

/** Counts what the run left on disk into `defects`; returns the goals (their files) at the end and how many iteration commits were seen. */
async function examine(
  repo: string,
  stateHome: string,
  observed: Observed,
  defects: Defects,
  details: string[],
): Promise<{ goals: Map<number, Goal>; iterationCommits: number }> {
  let iterationCommits = 0;
  const paths = ralphPaths(repo);
  const goals = new Map<number, Goal>();

  // Goal files: each parses; every answered creation has its file.
  for (const name of await readdir(paths.goals).catch(() => [] as string[])) {
    const match = /^(\d+)\.json$/.exec(name);
    if (!match) continue;
    try {
      const goal = Goal.parse(JSON.parse(await readFile(path.join(paths.goals, name), 'utf8')));
      goals.set(goal.id, goal);
      observed.noteGoal(goal);
      const numbers = goal.attempts.flatMap((attempt) => attempt.iterations.map((iteration) => (iteration as { number?: unknown }).number));
      const repeated = numbers.length - new Set(numbers).size;
      if (repeated > 0) {
        defects.iterationsRecordedTwice += repeated;
        details.push(`goal #${goal.id} records iterations ${numbers.join(', ')}`);
      }
    } catch (error) {
      defects.unparsableGoalFiles++;
      details.push(`goal file ${name} does not parse: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  for (const id of observed.created.keys()) {
    if (!goals.has(id) && !observed.lost.has(id)) {
      observed.lost.add(id);
      details.push(`goal #${id} has no goal file at the end`);
    }
  }

  // Iteration commits: the history of a goal's last recorded iteration commit has one commit per iteration.
  for (const goal of goals.values()) {
    const commits = goal.attempts.flatMap((attempt) => attempt.iterations.map((iteration) => (iteration as { commit?: unknown }).commit));
    const last = commits.filter((commit): commit is string => typeof commit === 'string').at(-1);
    if (!last) continue;
    const trailers = git(repo, 'log', `--format=%(trailers:key=${ITERATION_TRAILER},valueonly)`, last)
      .split('\n')
      .map((value) => value.trim())
      .filter((value) => value.startsWith(`${goal.id}/`));
    const repeated = trailers.length - new Set(trailers).size;
    iterationCommits += new Set(trailers).size;
    if (repeated > 0) {
      defects.duplicateIterationCommits += repeated;
      details.push(`goal #${goal.id}'s branch has iteration commits ${trailers.join(', ')}`);
    }
  }

  // Landing commits on the branch: one per goal, each recorded on its goal.
  const branch = git(repo, 'rev-parse', '--abbrev-ref', 'HEAD');
  const subjects = git(repo, 'log', '--format=%H %s', branch).split('\n');
  const landingCommits = new Map<number, string[]>();
  for (const line of subjects) {
    const match = /^([0-9a-f]+) Goal #(\d+): /.exec(line);
    if (!match) continue;
    const id = Number(match[2]);
    landingCommits.set(id, [...(landingCommits.get(id) ?? []), match[1]!]);
  }
  for (const [id, commits] of landingCommits) {
    if (commits.length > 1) {
      defects.duplicateLandingCommits += commits.length - 1;
      details.push(`goal #${id} landed ${commits.length} times on ${branch}: ${commits.map((commit) => commit.slice(0, 7)).join(', ')}`);
    }
    const goal = goals.get(id);
    if (!goal?.landed || !commits.includes(goal.landed.commit)) {
      defects.unrecordedLandings++;
      details.push(
        `goal #${id}'s landing commit ${commits[0]!.slice(0, 7)} is on ${branch}, but the goal records ${goal?.landed ? `landed as ${goal.landed.commit.slice(0, 7)}` : 'no landing'}`,
      );
    }
  }
  for (const goal of goals.values()) {
    if (goal.landed && !landingCommits.has(goal.id)) {
      defects.badLandingRecords++;
      details.push(`goal #${goal.id} records landed as ${goal.landed.commit.slice(0, 7)}, which is not a landing commit on ${branch}`);
    }
  }

  // Logs: whole lines only, indexes in sequence, and every entry a client was sent still there.
  for (const name of await readdir(paths.logs).catch(() => [] as string[])) {
    const match = /^(\d+)\.jsonl$/.exec(name);
    if (!match) continue;
    const goalId = Number(match[1]);
    const text = await readFile(path.join(paths.logs, name), 'utf8');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    else if (text.length > 0) {
      defects.malformedLogLines++;
      details.push(`log ${name} ends without a newline (a torn last line)`);
      lines.pop();
    }
    const readable: { index?: unknown; time?: unknown; kind?: unknown; text?: unknown }[] = [];
    for (const line of lines) {
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
        readable.push(value as (typeof readable)[number]);
      } catch {
        defects.malformedLogLines++;
        details.push(`log ${name} has a line that is not JSON: ${JSON.stringify(line.slice(0, 60))}`);
      }
    }
    readable.forEach((entry, position) => {
      if (entry.index !== position) {
        defects.logIndexGaps++;
        details.push(`log ${name}: line ${position} carries index ${String(entry.index)}`);
      }
    });
    const landedEntries = readable.filter((entry) => entry.kind === 'landed').length;
    if (landedEntries > 1) {
      defects.badLandingRecords++;
      details.push(`goal #${goalId}'s log records ${landedEntries} landings`);
    }
    for (const acked of observed.acked.get(goalId)?.values() ?? []) {
      const entry = readable[acked.index];
      if (!entry || entry.time !== acked.time || entry.kind !== acked.kind || entry.text !== acked.text) {
        defects.acknowledgedLogEntriesLost++;
        details.push(
          `log ${name}: entry ${acked.index} (${acked.kind}: ${acked.text.slice(0, 40)}) was sent to clients but is not in the file`,
        );
      }
    }
  }
  for (const [goalId, entries] of observed.acked) {
    if (entries.size > 0 && !(await stat(path.join(paths.logs, `${goalId}.jsonl`)).catch(() => null))) {
      defects.acknowledgedLogEntriesLost += entries.size;
      details.push(`goal #${goalId}'s log is gone, with ${entries.size} entries clients were sent`);
    }
  }

  // Worktrees: one per goal that has not landed at most; none dangling.
  const worktreesFolder = repoWorktreesFolder(path.join(stateHome, 'ralph', 'worktrees'), await realpath(repo));
  for (const name of await readdir(worktreesFolder).catch(() => [] as string[])) {
    const match = /^goal-(\d+)$/.exec(name);
    const goal = match ? goals.get(Number(match[1])) : undefined;
    if (!goal || goal.landed) {
      defects.worktreesWithoutGoal++;
      details.push(
        `worktree folder ${name} ${!match ? 'is not a goal worktree' : !goal ? 'has no goal' : 'belongs to a goal that has landed'}`,
      );
    }
  }
  for (const goal of goals.values()) {
    if (goal.landed && git(repo, 'branch', '--list', goalBranch(goal.id))) {
      defects.worktreesWithoutGoal++;
      details.push(`branch ${goalBranch(goal.id)} is still there, though goal #${goal.id} has landed`);
    }
  }
  const porcelain = git(repo, 'worktree', 'list', '--porcelain');
  for (const block of porcelain.split('\n\n').slice(1)) {
    const worktreePath = /^worktree (.*)$/m.exec(block)?.[1] ?? '?';
    if (/^prunable/m.test(block) || /^locked/m.test(block) || !(await lstat(worktreePath).catch(() => null))) {
      defects.danglingWorktrees++;
      details.push(`git worktree ${worktreePath} is dangling: ${block.split('\n').slice(1).join('; ')}`);
    }
  }

  // Stray temp and scratch files.
  const gitDir = path.join(repo, '.git');
  const strays = [
    ...(await findFiles(paths.dir, (name) => name.endsWith('.tmp'))),
    ...(await findFiles(gitDir, (name) => name.endsWith('.lock') || name.includes('.ralph-land-') || name.endsWith('.tmp'))),
    ...(await findFiles(worktreesFolder, (name) => name.endsWith('.tmp'))),
  ];
  defects.strayTempFiles = strays.length;
  for (const file of strays) details.push(`stray file ${file}`);

  // The developer's working tree: only `.ralph/` (goal files are untracked here) may differ.
  const dirty = git(repo, 'status', '--porcelain', '--untracked-files=all')
    .split('\n')
    .filter((line) => line && !line.slice(3).startsWith('.ralph/'));
  defects.dirtyWorkingTreeFiles = dirty.length;
  for (const line of dirty) details.push(`working tree: ${line}`);
  return { goals, iterationCommits };
}

async function findFiles(dir: string, wanted: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findFiles(full, wanted)));
    else if (wanted(entry.name)) found.push(full);
  }
  return found;
}

// ---- the table ----

export function formatReport(report: ChaosReport): string {
  const rows: [string, string][] = [
    ['seed', String(report.seed)],
    ['kills', `${report.kills} (${KILL_KINDS.map((kind) => `${kind} ${report.killsBy[kind]}`).join(', ')})`],
    ['restarts', String(report.restarts)],
    ['mean daemon start', `${Math.round(report.meanStartMs)} ms`],
    ['goals created', `${report.goalsCreated} (${report.goalsAcknowledged} of them answered before a kill)`],
    ['goals done', String(report.goalsDone)],
    ['goals landed', String(report.goalsLanded)],
    ['log entries sent to clients', String(report.logEntriesAcknowledged)],
    ['iteration commits', String(report.iterationCommits)],
    ['duration', `${(report.durationMs / 1000).toFixed(1)} s`],
  ];
  const defectRows: [string, string][] = (Object.keys(report.defects) as (keyof Defects)[]).map((key) => [
    `${DEFECT_LABELS[key]}`,
    String(report.defects[key]),
  ]);
  const width = Math.max(...[...rows, ...defectRows].map(([label]) => label.length));
  const line = (label: string, value: string) => `${label.padEnd(width)}  ${value}`;
  const total = totalDefects(report);
  return [
    ...rows.map(([label, value]) => line(label, value)),
    '',
    line('defect', 'count'),
    line('-'.repeat(width), '-----'),
    ...defectRows.map(([label, value]) => line(label, value)),
    line('-'.repeat(width), '-----'),
    line('total', `${total}${total === 0 ? ' (target: all zero)' : ''}`),
  ].join('\n');
}

const DEFECT_LABELS: Record<keyof Defects, string> = {
  goalsLost: 'goals lost',
  unparsableGoalFiles: 'goal files that do not parse',
  iterationsRecordedTwice: 'iterations recorded twice',
  duplicateIterationCommits: 'duplicate iteration commits',
  duplicateLandingCommits: 'duplicate landing commits',
  badLandingRecords: 'landings recorded twice or wrongly',
  unrecordedLandings: 'landing commits not recorded',
  malformedLogLines: 'log lines torn / not JSON',
  logIndexGaps: 'log index gaps',
  acknowledgedLogEntriesLost: 'sent log entries lost',
  worktreesWithoutGoal: 'worktrees/branches without a goal',
  danglingWorktrees: 'dangling git worktrees',
  strayTempFiles: 'stray temp files',
  dirtyWorkingTreeFiles: 'dirty working-tree files',
  leftoverProcesses: 'leftover processes',
  failedRestarts: 'failed restarts',
  unsettledGoals: 'goals not settled at the end',
  failedGoals: 'goals stuck or cancelled',
  uncleanStop: 'unclean final stop',
};

export function totalDefects(report: ChaosReport): number {
  return Object.values(report.defects).reduce((sum, count) => sum + count, 0);
}
