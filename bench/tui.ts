/**
 * The TUI in a real terminal, in tmux at 100×30, timed through a tmux control-mode client
 * (test/e2e/tmux-control.ts) that streams every byte the program writes, with one clock for the
 * key or start sent and the bytes that answer it.
 *
 * 1. Start: `ralph` as `npm link` installs it (a symlink on PATH, the system's `node` first on
 *    PATH, here Node 20) to its first frame showing the daemon's goals, the daemon running, and
 *    Claude Code (`@anthropic-ai/claude-code`, installed on demand by test/helpers/agent-cli.ts) to
 *    its first screen: a fresh HOME each start and no key, so the welcome screen of a first run;
 *    its telemetry, updates and API calls all go to a closed local port. Side by side in one run,
 *    alternating, median of 10 after a warm-up. Target: ralph ≤ 0.6 × Claude Code. The warm
 *    `ralph` attaches to the repository's spare TUI (tui/spare/): the first start leaves one, and
 *    each later start waits (untimed) until a spare listens. Also: ralph without a spare
 *    (RALPH_TUI_SPARE=0: the whole TUI loads in the started process), ralph with no daemon
 *    running (cold: it starts one; no spare either, they go with their daemon), and a bare Ink app (ink + react, two lines of
 *    text, loaded unbundled from node_modules) for scale; Gemini CLI (BENCH_TUI_GEMINI=0 leaves it
 *    out: ~4 s a start) to its first frame, target ralph ≤ 0.2 × Gemini CLI. Then `ralph goal
 *    list`, warm and cold, beside `node -e 0` as the floor.
 * 2. Log flood: a daemon in its own process (this file run with --flood-daemon: the real Daemon,
 *    whose goal log the bench appends to through its GoalLog, so every line is written to
 *    .ralph/logs and pushed to the TUI as a `log.appended` event, as the executor's lines are)
 *    appends 100,000 lines at 5,000 lines/s to the goal whose log the TUI shows. Measured: frames
 *    per second drawn (Ink's synchronized-output frames counted in the stream), keypress-to-frame
 *    latency (k leaves follow mode, k/j scroll a line, G follows again; each timed from the key
 *    sent to the first frame showing its effect; targets p95 ≤ 50 ms), and the TUI process's RSS
 *    after the 100,000 lines (target ≤ 150 MB).
 *
 * Runnable alone: `node --import tsx bench/tui.ts` (or `npm run bench -- tui`). BENCH_TUI_PARTS=start|flood
 * runs one part; BENCH_TUI_FLOOD_LINES / BENCH_TUI_FLOOD_RATE change the flood; BENCH_TUI_NODE_OPTIONS
 * gives the flooded TUI Node options (a heap cap, say); BENCH_TUI_TRACE=1 prints what the TUI knows
 * as the flood goes. Without tmux it prints why it did not run. Killed (Ctrl+C, SIGTERM), it first
 * stops what it started: terminals, daemons, the flood daemon.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { installAgentCli } from '../test/helpers/agent-cli.ts';
import { cliEnv, killDaemon, RALPH_BIN, ralph } from '../test/helpers/cli.ts';
import { makeTempRepo } from '../test/helpers/repo.ts';
import { TmuxControl, tmuxQuote, type PaneOutput } from '../test/e2e/tmux-control.ts';
import { findTmux, ralphCommand, TmuxServer, type Terminal } from '../test/e2e/tmux.ts';
import { isProcessAlive, readDaemonFile } from '../protocol/index.ts';
import { spareSocketPath } from '../tui/bin/spare-socket.js';
import { spareListens } from '../tui/spare/spawn.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { percentile, printTable, type Row } from './table.ts';

const execFileAsync = promisify(execFile);

const WIDTH = 100;
const HEIGHT = 30;
const STARTS = 10;
const START_TIMEOUT_MS = 30_000;
const TARGET_CLAUDE_RATIO = 0.6;
const TARGET_GEMINI_RATIO = 0.2;
/** BENCH_TUI_GEMINI=0: the start part without Gemini CLI. */
const GEMINI = process.env.BENCH_TUI_GEMINI !== '0';

/** Which parts run: `start`, `flood` (both by default). */
const PARTS = (process.env.BENCH_TUI_PARTS ?? 'start,flood').split(',');
const FLOOD_LINES = Number(process.env.BENCH_TUI_FLOOD_LINES ?? 100_000);
const FLOOD_RATE = Number(process.env.BENCH_TUI_FLOOD_RATE ?? 5_000);
/** NODE_OPTIONS for the TUI under the flood only (e.g. a heap cap, to see what it does to RSS and latency). */
const TUI_NODE_OPTIONS = process.env.BENCH_TUI_NODE_OPTIONS;
/** BENCH_TUI_TRACE=1: a line on stderr per key round of the flood (lines the TUI knows of, its RSS and CPU). */
const TRACE = process.env.BENCH_TUI_TRACE === '1';
const TARGET_KEY_P95_MS = 50;
const TARGET_RSS_MB = 150;
const KEY_TIMEOUT_MS = 5_000;
const CATCH_UP_TIMEOUT_MS = 60_000;
/** RSS is read again after this long idle, to tell memory held from memory not yet collected. */
const IDLE_AFTER_MS = 10_000;

