/**
 * `run_command {command}`: the goal executor's shell. Each command runs as `bash -c` in the
 * workspace, under the command policy, in its own process group, with a timeout and an output
 * cap, stdin closed, and no provider secrets in its environment; inside the bubblewrap sandbox
 * where it works (sandbox.ts: config `executor.commands.sandbox`).
 *
 * One CommandRunner per iteration: it remembers every process group it started, so `killAll()`
 * at the end of the iteration leaves nothing of the agent's running, not even a `sleep 300 &`
 * whose shell exited long ago. In the sandbox everything a command started ends with it (its own
 * PID namespace). Without it, a process that left the group (`setsid`) is still found by a marker
 * in its environment; only one that also clears its environment escapes.
 *
 * A daemon killed with -9 kills no command: in the sandbox they die with it (bwrap's
 * --die-with-parent); without it, the runner tells its marker and process groups to this process's
 * guard (process-guard.ts), which kills them the moment the daemon is gone, and records them
 * (process-records.ts, option `record`): the next daemon kills at start what is left.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { formatBytes } from '../../protocol/index.ts';
import { commandEnvironment, type EnvironmentRules } from '../secrets/environment.ts';
import { CommandPolicy, describeRefusal, type PolicyDecision } from './command-policy.ts';
import { isGroupAlive, killGroup, killMarkedProcesses } from './process-group.ts';
import { guardForgetGroup, guardForgetMarker, guardGroup, guardMarker } from './process-guard.ts';
import { ProcessRecord, processStartTime } from './process-records.ts';
import { SANDBOX_OFF_REASON, resolveSandbox, type CommandSandbox, type SandboxMode, type SandboxState } from './sandbox.ts';
import { HeadTailBuffer } from './text-limits.ts';
import { clip, defineTool, errorResult, type ToolResult } from './tool.ts';

/** The environment scrub lives with the other secret rules (daemon/secrets/); re-exported for the tools' one import. */
export { commandEnvironment };

export const COMMAND_DEFAULTS = {
  timeoutMs: 120_000,
  outputLimitBytes: 64 * 1024,
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: 500,
  /**
   * After the shell exits, how long to wait for the output pipe to close. Something it put in
   * the background may hold the pipe open for as long as it runs; the command is over anyway.
   */
  pipeDrainMs: 200,
};

export interface CommandRunnerOptions {
  /** Default: the default policy (DEFAULT_DENY_RULES, no allow list). */
  policy?: CommandPolicy;
  timeoutMs?: number;
  outputLimitBytes?: number;
  killGraceMs?: number;
  /** The environment commands start from (default: this process's), before secrets are removed. */
  env?: NodeJS.ProcessEnv;
  /** Secret values (the provider's API key): any variable holding one is removed, whatever its name. */
  secrets?: readonly string[];
  /** The config's `secrets.passEnv` / `hideEnv`: which secret-looking variables commands still get, and which others they do not. */
  envRules?: EnvironmentRules;
  /** `auto` (default): in the bubblewrap sandbox where it works; `bwrap`: only there; `off`: never. */
  sandbox?: SandboxMode;
  /** Where (and as what, for the log) commands run outside the sandbox are recorded for the next daemon to kill if this one is killed. */
  record?: CommandRecordOptions;
}

/** The runner's record (process-records.ts): one file while any of its commands may run. */
export interface CommandRecordOptions {
  /** The records folder: recordsFolder(ralphDir, 'commands'). */
  folder: string;
  /** Whose commands ("goal #3"). */
  owner?: string;
  /** What they are ("its check"). */
  what: string;
}

/** Set in every command's environment to this runner's id: how killAll finds what left the process group. */
export const COMMAND_MARKER_VARIABLE = 'RALPH_COMMAND_RUN';

export interface RunOptions {
  /** The folder the command runs in: the workspace. */
  cwd: string;
  signal?: AbortSignal;
  /**
   * The command starts once this resolves: its sandbox and shell start at once and wait for it (a
   * goal's check is ready the moment the iteration's commit is made). Rejected: the command does
   * not run and comes back `cancelled`. Its timeout and duration count from the start.
   */
  startWhen?: Promise<unknown>;
}

export type CommandOutcome =
  /** The shell exited by itself (whatever its exit code, or a signal it got from elsewhere). */
  | 'exited'
  | 'timed-out'
  /** Aborted through the signal, or by killAll(). */
  | 'cancelled'
  /** Not run: the policy refused it. */
  | 'refused';

