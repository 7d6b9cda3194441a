/**
 * The daemon's one way to run git: goal workspaces and landing, the repository watcher, the file
 * tools, and finding the repository the daemon serves all run git through here.
 *
 * git runs without a shell, in the folder it is to work on, with the variables that would point
 * it at another repository removed (protocol/git-environment.ts says which and why), in the C
 * locale so its messages do not depend on the machine, and with nothing to prompt on.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { gitEnvironment } from '../../protocol/git-environment.ts';

/** Large enough for the diffs and listings of a big repository; execFile's 1 MB default is not. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export type GitEnv = Record<string, string | undefined>;

export interface GitOptions {
  /** Added to (and overriding) the process environment; `undefined` removes a variable. */
  env?: GitEnv;
  /** Stops git (SIGTERM); the call then rejects with the signal's AbortError. */
  signal?: AbortSignal;
  /** Stops git (SIGTERM) after this long; the call then rejects with a GitTimeoutError. */
  timeoutMs?: number;
  /** Return stdout even when git exits non-zero instead of throwing. */
  allowFail?: boolean;
  /** Written to git's stdin (which is otherwise closed, so no command can wait on it). */
  input?: string;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  /** null when git was killed by a signal. */
  exitCode: number | null;
}

export class GitError extends Error {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;
  constructor(cwd: string, args: readonly string[], result: GitResult) {
    const firstLine = firstNonEmptyLine(result.stderr) ?? '(no message)';
    super(`git ${args.join(' ')} failed (exit ${result.exitCode ?? 'signal'}): ${firstLine}`);
    this.name = 'GitError';
    this.cwd = cwd;
    this.args = args;
    this.exitCode = result.exitCode;
    this.stderr = result.stderr;
    this.stdout = result.stdout;
  }

  /** The command as typed, for messages. */
  get command(): string {
    return `git ${this.args.join(' ')}`;
  }

  /** stderr's first line: git's own one-line reason. */
  get reason(): string {
    return firstNonEmptyLine(this.stderr) ?? '';
  }
}

function firstNonEmptyLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.length > 0);
}

/** git could not be started at all: `code` ENOENT when git is not installed (or not on PATH). */
export class GitUnavailableError extends Error {
  readonly code: string | undefined;
  constructor(cwd: string, args: readonly string[], cause: Error) {
    super(`could not run git ${args.join(' ')} in ${cwd}: ${cause.message}`, { cause });
    this.name = 'GitUnavailableError';
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/** git ran longer than its `timeoutMs` and was stopped. */
export class GitTimeoutError extends Error {
  constructor(args: readonly string[], timeoutMs: number) {
    super(`git ${args.join(' ')} did not finish within ${timeoutMs} ms`);
    this.name = 'GitTimeoutError';
  }
}

/** The environment every git command of the daemon runs in: this process's, scrubbed, then `extra`. */
function daemonGitEnvironment(extra: GitEnv | undefined): NodeJS.ProcessEnv {
  const env = gitEnvironment(process.env);
  env.LC_ALL = 'C';
  // A daemon has no terminal to ask for credentials or open an editor in.
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_EDITOR = 'true';
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs git and reports how it went, whatever the exit code. Rejects only when git cannot be started, is stopped or times out. */
export function gitRun(cwd: string, args: readonly string[], options: Omit<GitOptions, 'allowFail'> = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd,
        env: daemonGitEnvironment(options.env),
        encoding: 'utf8',
        maxBuffer: MAX_OUTPUT_BYTES,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, exitCode: 0 });
        if (options.signal?.aborted) return reject(error);
        // A numeric code is git's exit status, a signal means git was killed; a string code
        // (ENOENT: no git or no such folder, output over maxBuffer) is a failure to run it at all.
        const { code, signal, killed } = error as { code?: unknown; signal?: unknown; killed?: boolean };
        if (killed && options.timeoutMs && typeof code !== 'string') return reject(new GitTimeoutError(args, options.timeoutMs));
        if (typeof code === 'number') return resolve({ stdout, stderr, exitCode: code });
        if (typeof code !== 'string' && signal) return resolve({ stdout, stderr, exitCode: null });
        reject(new GitUnavailableError(cwd, args, error));
      },
    );
    child.stdin?.on('error', () => {
      // git may exit before reading all of its input; the exit status tells what happened.
    });
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * Starts git with its output as streams, for output read as it comes (and git stopped once enough
 * was read): the same environment as every other git command here; stdin is closed.
 */
export function spawnGit(
  cwd: string,
  args: readonly string[],
  options: Pick<GitOptions, 'env' | 'signal'> = {},
): ChildProcessWithoutNullStreams {
  const child = spawn('git', args, {
    cwd,
    env: daemonGitEnvironment(options.env),
    ...(options.signal ? { signal: options.signal } : {}),
    stdio: 'pipe',
  });
  child.stdin.end();
  return child;
}

