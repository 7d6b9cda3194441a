/**
 * Finding the agent CLIs on this machine, for `agents.list` (`ralph agents`, the TUI's picker):
 * where each one's executable is (the config's path to it, or its usual name on PATH), and the
 * version it says it is (a backend without `versionArgs` is not asked: its path is all it shows).
 * Nothing here runs an agent: a version command is the only thing started, with no secrets in its
 * environment, in a process group of its own that is killed once it answered or when it takes
 * longer than `timeoutMs` (an old or broken CLI must not hang a list).
 *
 * Looking costs a process per CLI, so the answer is kept `cacheMs`; a second client asking at the
 * same time shares the look in flight. A changed list of backends or configured paths looks again.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { clipUnits, errorLine, formatSeconds, oneLine } from '../../../protocol/index.ts';
import { commandEnvironment } from '../../secrets/environment.ts';
import { signalGroup } from '../../tools/process-group.ts';
import type { AgentBackend } from './backend.ts';

/**
 * How long a version command may take. Some CLIs start a whole runtime to print one line: Gemini CLI
 * and OpenCode took about 2 s each on a busy two-core machine (Claude Code 0.06 s, Codex 0.4 s).
 */
export const VERSION_TIMEOUT_MS = 10_000;
/** How long an answer is kept: long enough for a burst of clients, short enough to see an install. */
export const DETECT_CACHE_MS = 30_000;
/** A version line longer than this is cut (a CLI that prints its whole help is not a version). */
const VERSION_MAX = 80;
/** What is read of a version command's output at most. */
const OUTPUT_MAX_BYTES = 8 * 1024;

/** One agent CLI as found here (protocol `AgentInfo` without Ralph's own agent). */
export interface DetectedAgent {
  name: string;
  displayName: string;
  installed: boolean;
  version: string | null;
  path: string | null;
  auth: string;
  install: string;
  /** Why it is not usable as found, in one line; null when it is. */
  problem: string | null;
}

export interface AgentDetectorOptions {
  /** The agent CLIs to look for (the registry's, in the order they are listed). */
  backends: () => readonly AgentBackend[];
  /** The config's path to a backend's executable (`executor.agents.<name>.path`), when it names one. */
  configuredPath?: (name: string) => string | undefined;
  /** Where a relative configured path starts: the repository's root. */
  cwd: string;
  /** The environment whose PATH is searched, and (without its secrets) the version commands'. Default: the daemon's. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cacheMs?: number;
  /** Milliseconds now (tests); default Date.now. */
  now?: () => number;
}

export class AgentDetector {
  private readonly options: AgentDetectorOptions;
  private cached: { key: string; at: number; found: Promise<DetectedAgent[]> } | null = null;

  constructor(options: AgentDetectorOptions) {
    this.options = options;
  }

  /** Every backend as found, from the cache when it is fresh and nothing it depends on changed; `refresh` looks again. */
  detect({ refresh = false }: { refresh?: boolean } = {}): Promise<DetectedAgent[]> {
    const backends = this.options.backends();
    const key = JSON.stringify(backends.map((backend) => [backend.name, backend.executable, this.options.configuredPath?.(backend.name)]));
    const now = (this.options.now ?? Date.now)();
    const cacheMs = this.options.cacheMs ?? DETECT_CACHE_MS;
    const cached = this.cached;
    if (!refresh && cached && cached.key === key && now - cached.at < cacheMs) return cached.found;
    const found = Promise.all(backends.map((backend) => this.detectOne(backend)));
    this.cached = { key, at: now, found };
    return found;
  }

  private async detectOne(backend: AgentBackend): Promise<DetectedAgent> {
    const env = this.options.env ?? process.env;
    const configured = this.options.configuredPath?.(backend.name);
    const base = { name: backend.name, displayName: backend.displayName, auth: backend.auth, install: backend.install };
    const executable = await findExecutable(configured ?? backend.executable, { cwd: this.options.cwd, env });
    if (executable === null) {
      const problem = configured
        ? `not found at ${configured} (executor.agents.${backend.name}.path in ralph.config.ts)`
        : `${backend.executable} is not installed (not on PATH): ${backend.install}`;
      return { ...base, installed: false, version: null, path: null, problem };
    }
    // No version arguments: a command the config names may ignore them and start working; it is not run.
    if (backend.versionArgs.length === 0) return { ...base, installed: true, version: null, path: executable, problem: null };
    const timeoutMs = this.options.timeoutMs ?? VERSION_TIMEOUT_MS;
    const answer = await runVersion(executable, backend.versionArgs, { cwd: this.options.cwd, env: commandEnvironment(env), timeoutMs });
    if (answer.kind === 'version') return { ...base, installed: true, version: answer.version, path: executable, problem: null };
    const command = [backend.executable, ...backend.versionArgs].join(' ');
    const problem =
      answer.kind === 'timeout'
        ? `\`${command}\` did not answer within ${formatSeconds(timeoutMs / 1000)}`
        : `\`${command}\` failed: ${answer.message}`;
    return { ...base, installed: true, version: null, path: executable, problem };
  }
}

/**
 * The executable `name` means: a path (it has a slash; relative ones from `cwd`) when that is an
 * executable file, or the first executable file of that name in PATH's folders; null otherwise.
 */
export async function findExecutable(name: string, { cwd, env }: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string | null> {
  if (name.includes('/')) {
    const candidate = path.resolve(cwd, name);
    return (await isExecutableFile(candidate)) ? candidate : null;
  }
  for (const folder of (env.PATH ?? '').split(path.delimiter)) {
    // An empty entry means the current folder to a shell; the daemon's is not a place to find a CLI.
    if (folder === '' || !path.isAbsolute(folder)) continue;
    const candidate = path.join(folder, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

type VersionAnswer = { kind: 'version'; version: string | null } | { kind: 'timeout' } | { kind: 'failed'; message: string };

/**
 * Runs a version command in a group of its own, stdin closed, and reads the first line it prints
 * (stdout, else stderr). The group is killed once the command exits (a wrapper's child must not
 * outlive it, nor keep its output open) or when it is late.
 */
function runVersion(
  executable: string,
  args: readonly string[],
  { cwd, env, timeoutMs }: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<VersionAnswer> {
  return new Promise((resolve) => {
    const child = spawn(executable, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (output[stream].length < OUTPUT_MAX_BYTES) output[stream] += chunk.toString('utf8');
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    let settled = false;
    const settle = (answer: VersionAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    child.on('error', (error) => settle({ kind: 'failed', message: errorLine(error) }));
    // What it started in the background would hold its output open: the group goes with it.
    child.on('exit', () => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    });
    child.on('close', (code, signal) => {
      const line = versionLine(output.stdout) ?? versionLine(output.stderr);
      if (code === 0) settle({ kind: 'version', version: line });
      else settle({ kind: 'failed', message: line ?? (signal ? `killed by ${signal}` : `exit code ${code}`) });
    });
  });
}

/** A terminal's color and cursor sequences (a CLI may color its version). */
const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** The first line with words on it, without controls, cut to VERSION_MAX; null when there is none. */
function versionLine(text: string): string | null {
  const line = text
    .replace(ANSI_SEQUENCE, '')
    .split('\n')
    .map(oneLine)
    .find((candidate) => candidate !== '');
  if (line === undefined) return null;
  return line.length > VERSION_MAX ? `${clipUnits(line, VERSION_MAX - 1)}…` : line;
}