export interface CommandResult {
  command: string;
  outcome: CommandOutcome;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** stdout and stderr together, in the order written, capped (head and tail kept). */
  output: string;
  outputBytes: number;
  omittedBytes: number;
  decision: PolicyDecision;
}

export class CommandRunner {
  readonly policy: CommandPolicy;
  readonly timeoutMs: number;
  readonly outputLimitBytes: number;
  private readonly killGraceMs: number;
  private readonly env: NodeJS.ProcessEnv;
  /** Every process group started and not yet seen empty. */
  private readonly groups = new Set<number>();
  /** Cancels each command still running (used by killAll). */
  private readonly cancels = new Set<() => void>();
  private readonly sandboxMode: SandboxMode;
  private sandboxReady: Promise<{ state: SandboxState; sandbox: CommandSandbox | null }> | null = null;
  /** Once known: then a command starts at once (no await between the policy's answer and the spawn). */
  private sandboxKnown: { state: SandboxState; sandbox: CommandSandbox | null } | null = null;
  private readonly marker = randomUUID();
  /** How many times killAll ran: a command that was on its way to the spawn meanwhile is cancelled. */
  private kills = 0;
  /** Whether it ever started a command: one that did not has nothing to kill. */
  private started = false;
  private readonly recordOptions: CommandRecordOptions | null;
  /** The record while any command may run (outside the sandbox only: there, commands die with the daemon). */
  private record: Promise<ProcessRecord | null> | null = null;
  private recordKnown: ProcessRecord | null = null;

  constructor(options: CommandRunnerOptions = {}) {
    this.policy = options.policy ?? new CommandPolicy();
    this.timeoutMs = options.timeoutMs ?? COMMAND_DEFAULTS.timeoutMs;
    this.outputLimitBytes = options.outputLimitBytes ?? COMMAND_DEFAULTS.outputLimitBytes;
    this.killGraceMs = options.killGraceMs ?? COMMAND_DEFAULTS.killGraceMs;
    this.env = commandEnvironment(options.env ?? process.env, options.secrets, options.envRules);
    this.env[COMMAND_MARKER_VARIABLE] = this.marker;
    this.sandboxMode = options.sandbox ?? 'auto';
    this.recordOptions = options.record ?? null;
    if (this.sandboxMode === 'off') this.sandboxKnown = { state: { active: false, reason: SANDBOX_OFF_REASON }, sandbox: null };
  }

  /** Whether this runner's commands run sandboxed (probed once per process); throws when `bwrap` is required and cannot run. */
  async sandboxState(): Promise<SandboxState> {
    return (await this.sandbox()).state;
  }

  private async sandbox(): Promise<{ state: SandboxState; sandbox: CommandSandbox | null }> {
    if (this.sandboxKnown) return this.sandboxKnown;
    this.sandboxReady ??= resolveSandbox(this.sandboxMode);
    this.sandboxKnown = await this.sandboxReady;
    return this.sandboxKnown;
  }

  /** Process groups started by this runner that may still have processes in them. */
  get trackedGroups(): number[] {
    return [...this.groups];
  }

  /** Runs one command line to its end (or its timeout, or cancellation). Throws only when bash cannot be started. */
  async run(command: string, { cwd, signal, startWhen }: RunOptions): Promise<CommandResult> {
    const decision = this.policy.check(command);
    const base = { command, exitCode: null, signal: null, durationMs: 0, output: '', outputBytes: 0, omittedBytes: 0, decision };
    if (!decision.allowed) return { ...base, outcome: 'refused' };
    if (signal?.aborted) return { ...base, outcome: 'cancelled' };
    const kills = this.kills;

    const { sandbox } = this.sandboxKnown ?? (await this.sandbox());
    // Recorded before the spawn (once per runner): a daemon killed right after it leaves the marker to find the command by.
    // Without the option, nothing is awaited: the command starts in the same tick as the call.
    const recording = !sandbox && this.recordOptions !== null;
    const record = recording ? (this.recordKnown ?? (await this.openRecord())) : null;
    // Stopped while the sandbox or the record was awaited (the signal, or killAll): an aborted signal
    // fires no 'abort' later, so a command spawned now would run unstopped (a remote goal's budget
    // stop hung on it).
    if (signal?.aborted || this.kills !== kills) return { ...base, outcome: 'cancelled' };
    let started = performance.now();
    // `exec 2>&1` first, on the same line (bash's line numbers stay right): one pipe for both
    // streams, so the model reads errors where they happened among the output. Told to wait, the
    // shell first reads the go-ahead line from its input, which is then closed (as it is otherwise).
    // --norc: Debian's bash reads ~/.bashrc when stdin is a socket (as if started by sshd), which a
    // command told to wait has (Node's pipe): a person's .bashrc is not the command's business.
    const argv = [
      'bash',
      '--norc',
      '--noprofile',
      '-c',
      startWhen ? `read -r _ || exit 125; exec 2>&1 </dev/null; ${command}` : `exec 2>&1; ${command}`,
    ];
    const plan = sandbox ? sandbox.wrap(argv, cwd) : { file: 'bash', args: argv.slice(1), env: {} };
    this.started = true;
    const child = spawn(plan.file, plan.args, {
      cwd,
      env: { ...this.env, ...plan.env },
      stdio: [startWhen ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // Listened for at once: it may fail to start, or be stopped, while it waits.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => reject(startError(error, cwd, plan.file)));
      child.once('exit', (exitCode, bySignal) => resolve({ code: exitCode, signal: bySignal }));
    });
    exited.catch(() => {}); // awaited below
    const output = new HeadTailBuffer(this.outputLimitBytes);
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk));