/** Runs git and returns its stdout, untrimmed (`-z` output and file contents keep every byte). */
export async function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  const result = await gitRun(cwd, args, options);
  if (result.exitCode !== 0 && !options.allowFail) throw new GitError(cwd, args, result);
  return result.stdout;
}

/** Runs git and returns stdout without its trailing newline: for commands that print one value. */
export async function gitLine(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  return (await git(cwd, args, options)).trim();
}

/** Splits NUL-terminated (`-z`) output; the empty string after the last NUL is not an entry. */
export function splitNul(output: string): string[] {
  const parts = output.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** The top folder of the working tree that holds `cwd`; throws a clear error outside a repository. */
export async function repositoryRoot(cwd: string, env?: GitEnv): Promise<string> {
  const result = await gitRun(cwd, ['rev-parse', '--show-toplevel'], { env });
  if (result.exitCode !== 0) throw new Error(`${cwd} is not inside a git repository`);
  return result.stdout.trim();
}

/** The sha of a commit, or null when it does not exist (HEAD of a repository without commits). */
export async function resolveCommit(cwd: string, rev: string, env?: GitEnv): Promise<string | null> {
  const result = await gitRun(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { env });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/** The branch HEAD points at (short name), or null when HEAD is detached. */
export async function currentBranch(cwd: string, env?: GitEnv): Promise<string | null> {
  const result = await gitRun(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { env });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export async function branchExists(cwd: string, branch: string, env?: GitEnv): Promise<boolean> {
  const result = await gitRun(cwd, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`], { env });
  return result.exitCode === 0;
}

/** A path inside this working tree's git folder (`index`, `MERGE_HEAD`, ...), absolute. */
export async function gitPath(cwd: string, name: string, env?: GitEnv): Promise<string> {
  return path.resolve(cwd, await gitLine(cwd, ['rev-parse', '--git-path', name], { env }));
}

/** What git says is half done in a working tree: the developer must finish it before anything lands. */
export type InProgressOperation = 'rebase' | 'merge' | 'cherry-pick' | 'revert' | 'am' | 'bisect';

const IN_PROGRESS_MARKERS: readonly [string, InProgressOperation][] = [
  ['rebase-merge', 'rebase'],
  ['rebase-apply/applying', 'am'],
  ['rebase-apply', 'rebase'],
  ['MERGE_HEAD', 'merge'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
  ['BISECT_LOG', 'bisect'],
];

export async function inProgressOperation(cwd: string, env?: GitEnv): Promise<InProgressOperation | null> {
  // One git call resolves every marker's path (they differ in a linked worktree).
  const args = IN_PROGRESS_MARKERS.flatMap(([marker]) => ['--git-path', marker]);
  const paths = (await gitLine(cwd, ['rev-parse', ...args], { env })).split('\n');
  for (const [i, [, operation]] of IN_PROGRESS_MARKERS.entries()) {
    const exists = await access(path.resolve(cwd, paths[i]!)).then(
      () => true,
      () => false,
    );
    if (exists) return operation;
  }
  return null;
}

/** One line of `git status --porcelain=v1 -z`. */
export interface StatusEntry {
  /** Index (staged) state: ' ', 'M', 'A', 'D', 'R', 'C', 'U', '?', '!'. */
  index: string;
  /** Working tree state, same letters. */
  worktree: string;
  path: string;
  /** The source of a rename or copy. */
  origPath?: string;
}

/** Parses `git status --porcelain=v1 -z`: `XY path\0`, and `XY to\0from\0` for renames and copies. */
export function parseStatusZ(output: string): StatusEntry[] {
  const fields = splitNul(output);
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const entry: StatusEntry = { index: field[0]!, worktree: field[1]!, path: field.slice(3) };
    if (entry.index === 'R' || entry.index === 'C' || entry.worktree === 'R' || entry.worktree === 'C') {
      entry.origPath = fields[++i];
    }
    entries.push(entry);
  }
  return entries;
}

export interface StatusOptions {
  /** 'no' lists tracked changes only (fast); 'all' lists every untracked file. Default 'all'. */
  untracked?: 'no' | 'normal' | 'all';
  env?: GitEnv;
}

/** The working tree's changes. Takes no lock, so it never blocks a git command the developer runs. */
export async function status(cwd: string, options: StatusOptions = {}): Promise<StatusEntry[]> {
  const output = await git(cwd, ['status', '--porcelain=v1', '-z', '--no-renames', `--untracked-files=${options.untracked ?? 'all'}`], {
    env: { ...options.env, GIT_OPTIONAL_LOCKS: '0' },
  });
  return parseStatusZ(output);
}

/** The identity of harness commits when the machine has none configured. */
export const HARNESS_IDENTITY = { name: 'Ralph', email: 'ralph@localhost' } as const;

/**
 * Environment for commits the harness makes (iterations, rebases, the landing commit). They are
 * made as the developer when git knows who that is; on a machine without `user.name`/`user.email`
 * (a fresh CI box, a container) git would refuse to commit, so the missing parts become
 * `Ralph <ralph@localhost>` rather than failing the goal.
 */
export async function harnessCommitEnv(cwd: string, env: GitEnv = {}): Promise<GitEnv> {
  const merged = { ...process.env, ...env };
  const configured = await git(cwd, ['config', '--get-regexp', '^user\\.(name|email)$'], { env, allowFail: true });
  const hasConfig = (key: string) => configured.split('\n').some((line) => line.startsWith(`${key} `));
  const identity: GitEnv = { ...env };
  if (!hasConfig('user.name')) {
    identity.GIT_AUTHOR_NAME = merged.GIT_AUTHOR_NAME || HARNESS_IDENTITY.name;
    identity.GIT_COMMITTER_NAME = merged.GIT_COMMITTER_NAME || HARNESS_IDENTITY.name;
  }
  if (!hasConfig('user.email')) {
    identity.GIT_AUTHOR_EMAIL = merged.GIT_AUTHOR_EMAIL || HARNESS_IDENTITY.email;
    identity.GIT_COMMITTER_EMAIL = merged.GIT_COMMITTER_EMAIL || HARNESS_IDENTITY.email;
  }
  return identity;
}

/**
 * `-c` options for every commit the harness makes: a daemon has no terminal for a signing
 * passphrase (a configured `commit.gpgSign` would hang or fail it), and the developer's commit
 * hooks are for the developer's commits (the goal's check is what verifies the work).
 */
export const HARNESS_COMMIT_CONFIG = ['-c', 'commit.gpgSign=false', '-c', 'core.hooksPath=/dev/null'] as const;

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Short branch name, or null when detached (or bare). */
  branch: string | null;
  /** The lock reason ('' when locked without one), or null when not locked. */
  locked: string | null;
  prunable: boolean;
}

/** Undoes git's C-style quoting of a path (used for paths with newlines, quotes or backslashes). */
function unquotePath(text: string): string {
  if (!text.startsWith('"') || !text.endsWith('"')) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = body[++i] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses `git worktree list --porcelain` (blocks of `key value` lines separated by blank lines). */
export function parseWorktreeList(output: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  for (const block of output.split('\n\n')) {
    const lines = block.split('\n').filter((line) => line.length > 0);
    if (lines.length === 0) continue;
    const entry: WorktreeEntry = { path: '', head: null, branch: null, locked: null, prunable: false };
    for (const line of lines) {
      const space = line.indexOf(' ');
      const key = space === -1 ? line : line.slice(0, space);
      const value = space === -1 ? '' : line.slice(space + 1);
      if (key === 'worktree') entry.path = unquotePath(value);
      else if (key === 'HEAD') entry.head = value;
      else if (key === 'branch') entry.branch = value.replace(/^refs\/heads\//, '');
      else if (key === 'locked') entry.locked = unquotePath(value);
      else if (key === 'prunable') entry.prunable = true;
    }
    entries.push(entry);
  }
  return entries;
}

export async function listWorktrees(cwd: string, env?: GitEnv): Promise<WorktreeEntry[]> {
  // Without -z (git 2.36+) so older gits work; unusual paths come quoted and are unquoted above.
  return parseWorktreeList(await gitWorktree(cwd, ['list', '--porcelain'], { env }));
}

/** The `git worktree` command running or last queued per repository, in this process. */
const worktreeCommands = new Map<string, Promise<unknown>>();

/**
 * `git worktree <args>`, one at a time per repository in this process. git's worktree bookkeeping
 * (.git/worktrees) is not safe against itself: a `worktree list` or `add` dies ("failed to read
 * .git/worktrees/goal-15/commondir") on an entry another `worktree add` is still writing, which
 * left goals stuck when several started at once (3 runs in 10 of the queue bench's 16 goals).
 */
export function gitWorktree(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  const key = repositoryKey(cwd);
  const previous = worktreeCommands.get(key) ?? Promise.resolve();
  const run = previous.then(
    () => git(cwd, ['worktree', ...args], options),
    () => git(cwd, ['worktree', ...args], options),
  );
  const settled = run.catch(() => undefined);
  worktreeCommands.set(key, settled);
  void settled.then(() => {
    if (worktreeCommands.get(key) === settled) worktreeCommands.delete(key);
  });
  return run;
}

/** One key per repository however its path is spelled (a link, a trailing slash). */
function repositoryKey(cwd: string): string {
  try {
    return realpathSync(cwd);
  } catch {
    return path.resolve(cwd);
  }
}