/** Epoch milliseconds, fractional, comparable across processes of this machine. */
const now = () => performance.timeOrigin + performance.now();

// ---- stopping what it started, also when killed ----------------------------------------------

/** What a signal must undo before the bench exits: terminals, daemons, the scratch folder. */
const killUndos = new Set<() => Promise<unknown>>();

/** Registers `undo` to run if the bench is killed; returns its removal (once it was undone anyway). */
function onKill(undo: () => Promise<unknown>): () => void {
  killUndos.add(undo);
  return () => killUndos.delete(undo);
}

/** Ctrl+C, SIGTERM or a closed terminal: undo everything registered, the latest first, then exit. */
function stopOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench tui: ${signal}: stopping what it started\n`);
      const undos = [...killUndos].reverse();
      killUndos.clear();
      void (async () => {
        for (const undo of undos) await undo().catch(() => {});
        process.exit(130);
      })();
    });
  }
}

// ---- reading a terminal's output stream ------------------------------------------------------

/** Escape sequences (CSI, OSC, DCS, two-byte ones): what is left is the text a person sees. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_0-9=<>]/g;

function visibleText(raw: string): string {
  return raw.replace(ESCAPES, '');
}

/** Ink writes each frame between these (synchronized output) when it draws to a terminal. */
const FRAME_START = '\x1b[?2026h';

/**
 * The output of a pane from a moment on (`begin`), decoded to visible text, and the time it first
 * holds what a test waits for. Only records between `begin` and the end of the wait.
 */
class OutputWatch {
  private chunks: Buffer[] = [];
  private text = '';
  private recording = false;
  private readonly stop: () => void;
  private waiter: { pattern: RegExp; resolve: (at: number) => void } | null = null;

  constructor(control: TmuxControl) {
    this.stop = control.onOutput((output) => this.take(output));
  }

  /** From now on, output counts (what came before is forgotten). */
  begin(): void {
    this.chunks = [];
    this.text = '';
    this.recording = true;
  }

  /** When the output since `begin` first held `pattern` (epoch ms), or null after `timeoutMs`. Keeps recording. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<number | null> {
    if (pattern.test(this.text)) return now();
    const found = new Promise<number>((resolve) => (this.waiter = { pattern, resolve }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const at = await Promise.race([found, timeout]);
    clearTimeout(timer);
    this.waiter = null;
    return at;
  }

  /** Stops recording; returns the text seen since `begin`. */
  end(): string {
    this.recording = false;
    this.chunks = [];
    return this.text;
  }

  get seen(): string {
    return this.text;
  }

  close(): void {
    this.stop();
  }

  private take({ data, at }: PaneOutput): void {
    if (!this.recording) return;
    this.chunks.push(data);
    // Decoded whole each time: an escape sequence or a character may be cut between chunks.
    this.text = visibleText(Buffer.concat(this.chunks).toString('utf8'));
    if (this.waiter?.pattern.test(this.text)) this.waiter.resolve(performance.timeOrigin + at);
  }
}

/** Counts Ink frames in a pane's output, a marker cut between two chunks included. */
class FrameCounter {
  frames = 0;
  private carry = '';
  take(data: Buffer): void {
    const text = this.carry + data.toString('latin1');
    for (let at = text.indexOf(FRAME_START); at !== -1; at = text.indexOf(FRAME_START, at + FRAME_START.length)) this.frames++;
    this.carry = text.slice(-(FRAME_START.length - 1));
  }
}

async function rssMb(pid: number): Promise<number> {
  return (await processSample(pid)).rssMb;
}

/** A process's resident memory and its CPU share (ps: over its lifetime). */
async function processSample(pid: number): Promise<{ rssMb: number; cpu: number }> {
  const { stdout } = await execFileAsync('ps', ['-o', 'rss=,%cpu=', '-p', String(pid)], { encoding: 'utf8' });
  const [kb, cpu] = stdout.trim().split(/\s+/).map(Number);
  if (!kb || !Number.isFinite(kb)) throw new Error(`no RSS for process ${pid}`);
  return { rssMb: kb / 1024, cpu: cpu ?? NaN };
}

/** The spare TUI processes serving a repository root (their command line names the spare's entry and the root). */
async function sparePids(root: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.some((arg) => /[\\/]spare-[^/]*\.js$/.test(arg)) && args[args.indexOf('--repo') + 1] === root) pids.push(Number(name));
  }
  return pids;
}

/** The resident memory of every process of a terminal session (a pane's program and what it started). */
async function sessionRssMb(sessionLeader: number): Promise<number> {
  const { stdout } = await execFileAsync('ps', ['-o', 'rss=', '-s', String(sessionLeader)], { encoding: 'utf8' });
  return stdout.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) / 1024;
}

/** How many log lines the TUI's log pane says the goal has (it counts what reached it). */
function linesKnown(rows: readonly string[]): number | null {
  const match = /· (?:following · ([\d,]+) lines?|lines [\d,]+–[\d,]+ of ([\d,]+))/.exec(rows.join('\n'));
  const count = match?.[1] ?? match?.[2];
  return count === undefined ? null : Number(count.replaceAll(',', ''));
}

function stats(values: number[]): { median: number; p90: number; p95: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
  };
}

function verdict(met: boolean, target: string): string {
  return met ? `met (${target})` : `MISSED (${target})`;
}

/** A terminal environment: the test environment (no OPENAI_ or RALPH_ settings), but colors on, as a developer has them. */
function terminalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cliEnv(extra);
  delete env.NO_COLOR;
  return env;
}

// ---- part 1: start to first frame ------------------------------------------------------------

interface Program {
  name: string;
  /** The command of one start (a fresh HOME each time, say). */
  command: () => Promise<string[]>;
  env: NodeJS.ProcessEnv;
  /** What the first full frame holds (matched against all the text drawn since the start). */
  fullFrame: RegExp;
  /** Run before each start (stopping the daemon for a cold start, say); not timed. */
  before?: () => Promise<void>;
}

interface StartTimes {
  /** First visible text drawn. */
  firstText: number[];
  /** The full frame drawn; null where it never came. */
  fullFrame: (number | null)[];
  /** The text of the first frame, as a person would read it (borders dropped). */
  firstFrameText: string;
  /** The memory of all its processes once the last start had drawn its frame. */
  rssMb: number;
}

/** One program's terminal: a private tmux server (the program's environment), one pane, its output stream. */
interface StartLane {
  program: Program;
  server: TmuxServer;
  /** Forgets the server's kill on a signal (it was killed). */
  forget: () => void;
  terminal: Terminal;
  control: TmuxControl;
  watch: OutputWatch;
  times: StartTimes;
}

/**
 * Starts each program in its own pane STARTS + 1 times (the first is a warm-up), alternating: one
 * start of each per round, the order reversed every other round, so a busy moment of the machine
 * falls on all of them alike. Each start is timed from the command sent to its frames; the
 * program is stopped before the next one starts.
 */
async function timeStarts(programs: Program[], cwd: string, scratch: string): Promise<Map<string, StartTimes>> {
  const lanes: StartLane[] = [];
  try {
    for (const program of programs) {
      const server = await TmuxServer.create({ dir: await mkdtemp(path.join(scratch, 'tmux-')), env: program.env });
      const forget = onKill(() => server.kill());
      try {
        // The pane waits with a placeholder; each start replaces it (respawn-pane -k), sent through the control client.
        const terminal = await server.newSession({ name: 'start', command: ['cat'], cwd, width: WIDTH, height: HEIGHT });
        const control = TmuxControl.attach(server, 'start');
        const times: StartTimes = { firstText: [], fullFrame: [], firstFrameText: '', rssMb: NaN };
        lanes.push({ program, server, forget, terminal, control, watch: new OutputWatch(control), times });
      } catch (error) {
        await server.kill();
        forget();
        throw error;
      }
    }
    for (let run = 0; run <= STARTS; run++) {
      for (const lane of run % 2 === 0 ? lanes : [...lanes].reverse()) await timeStart(lane, run);
    }
    return new Map(lanes.map((lane) => [lane.program.name, lane.times]));
  } finally {
    for (const lane of lanes) {
      lane.watch.close();
      await lane.control.close();
      await lane.server.kill();
      lane.forget();
    }
  }
}

async function timeStart({ program, terminal, control, watch, server, times }: StartLane, run: number): Promise<void> {
  await program.before?.();
  const command = await program.command();
  watch.begin();
  const started = now();
  control.send(`respawn-pane -k -t start ${command.map(tmuxQuote).join(' ')}`);
  const firstText = await watch.waitFor(/[^\s]/, START_TIMEOUT_MS);
  if (firstText === null) throw new Error(`${program.name} drew nothing within ${START_TIMEOUT_MS / 1000} s`);
  const firstFrameText = watch.seen;
  const fullFrame = await watch.waitFor(program.fullFrame, START_TIMEOUT_MS);
  watch.end();
  const { pid } = await terminal.pane();
  server.track(pid);
  if (run === STARTS) times.rssMb = await sessionRssMb(pid);
  if (run === 0) {
    times.firstFrameText = firstFrameText; // the warm-up: disk caches, first-run files
  } else {
    times.firstText.push(firstText - started);
    times.fullFrame.push(fullFrame === null ? null : fullFrame - started);
  }
  await sleep(300); // it settles, as after a start a person looks at it
  control.send('respawn-pane -k -t start cat'); // and stops before the next program starts
  await sleep(100);
}

/** The text of a frame as a person reads it: no borders, spaces collapsed, cut to `length`. */
function quote(text: string, length = 60): string {
  const plain = text
    .replace(/[\u2500-\u259f\u2800-\u28ff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > length ? `${plain.slice(0, length - 1)}…` : plain;
}

/** A two-line Ink app loaded from node_modules as they are (ralph runs from its bundle, with V8's compile cache). */
function bareInkCommand(): string[] {
  const ink = import.meta.resolve('ink');
  const react = import.meta.resolve('react');
  // One line, double quotes only: it travels as one argument of a tmux command.
  const code = [
    `const { render, Box, Text } = await import(${JSON.stringify(ink)});`,
    `const { createElement: h } = await import(${JSON.stringify(react)});`,
    'render(h(Box, { flexDirection: "column" }, h(Text, null, "bare Ink app"), h(Text, null, "● ready")));',
    'setInterval(() => {}, 60_000);',
  ].join(' ');
  return [process.execPath, '--input-type=module', '-e', code];
}

/**
 * `ralph` as `npm link` installs it: a symlink named ralph in a folder of PATH, pointing at the bin,
 * run by name in an environment whose `node` is the system's (npm run puts Node 24 first on PATH;
 * that is taken out again, so the start a user gets is what is measured).
 */
async function installedRalph(scratch: string): Promise<{ bin: string; path: string }> {
  const dir = await mkdtemp(path.join(scratch, 'bin-'));
  const bin = path.join(dir, 'ralph');
  await symlink(RALPH_BIN, bin);
  const system = (process.env.PATH ?? '').split(path.delimiter).filter((entry) => entry && !entry.includes(`node_modules${path.sep}.bin`));
  return { bin, path: [dir, ...system].join(path.delimiter) };
}

/** Where an agent CLI's traffic goes: port 9 (discard) on 127.0.0.1, where nothing listens. */
const NOWHERE = 'http://127.0.0.1:9';

/** Claude Code's environment: no key and nothing sent anywhere (telemetry, updates and the API all go nowhere). */
function claudeEnv(): NodeJS.ProcessEnv {
  const env = terminalEnv({
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    ANTHROPIC_BASE_URL: NOWHERE,
    HTTPS_PROXY: NOWHERE,
    HTTP_PROXY: NOWHERE,
  });
  for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN']) delete env[name];
  return env;
}

/** Whether the repository's daemon runs now. */
async function daemonRuns(repo: string): Promise<boolean> {
  const file = await readDaemonFile(repo).catch(() => null);
  return file !== null && isProcessAlive(file.pid);
}

async function measureStart(scratch: string): Promise<void> {
  const repo = await makeTempRepo(undefined, { 'package.json': '{"name":"bench-repo"}\n' });
  const forget = onKill(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });
  const ralphEnv = cliEnv({ RALPH_PIPELINE: 'paused' });
  const rows: Row[] = [];
  const commandRows: Row[] = [];
  try {
    // The daemon's goals, the first frame shows them: started the way a developer's first `ralph` would start it.
    const mustRun = async (...args: string[]) => {
      const result = await ralph(args, { cwd: repo, env: ralphEnv });
      if (result.code !== 0) throw new Error(`ralph ${args.join(' ')} failed: ${result.stderr}`);
    };
    const daemonStarted = async () => {
      if (!(await daemonRuns(repo))) await mustRun('daemon', 'start');
    };
    for (const title of ['Support the new models', 'Faster log paging', 'Document the config'])
      await mustRun('goal', 'add', '--title', title);

    const installed = await installedRalph(scratch);
    const ralphTerminal = terminalEnv({ RALPH_PIPELINE: 'paused', PATH: installed.path });
    // The status bar says connected and the pipeline lists the goals: the frame someone starts ralph for.
    const ralphFrame = /(?=[\s\S]*● connected)(?=[\s\S]*Support the new models)/;
    const spareSocket = spareSocketPath(await realpath(repo));
    let warmStarts = 0;
    // Every warm start but the first finds a spare waiting (the TUI before it left one): waited for, untimed.
    const spareWaiting = async () => {
      await daemonStarted();
      if (warmStarts++ === 0) return;
      await waitFor(() => spareListens(spareSocket), { timeoutMs: 20_000, message: 'a spare TUI to listen before a warm start' });
    };
    // The first use of the day: no daemon, so no spare (it goes with its daemon within a couple of seconds).
    const nothingRuns = async () => {
      await killDaemon(repo);
      await waitFor(async () => !(await spareListens(spareSocket)), { timeoutMs: 20_000, message: 'the spare to go with its daemon' });
    };
    const programs: Program[] = [
      { name: 'ralph', command: async () => [installed.bin], env: ralphTerminal, fullFrame: ralphFrame, before: spareWaiting },
      {
        name: 'ralph, no spare',
        command: async () => [installed.bin],
        env: { ...ralphTerminal, RALPH_TUI_SPARE: '0' },
        fullFrame: ralphFrame,
        before: daemonStarted,
      },
      {
        name: 'ralph, cold',
        command: async () => [installed.bin],
        env: ralphTerminal,
        fullFrame: ralphFrame,
        before: nothingRuns,
      },
    ];
    let claude: { name: string; error?: string } = { name: 'Claude Code' };
    try {
      const { bin, version } = await installAgentCli('claude');
      claude = { name: `Claude Code ${version}` };
      programs.push({
        name: claude.name,
        // A fresh HOME each start: its first screen ever, whatever it is (no login: the welcome and theme screen).
        command: async () => ['/usr/bin/env', `HOME=${await mkdtemp(path.join(scratch, 'claude-home-'))}`, bin],
        env: claudeEnv(),
        fullFrame: /Welcome\s*to\s*Claude\s*Code/,
      });
    } catch (error) {
      claude.error = (error as Error).message;
    }
    programs.push({ name: 'bare Ink app', command: async () => bareInkCommand(), env: terminalEnv(), fullFrame: /● ready/ });

    const times = await timeStarts(programs, repo, scratch);
    const median = (name: string) => stats((times.get(name)?.fullFrame ?? []).filter((value): value is number => value !== null)).median;
    const ralphTimes = times.get('ralph')!;
    rows.push(
      startRow(
        'ralph (on PATH)',
        ralphTimes,
        'first frame with the goals, connected (daemon running), through a waiting spare TUI (RSS: the thin client)',
      ),
    );
    await daemonStarted();
    await waitFor(() => spareListens(spareSocket), { timeoutMs: 20_000, message: 'a spare TUI to listen' }).catch(() => {});
    const spares = await sparePids(await realpath(repo));
    rows.push({
      program: 'spare TUI, waiting',
      measured: spares.length === 1 ? 'the process a ralph attaches to: its memory while no one uses it' : `${spares.length} spares found`,
      'RSS, all its processes (MB)': spares.length === 1 ? await rssMb(spares[0]!) : NaN,
    });
    rows.push(
      startRow(
        'ralph, no spare (RALPH_TUI_SPARE=0)',
        times.get('ralph, no spare')!,
        'the same, the whole TUI loaded in the started process',
      ),
    );
    rows.push(startRow('ralph (on PATH), cold', times.get('ralph, cold')!, 'the same, no daemon running (nor a spare): it starts one'));
    const claudeTimes = times.get(claude.name);
    if (claudeTimes) {
      rows.push(startRow(claude.name, claudeTimes, `first screen, fresh HOME: "${quote(claudeTimes.firstFrameText)}"`));
      for (const [name, label, target] of [
        ['ralph', 'ratio ralph / Claude Code', `≤ ${TARGET_CLAUDE_RATIO}`],
        ['ralph, no spare', 'ratio ralph without a spare / Claude Code', ''],
        ['ralph, cold', 'ratio ralph cold / Claude Code', ''],
      ] as const) {
        const ratio = median(name) / median(claude.name);
        rows.push({
          program: label,
          measured: `${ratio.toFixed(2)} (medians of the frames above)`,
          target: target ? verdict(ratio <= TARGET_CLAUDE_RATIO, target) : '',
        });
      }
    } else rows.push({ program: 'Claude Code', measured: `not measured: ${claude.error}` });
    rows.push(startRow('bare Ink app', times.get('bare Ink app')!, 'node + react + ink, unbundled, two lines of text'));

    if (GEMINI) {
      try {
        const { bin, version } = await installAgentCli('gemini');
        const home = await mkdtemp(path.join(scratch, 'gemini-home-'));
        const gemini = (
          await timeStarts(
            [
              {
                name: 'gemini',
                command: async () => [process.execPath, bin],
                // No key and a fresh HOME: what it draws first is its first frame, whatever that is.
                env: terminalEnv({ HOME: home, HTTPS_PROXY: NOWHERE, HTTP_PROXY: NOWHERE }),
                fullFrame: /Gemini CLI v\d/,
              },
            ],
            repo,
            scratch,
          )
        ).get('gemini')!;
        rows.push(startRow(`Gemini CLI ${version}`, gemini, `first frame: "${quote(gemini.firstFrameText)}"`, 'first'));
        const ratio = median('ralph') / stats(gemini.firstText).median;
        rows.push({
          program: 'ratio ralph / Gemini CLI',
          measured: `${ratio.toFixed(2)} (medians: ralph's frame / Gemini CLI's first frame)`,
          target: verdict(ratio <= TARGET_GEMINI_RATIO, `≤ ${TARGET_GEMINI_RATIO}`),
        });
      } catch (error) {
        rows.push({ program: 'Gemini CLI', measured: `not measured: ${(error as Error).message}` });
      }
    }

    commandRows.push(...(await timeCommands(repo, installed, ralphEnv, daemonStarted)));
  } finally {
    await killDaemon(repo);
    forget();
    await rm(repo, { recursive: true, force: true });
  }
  printTable(
    `TUI start: from the command to its first frame, tmux ${WIDTH}×${HEIGHT}, median of ${STARTS} starts after a warm-up, alternating`,
    rows,
  );
  printTable(`ralph goal list: from the command to its exit, median of ${STARTS} after a warm-up, alternating`, commandRows);
}

/** `ralph goal list` warm and cold, beside `node -e 0` (the Node ralph runs on, and the system's): the floor. */
async function timeCommands(
  repo: string,
  installed: { bin: string; path: string },
  ralphEnv: NodeJS.ProcessEnv,
  daemonStarted: () => Promise<void>,
): Promise<Row[]> {
  const env = { ...ralphEnv, PATH: installed.path };
  const packagedNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  const commands: { name: string; command: string[]; measured: string; before?: () => Promise<void> }[] = [
    { name: 'node -e 0 (Node 24, the one ralph runs on)', command: [packagedNode, '-e', '0'], measured: 'the floor' },
    { name: 'node -e 0 (the system node on PATH)', command: ['node', '-e', '0'], measured: 'what the old bin started first' },
    { name: 'ralph goal list', command: [installed.bin, 'goal', 'list'], measured: 'daemon running', before: daemonStarted },
    {
      name: 'ralph goal list, cold',
      command: [installed.bin, 'goal', 'list'],
      measured: 'no daemon running: it starts one',
      before: () => killDaemon(repo),
    },
  ];
  const times = new Map<string, number[]>(commands.map(({ name }) => [name, []]));
  for (let run = 0; run <= STARTS; run++) {
    for (const { name, command, before } of run % 2 === 0 ? commands : [...commands].reverse()) {
      await before?.();
      const started = now();
      const [file, ...args] = command as [string, ...string[]];
      await execFileAsync(file, args, { cwd: repo, env, encoding: 'utf8' });
      if (run > 0) times.get(name)?.push(now() - started);
    }
  }
  const floor = stats(times.get(commands[0]!.name)!).median;
  return commands.map(({ name, measured }) => {
    const { median, p90, min } = stats(times.get(name)!);
    return { command: name, measured, 'median (ms)': median, 'p90 (ms)': p90, 'min (ms)': min, 'over the floor (ms)': median - floor };
  });
}

function startRow(program: string, times: StartTimes, measured: string, which: 'first' | 'full' = 'full'): Row {
  const values = which === 'first' ? times.firstText : times.fullFrame.filter((value): value is number => value !== null);
  const missing = times.fullFrame.length - values.length;
  const { median, p90, min } = stats(values);
  return {
    program,
    measured: missing > 0 ? `${measured} (never came in ${missing} starts)` : measured,
    'median (ms)': median,
    'p90 (ms)': p90,
    'min (ms)': min,
    'RSS, all its processes (MB)': times.rssMb,
  };
}

// ---- part 2: the log flood --------------------------------------------------------------------

/** Messages between the bench and its flood daemon. */
type ToDaemon = { kind: 'flood'; lines: number; rate: number } | { kind: 'stop' };
type FromDaemon =
  | { kind: 'ready'; goalId: number }
  | { kind: 'flooded'; lines: number; startedAt: number; endedAt: number }
  | { kind: 'failed'; message: string };

/**
 * The flood daemon (this file run with `--flood-daemon REPO WORKTREES`): the real Daemon serving
 * REPO, and on request lines appended to one goal's log through the daemon's own GoalLog, paced to
 * the rate asked for (each line written to the file, then pushed to every client).
 */
async function floodDaemon(repoRoot: string, worktreesRoot: string): Promise<void> {
  const { Daemon } = await import('../daemon/daemon.ts');
  const send = (message: FromDaemon) => process.send?.(message);
  const daemon = await Daemon.start({
    repoRoot,
    repoWatch: false,
    configWatch: false,
    pipeline: { paused: true },
    worktreesRoot,
    env: {},
    log: () => {},
  });
  const goal = await daemon.store.create({ title: 'Log flood' });
  process.on('message', (message: ToDaemon) => {
    if (message.kind === 'stop') void daemon.stop('bench over').then(() => process.exit(0));
    else flood(message.lines, message.rate).catch((error: unknown) => send({ kind: 'failed', message: String(error) }));
  });
  send({ kind: 'ready', goalId: goal.id });

  async function flood(lines: number, rate: number): Promise<void> {
    const startedAt = now();
    let appended = 0;
    while (appended < lines) {
      const due = Math.min(lines, Math.floor(((now() - startedAt) / 1000) * rate));
      if (appended >= due) {
        await sleep(2);
        continue;
      }
      const batch: Promise<unknown>[] = [];
      for (; appended < due; appended++) {
        const text = `flood line ${String(appended + 1).padStart(6, '0')}: the quick brown fox jumps over the lazy dog`;
        batch.push(daemon.store.log.append(goal.id, { kind: 'output', text }));
      }
      await Promise.all(batch);
    }
    send({ kind: 'flooded', lines, startedAt, endedAt: now() });
  }
}

interface FloodDaemon {
  goalId: number;
  send(message: ToDaemon): void;
  /** The next message of this kind (a failure report throws). */
  next<K extends FromDaemon['kind']>(kind: K): Promise<Extract<FromDaemon, { kind: K }>>;
  /** Stops the daemon cleanly (SIGKILL if it takes longer than 10 s). */
  stop(): Promise<void>;
}

async function startFloodDaemon(repo: string, worktreesRoot: string): Promise<FloodDaemon> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--flood-daemon', repo, worktreesRoot], {
    execArgv: ['--import', 'tsx'],
    env: cliEnv(),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const inbox: FromDaemon[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (message: FromDaemon) => {
    inbox.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  const next = async <K extends FromDaemon['kind']>(kind: K): Promise<Extract<FromDaemon, { kind: K }>> => {
    for (;;) {
      const index = inbox.findIndex((message) => message.kind === kind || message.kind === 'failed');
      if (index >= 0) {
        const message = inbox.splice(index, 1)[0]!;
        if (message.kind === 'failed') throw new Error(`the flood daemon failed: ${message.message}`);
        return message as Extract<FromDaemon, { kind: K }>;
      }
      if (exitCode !== undefined) throw new Error(`the flood daemon exited (${exitCode})`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const stop = async () => {
    if (exitCode !== undefined) return;
    if (child.connected) child.send({ kind: 'stop' } satisfies ToDaemon);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const { goalId } = await next('ready');
    return { goalId, send: (message) => child.send(message), next, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface KeySample {
  key: string;
  ms: number | null;
}

/** One round of keys in the log pane, each timed to the first frame showing its effect. */
async function keyRound(control: TmuxControl, watch: OutputWatch, samples: KeySample[]): Promise<void> {
  const press = async (key: string, label: string, effect: RegExp): Promise<string> => {
    watch.begin();
    const sent = now();
    control.send(`send-keys -t flood ${key}`);
    const at = await watch.waitFor(effect, KEY_TIMEOUT_MS);
    samples.push({ key: label, ms: at === null ? null : at - sent });
    return watch.end();
  };
  // k while following: the view holds at one line up ("lines A–B of N" instead of "following").
  const held = await press('k', 'k: leave follow mode', /· lines [\d,]+–[\d,]+ of /);
  const top = /· lines ([\d,]+)–/.exec(held)?.[1];
  if (top) {
    const first = Number(top.replaceAll(',', ''));
    const at = (line: number) => new RegExp(`· lines ${line.toLocaleString('en-US')}–`);
    await sleep(100 + Math.random() * 100);
    await press('k', 'k/j: scroll one line', at(first - 1));
    await sleep(100 + Math.random() * 100);
    await press('j', 'k/j: scroll one line', at(first));
  }
  await sleep(100 + Math.random() * 100);
  // G: following again (from the lines the TUI kept while scrolled back, else it reads the log's tail).
  await press('G', 'G: follow again', /· following · /);
  await sleep(100 + Math.random() * 100);
}

interface FloodResult {
  lines: number;
  seconds: number;
  /** Frames and bytes the TUI wrote while the lines were appended. */
  frames: number;
  bytes: number;
  samples: KeySample[];
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  rssIdle: number;
  /** From the last line appended to the TUI showing every line; null when it did not within the timeout. */
  caughtUpMs: number | null;
}

async function measureFlood(scratch: string): Promise<void> {
  // Undone last first, whatever happens: the terminal, then the daemon, then the repository.
  const cleanup: (() => Promise<unknown>)[] = [];
  const undoAll = async () => {
    for (const undo of cleanup.splice(0).reverse())
      await undo().catch((error: unknown) => process.stderr.write(`bench tui: cleanup: ${String(error)}\n`));
  };
  const forget = onKill(undoAll);
  try {
    const repo = await makeTempRepo(undefined);
    cleanup.push(() => rm(repo, { recursive: true, force: true }));
    const daemon = await startFloodDaemon(repo, path.join(scratch, 'worktrees'));
    cleanup.push(() => daemon.stop());
    const env = terminalEnv(TUI_NODE_OPTIONS ? { NODE_OPTIONS: TUI_NODE_OPTIONS } : {});
    const server = await TmuxServer.create({ dir: await mkdtemp(path.join(scratch, 'tmux-')), env });
    cleanup.push(() => server.kill());
    const terminal = await server.newSession({ name: 'flood', command: ralphCommand(), cwd: repo, width: WIDTH, height: HEIGHT });
    await terminal.waitForText('● connected', { timeoutMs: 20_000 });
    await terminal.press('o'); // the selected goal's log
    await terminal.waitForText(/· following · [\d,]+ lines?/);
    const control = TmuxControl.attach(server, 'flood');
    cleanup.push(() => control.close());
    printFlood(await flood(daemon, terminal, control));
  } finally {
    await undoAll();
    forget();
  }
}

/** Floods the log the TUI shows while pressing keys in it; then waits for it to show every line. */
async function flood(daemon: FloodDaemon, terminal: Terminal, control: TmuxControl): Promise<FloodResult> {
  const tuiPid = (await terminal.pane()).pid;
  const rssBefore = await rssMb(tuiPid);
  const watch = new OutputWatch(control);
  const frames = new FrameCounter();
  /** Each chunk the TUI wrote: when, how many bytes, how many frames began in it. */
  const chunks: { at: number; bytes: number; frames: number }[] = [];
  const stopCounting = control.onOutput(({ data, at }) => {
    const before = frames.frames;
    frames.take(data);
    chunks.push({ at: performance.timeOrigin + at, bytes: data.length, frames: frames.frames - before });
  });

  daemon.send({ kind: 'flood', lines: FLOOD_LINES, rate: FLOOD_RATE });
  const flooded = daemon.next('flooded');
  let floodDone = false;
  flooded.then(
    () => (floodDone = true),
    () => (floodDone = true),
  );

  // While the lines pour in: keys pressed in rounds, RSS sampled.
  const samples: KeySample[] = [];
  let rssPeak = rssBefore;
  await sleep(1500); // the flood under way
  while (!floodDone) {
    await keyRound(control, watch, samples);
    const sample = await processSample(tuiPid);
    rssPeak = Math.max(rssPeak, sample.rssMb);
    if (TRACE)
      process.stderr.write(
        `bench tui: TUI knows ${linesKnown(await terminal.screen())} lines, RSS ${sample.rssMb.toFixed(0)} MB, CPU ${sample.cpu}%\n`,
      );
  }
  const { startedAt, endedAt, lines } = await flooded;

  // Every line seen: the log pane follows the end and counts them all (the goal's own "created" line too).
  let caughtUpMs: number | null = null;
  try {
    const allShown = (rows: string[]) => rows.some((row) => row.includes('· following · ')) && (linesKnown(rows) ?? 0) >= lines;
    await terminal.waitForScreen(allShown, 'every line shown', { timeoutMs: CATCH_UP_TIMEOUT_MS });
    caughtUpMs = Math.max(0, now() - endedAt);
  } catch {
    // reported as missed
  }
  const rssAfter = await rssMb(tuiPid);
  await sleep(IDLE_AFTER_MS);
  const rssIdle = await rssMb(tuiPid);
  watch.close();
  stopCounting();
  // Quit as a developer would (a clean exit: a --cpu-prof in BENCH_TUI_NODE_OPTIONS gets written).
  await terminal.press('q');
  await terminal.waitForExit(10_000).catch(() => {});
  const during = chunks.filter((chunk) => chunk.at >= startedAt && chunk.at <= endedAt);
  return {
    lines,
    seconds: (endedAt - startedAt) / 1000,
    frames: during.reduce((sum, chunk) => sum + chunk.frames, 0),
    bytes: during.reduce((sum, chunk) => sum + chunk.bytes, 0),
    samples,
    rssBefore,
    rssAfter,
    rssPeak: Math.max(rssPeak, rssAfter),
    rssIdle,
    caughtUpMs,
  };
}

function printFlood(result: FloodResult): void {
  const total = result.lines.toLocaleString('en-US');
  const rows: Row[] = [
    { measure: 'lines appended (daemon GoalLog → log.appended → TUI)', value: result.lines, unit: 'lines', target: '' },
    {
      measure: 'append rate reached',
      value: result.lines / result.seconds,
      unit: 'lines/s',
      target: `${FLOOD_RATE.toLocaleString('en-US')} asked`,
    },
    {
      measure: 'frames drawn during the flood',
      value: result.frames / result.seconds,
      unit: 'frames/s',
      target: 'events batched to ≤ 30/s while they stream',
    },
    { measure: 'written to the terminal during the flood', value: result.bytes / 1024 / result.seconds, unit: 'KiB/s', target: '' },
  ];
  const byKey = new Map<string, number[]>();
  for (const sample of result.samples) if (sample.ms !== null) byKey.set(sample.key, [...(byKey.get(sample.key) ?? []), sample.ms]);
  byKey.set('all keys', [...byKey.values()].flat());
  for (const [key, values] of byKey) {
    const { median, p95 } = stats(values);
    rows.push({
      measure: `key → frame, ${key}: p50 / p95 (n=${values.length})`,
      value: `${median.toFixed(1)} / ${p95.toFixed(1)}`,
      unit: 'ms',
      target: verdict(p95 <= TARGET_KEY_P95_MS, `p95 ≤ ${TARGET_KEY_P95_MS}`),
    });
  }
  const missed = result.samples.filter((sample) => sample.ms === null).length;
  if (missed > 0)
    rows.push({
      measure: `keys whose effect never showed within ${KEY_TIMEOUT_MS / 1000} s`,
      value: missed,
      unit: 'keys',
      target: 'MISSED',
    });
  rows.push(
    { measure: 'TUI RSS before the flood', value: result.rssBefore, unit: 'MB', target: '' },
    {
      measure: `TUI RSS after ${total} lines`,
      value: result.rssAfter,
      unit: 'MB',
      target: verdict(result.rssAfter <= TARGET_RSS_MB, `≤ ${TARGET_RSS_MB}`),
    },
    { measure: 'TUI RSS, peak sampled during the flood', value: result.rssPeak, unit: 'MB', target: '' },
    { measure: `TUI RSS ${IDLE_AFTER_MS / 1000} s later, idle`, value: result.rssIdle, unit: 'MB', target: '' },
    result.caughtUpMs === null
      ? {
          measure: `the TUI did not show all ${total} lines within ${CATCH_UP_TIMEOUT_MS / 1000} s of the last`,
          value: '',
          unit: '',
          target: 'MISSED',
        }
      : { measure: 'the TUI showed every line, after the last was appended', value: result.caughtUpMs, unit: 'ms', target: '' },
  );
  printTable(
    `TUI under a log flood: ${total} lines at ${FLOOD_RATE.toLocaleString('en-US')} lines/s into the goal the TUI shows, tmux ${WIDTH}×${HEIGHT}`,
    rows,
  );
}

export async function run(): Promise<void> {
  if (!findTmux()) {
    printTable('TUI benchmarks', [{ benchmark: 'tui', result: 'not run: tmux is not installed (apt-get install tmux)' }]);
    return;
  }
  stopOnSignals();
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-tui-')));
  const forget = onKill(() => rm(scratch, { recursive: true, force: true }));
  try {
    if (PARTS.includes('start')) await measureStart(scratch);
    if (PARTS.includes('flood')) await measureFlood(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
    forget();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, repo, worktrees] = process.argv.slice(2);
  if (mode === '--flood-daemon' && repo && worktrees) await floodDaemon(repo, worktrees);
  else await run();
}