    const pgid = child.pid;
    if (pgid !== undefined) {
      this.groups.add(pgid);
      if (recording) recordGroup(record, pgid);
    }
    let stoppedBy: 'timed-out' | 'cancelled' | null = null;
    let killing: Promise<boolean> | null = null;
    const stop = (reason: 'timed-out' | 'cancelled'): void => {
      if (stoppedBy || pgid === undefined) return;
      stoppedBy = reason;
      killing = killGroup(pgid, { graceMs: this.killGraceMs });
    };
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => stop('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    const cancel = (): void => stop('cancelled');
    this.cancels.add(cancel);

    try {
      if (startWhen) {
        child.stdin!.on('error', () => {}); // a shell that is gone already
        const go = await startWhen.then(
          () => true,
          () => false,
        );
        if (!go) stop('cancelled');
        if (stoppedBy) child.stdin!.destroy();
        else child.stdin!.end('\n');
        started = performance.now();
      }
      timer = setTimeout(() => stop('timed-out'), this.timeoutMs);
      const { code, signal: exitSignal } = await exited;
      // The shell is done; what it left in the background is killAll's business, not the timeout's.
      clearTimeout(timer);
      await this.drainOutput(child.stdout!, child.stderr!);
      if (killing) await killing;
      if (pgid !== undefined && !isGroupAlive(pgid)) this.forget(pgid);
      const kept = output.finish();
      return {
        ...base,
        outcome: stoppedBy ?? 'exited',
        exitCode: code,
        signal: exitSignal,
        durationMs: performance.now() - started,
        output: kept.text,
        outputBytes: output.totalBytes,
        omittedBytes: kept.omittedBytes,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.cancels.delete(cancel);
    }
  }

  /** Waits for the pipes to close, briefly: a background process may keep them open indefinitely. */
  private async drainOutput(...streams: Readable[]): Promise<void> {
    // A stream error ends the stream just as well; it is not the command's failure.
    const closed = streams.map((stream) => (stream.closed ? Promise.resolve() : once(stream, 'close').catch(() => {})));
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(closed).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), COMMAND_DEFAULTS.pipeDrainMs))),
    ]);
    clearTimeout(timer);
    // Stop listening: what background processes print from now on is not this command's output.
    if (!drained) for (const stream of streams) stream.destroy();
  }

  /**
   * Kills every process group this runner started (running commands end as cancelled) and
   * resolves when they are gone. Call it when the iteration ends.
   */
  async killAll(): Promise<void> {
    this.kills += 1; // a command still on its way to the spawn does not start
    for (const cancel of [...this.cancels]) cancel();
    // No command started, nothing to look for: spares a read of every process's environment (an external agent's iteration runs none).
    if (!this.started) return;
    const groups = [...this.groups];
    await Promise.all(
      groups.map(async (pgid) => {
        if (await killGroup(pgid, { graceMs: this.killGraceMs })) this.forget(pgid);
      }),
    );
    // In the sandbox nothing outlives its command (its own PID namespace). Without it, what left
    // its group (`setsid`) still carries the runner's marker in its environment.
    if (this.sandboxKnown?.sandbox) return;
    await killMarkedProcesses(COMMAND_MARKER_VARIABLE, this.marker, { graceMs: this.killGraceMs });
    // Nothing of its commands runs now (but a group stuck in the kernel): the record goes.
    if (this.groups.size === 0) await this.closeRecord();
  }

  /** The group is gone (its line in the record stays: its leader's start time matches nothing any more). */
  private forget(pgid: number): void {
    this.groups.delete(pgid);
    if (this.recordKnown) guardForgetGroup(pgid);
  }

  /** The runner's record, written once; null without the option, or when it cannot be written (commands run all the same). */
  private openRecord(): Promise<ProcessRecord | null> {
    const options = this.recordOptions;
    if (!options) return Promise.resolve(null);
    guardMarker(COMMAND_MARKER_VARIABLE, this.marker);
    this.record ??= ProcessRecord.create(options.folder, `commands-${this.marker}`, {
      ...(options.owner ? { owner: options.owner } : {}),
      what: options.what,
      markerVariable: COMMAND_MARKER_VARIABLE,
      marker: this.marker,
    }).then(
      (record) => (this.recordKnown = record),
      () => null,
    );
    return this.record;
  }

  private async closeRecord(): Promise<void> {
    const record = await this.record;
    this.record = null;
    this.recordKnown = null;
    record?.remove();
    guardForgetMarker(COMMAND_MARKER_VARIABLE, this.marker);
  }
}

