/**
 * One headless run of an agent CLI in the goal's worktree: the body of one iteration when the goal's
 * agent is external (registry.ts). What is the same for every CLI is here; what differs is the
 * backend's (backend.ts).
 *
 * - The CLI starts detached, the leader of its own process group, with the environment Ralph gives
 *   the agent's commands (daemon/secrets/environment.ts: no secrets but those `secrets.passEnv`
 *   names) plus the variables the backend authenticates with (`authEnv`), the backend's own, and
 *   RALPH_PROMPT_FILE (the prompt, in a file outside the worktree).
 * - Its stdout is read line by line through the backend's parser; the events (redacted) go to the
 *   caller in order. Its stderr is kept (the tail) to explain a failure.
 * - A timeout, the stop signal (pause, cancel, shutdown) and the bound signal end it: SIGTERM to
 *   the whole group, SIGKILL a second later. When the CLI exits by itself, whatever it left running
 *   is killed the same way: nothing it started outlives its iteration. A process that left the
 *   group (`setsid`) is still found by a marker in its environment (as the command runner does).
 * - While it runs, `.ralph/agents/<goal id>.json` records its process group, the start time of its
 *   leader and its marker (process-records.ts; the folder ignores itself in git). A daemon killed
 *   with -9 cannot kill its agent; the next daemon does at start (reapOrphanProcesses), checking the
 *   leader is still the same process (its start time in /proc), so no agent of a dead daemon keeps
 *   editing a worktree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandEnvironment, type EnvironmentRules } from '../../secrets/environment.ts';
import { killGroup, killMarkedProcesses } from '../../tools/process-group.ts';
import { prepareRecordsFolder, ProcessRecord, recordsFolder } from '../../tools/process-records.ts';
import type { AgentChoice } from './registry.ts';
import type { ExternalEvent } from './backend.ts';

/** Set in the agent's environment to its run's id: how what left its process group is found. */
export const AGENT_MARKER_VARIABLE = 'RALPH_AGENT_RUN';
/** Names the file holding the iteration's prompt (outside the worktree). */
export const PROMPT_FILE_VARIABLE = 'RALPH_PROMPT_FILE';

/** Between SIGTERM and SIGKILL: a CLI may save its session; a cancel must still end within 2 s. */
const KILL_GRACE_MS = 1000;
/** After the CLI and its group are gone, how long its stdout may take to close. */
const PIPE_DRAIN_MS = 500;
/** What is kept of the CLI's stderr. */
const STDERR_TAIL_CHARS = 8000;

/** An external agent chosen for the goal. */
export type ExternalAgent = Extract<AgentChoice, { kind: 'external' }>;

export interface ExternalRunOptions {
  agent: ExternalAgent;
  prompt: string;
  /** The goal's worktree. */
  cwd: string;
  /** The repository's `.ralph` folder: the agent's record and its prompt file live in `agents/` there. */
  ralphDir: string;
  goalId: number;
  iteration: number;
  /** Values no agent may see (the provider's key, the daemon token …), whatever the variable holding them is called. */
  secrets: readonly string[];
  envRules: EnvironmentRules;
  /** Applied to every event before the caller sees it. */
  redact: <T>(value: T) => T;
  timeoutMs: number;
  stopSignal: AbortSignal;
  boundSignal: AbortSignal;
  /** Each event, in order; a returned promise is awaited before the next line is read. */
  onEvent(event: ExternalEvent): void | Promise<void>;
  /** Once the agent has started: what the caller does meanwhile waits no longer, nor delays the start. */
  onStarted?: () => void;
  /** The environment the agent's starts from. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface ExternalRunResult {
  /** `exited`: by itself; else what stopped it. */
  ended: 'exited' | 'timed-out' | 'stopped' | 'bound';
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The end of its stderr (redacted). */
  stderr: string;
  durationMs: number;
}

/** The CLI could not be started at all. */
export class AgentStartError extends Error {
  /** `missing`: the executable is not there (ENOENT); `failed`: anything else (not executable …). */
  readonly kind: 'missing' | 'failed';
  constructor(kind: 'missing' | 'failed', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentStartError';
    this.kind = kind;
  }
}

export function agentsFolder(ralphDir: string): string {
  return recordsFolder(ralphDir, 'agents');
}