/** Records a group just started, and tells the guard; a record that cannot be written does not stop the command (it is a safety net). */
function recordGroup(record: ProcessRecord | null, pgid: number): void {
  let startTime: string | null;
  try {
    startTime = record ? record.addGroup(pgid).startTime : processStartTime(pgid);
  } catch {
    startTime = processStartTime(pgid); // the folder was removed meanwhile, the disk is full …
  }
  guardGroup(pgid, startTime);
}

/** Node reports a missing working folder as "spawn bash ENOENT", which points at the wrong thing. */
function startError(error: NodeJS.ErrnoException, cwd: string, program: string): Error {
  if (error.code === 'ENOENT' && !existsSync(cwd)) return new Error(`the workspace folder does not exist: ${cwd}`, { cause: error });
  return new Error(`${program} could not be started: ${error.message}`, { cause: error });
}

/** The command's result as the model reads it, and the one line for the log. */
export function commandToolResult(result: CommandResult, timeoutMs: number): ToolResult {
  const shortCommand = clip(result.command.split('\n')[0]!, 80);
  if (result.outcome === 'refused' && !result.decision.allowed) {
    const why = describeRefusal(result.decision);
    // A refusal with its own reason (a computed word, a shell fed from a pipe) says what to do instead.
    const advice = result.decision.reason
      ? ''
      : '\nThe harness manages git (branches and commits) itself; do the work without this command.';
    return errorResult(`${why}${advice}`, `refused ${shortCommand} (${result.decision.rule})`);
  }
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  let status: string;
  switch (result.outcome) {
    case 'timed-out':
      status = `timed out after ${Math.round(timeoutMs / 1000)} s: the command and everything it started were killed`;
      break;
    case 'cancelled':
      status = 'cancelled: the command and everything it started were killed';
      break;
    default:
      status = result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
  }
  const cut = result.omittedBytes > 0 ? `, ${formatBytes(result.omittedBytes)} of output cut` : '';
  const body = result.output === '' ? '(no output)' : result.output.replace(/\n$/, '');
  return {
    output: `${body}\n[${status} · ${seconds}${cut}]`,
    summary: `ran ${shortCommand}: ${result.outcome === 'exited' ? status : result.outcome} (${seconds})`,
    isError: result.outcome !== 'exited',
  };
}

/** The `run_command` tool over a runner (one runner per iteration). */
export function runCommandTool(runner: CommandRunner) {
  return defineTool({
    name: 'run_command',
    description:
      'Run a shell command (bash) in the workspace and get its exit code and output (stdout and stderr together). ' +
      `It is killed after ${Math.round(runner.timeoutMs / 1000)} s; output over ${formatBytes(runner.outputLimitBytes)} is cut in the middle. ` +
      'No input can be given (stdin is closed). Git commits, pushes and branch changes are refused: the harness does them. ' +
      'What a command starts in the background ends with the command (in the sandbox) or with this step at the latest: ' +
      'start a server and the test that uses it in one command.',
    parameters: z.object({
      command: z.string().min(1).describe('The command line, as you would type it in bash'),
    }),
    async execute({ command }, ctx): Promise<ToolResult> {
      ctx.onActivity?.(`running ${clip(command.split('\n')[0]!, 60)}`);
      const result = await runner.run(command, { cwd: ctx.root, signal: ctx.signal });
      return commandToolResult(result, runner.timeoutMs);
    },
  });
}