/** Runs the agent once to its end. Throws AgentStartError when it cannot be started. */
export async function runExternalAgent(options: ExternalRunOptions): Promise<ExternalRunResult> {
  const { agent, goalId, iteration } = options;
  const folder = agentsFolder(options.ralphDir);
  const promptName = `${goalId}.prompt.md`;
  const promptFile = path.join(folder, promptName);
  const marker = randomUUID();
  const started = performance.now();
  await prepareRecordsFolder(folder);
  // Recorded before the spawn: a daemon killed right after it still leaves the marker to find the agent by.
  // The two files at once: the agent waits for the slowest, not for their sum.
  const [recorded, prompted] = await Promise.allSettled([
    ProcessRecord.create(folder, String(goalId), {
      owner: `goal #${goalId}`,
      what: 'the agent',
      markerVariable: AGENT_MARKER_VARIABLE,
      marker,
      companions: [promptName],
      details: { goalId, iteration },
    }),
    writeFile(promptFile, options.prompt, { mode: 0o600 }),
  ]);
  const record = recorded.status === 'fulfilled' ? recorded.value : null;
  try {
    if (recorded.status === 'rejected') throw recorded.reason;
    if (prompted.status === 'rejected') throw prompted.reason;
    const invocation = agent.backend.invocation({
      prompt: options.prompt,
      cwd: options.cwd,
      model: agent.model,
      permissions: agent.permissions,
      extraArgs: agent.extraArgs,
      ...(agent.untrustedRepository ? { untrustedRepository: true } : {}),
    });
    const env: NodeJS.ProcessEnv = {
      ...commandEnvironment(options.env ?? process.env, options.secrets, {
        passEnv: [...(options.envRules.passEnv ?? []), ...agent.backend.authEnv],
        hideEnv: options.envRules.hideEnv ?? [],
      }),
      ...invocation.env,
      // Some CLIs (OpenCode) take their project folder from PWD, which the daemon's own would otherwise name.
      PWD: options.cwd,
      [PROMPT_FILE_VARIABLE]: promptFile,
      [AGENT_MARKER_VARIABLE]: marker,
    };
    const child = spawn(agent.executable, invocation.args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    // Listened for at once: a CLI may exit before the record below is written.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await whenStarted(child, agent, options.cwd);
    const pid = child.pid!;
    // Followed before anything is awaited: Node throws away the output of a child that exits while nobody reads it.
    const following = follow(child, exited, marker, options, started);
    following.catch(() => {}); // awaited below; not left unhandled if the record cannot be written
    child.stdin!.on('error', () => {}); // a CLI that does not read its input closes the pipe: not a failure
    child.stdin!.end(invocation.stdin ?? '');
    options.onStarted?.();
    record!.addGroup(pid);
    return await following;
  } finally {
    await rm(promptFile, { force: true });
    record?.remove();
  }
}

/** Resolves once the child has started; throws AgentStartError when it could not. */
function whenStarted(child: ChildProcess, agent: ExternalAgent, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      child.on('error', () => {}); // later errors (a failed kill) are not the run's
      resolve();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const { displayName, install } = agent.backend;
      if (error.code === 'ENOENT' && !existsSync(cwd)) reject(new AgentStartError('failed', `the workspace folder does not exist: ${cwd}`));
      else if (error.code === 'ENOENT')
        reject(
          new AgentStartError('missing', `${displayName} is not installed (${agent.executable} not found): ${install}`, { cause: error }),
        );
      else
        reject(
          new AgentStartError('failed', `${displayName} could not be started (${agent.executable}): ${error.message}`, { cause: error }),
        );
    });
  });
}

/** Reads the agent's output to its end, stopping it when asked; then kills what it left running. */
async function follow(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  marker: string,
  options: ExternalRunOptions,
  started: number,
): Promise<ExternalRunResult> {
  const pgid = child.pid!;
  const parse = options.agent.backend.parser({ cwd: options.cwd, model: options.agent.model });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let ended: ExternalRunResult['ended'] = 'exited';
  let killing: Promise<unknown> | null = null;
  const stop = (why: Exclude<ExternalRunResult['ended'], 'exited'>): void => {
    if (killing) return;
    ended = why;
    killing = killEverything(pgid, marker);
  };
  const timer = setTimeout(() => stop('timed-out'), options.timeoutMs);
  const onStop = (): void => stop('stopped');
  const onBound = (): void => stop('bound');
  if (options.stopSignal.aborted) onStop();
  else if (options.boundSignal.aborted) onBound();
  options.stopSignal.addEventListener('abort', onStop, { once: true });
  options.boundSignal.addEventListener('abort', onBound, { once: true });

  const stderrClosed = new Promise<void>((resolve) => child.stderr!.once('close', resolve));
  const lines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
  const reading = (async () => {
    for await (const line of lines) {
      // Once stopped, what it still prints is not followed (a stop must be quick).
      if (options.stopSignal.aborted) continue;
      for (const event of parse(line)) await options.onEvent(options.redact(event));
    }
  })();
  // A failing hook (the log) must not leave the agent running: noted, and the run ends as it would.
  let readFailure: unknown = null;
  const read = reading.catch((error: unknown) => {
    readFailure = error;
    stop('stopped');
  });

  try {
    const { code, signal } = await exited;
    clearTimeout(timer);
    // Whatever it left running (in its group, or marked) ends with it.
    await (killing ?? killEverything(pgid, marker));
    // Its output pipe closes once everything holding it is gone; a process that escaped both may hold it.
    const drained = await Promise.race([Promise.all([read, stderrClosed]).then(() => true), sleep(PIPE_DRAIN_MS).then(() => false)]);
    if (!drained) {
      lines.close();
      child.stdout!.destroy();
      child.stderr!.destroy();
      await read;
    }
    if (readFailure) throw readFailure;
    return { ended, exitCode: code, signal, stderr: options.redact(stderr), durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
    options.stopSignal.removeEventListener('abort', onStop);
    options.boundSignal.removeEventListener('abort', onBound);
  }
}

/** SIGTERM to the group and to what carries the marker, SIGKILL a second later to what is left. */
async function killEverything(pgid: number, marker: string): Promise<void> {
  await Promise.all([
    killGroup(pgid, { graceMs: KILL_GRACE_MS, settleMs: 2000 }),
    killMarkedProcesses(AGENT_MARKER_VARIABLE, marker, { graceMs: KILL_GRACE_MS }),
  ]);
}
