/**
 * The boundary the agent's commands (and the goal's check) run inside, where bubblewrap (`bwrap`)
 * works: config `executor.commands.sandbox`, `auto` (default: bwrap when it runs here, otherwise
 * the plain process-group runner, said once in the logs), `bwrap` (required: a command fails rather
 * than run outside it) or `off`.
 *
 * What holds inside (the README's "What holds where"):
 * - its own PID namespace and /proc: the daemon and every other process are invisible, so nothing
 *   reads the daemon's environment (`/proc/$PPID/environ`); and every process of the command,
 *   `setsid` and double forks included, dies when the command's shell ends (namespace init exits);
 * - the whole filesystem read-only, except the worktree, a private /tmp, Ralph's package cache for
 *   sandboxed commands (npm's cache points there) and, of the repository's `.git`, the object store
 *   and the worktree's own index: `git add/status/diff` work, while refs, `packed-refs`, config,
 *   hooks and the worktree's HEAD stay read-only (the harness owns git);
 * - the `.ralph/` folder of every other checkout of the repository (the daemon's token in
 *   `daemon.json`, logs, transcripts) is an empty folder, and so are the usual homes of credentials
 *   (`~/.ssh`, `~/.aws`, `~/.npmrc`, … HIDDEN_HOME_PATHS);
 * - no capabilities (even as root), a new session (no TIOCSTI into a terminal), and it dies with
 *   the daemon. The network is shared: tests talk to loopback servers and dependencies are fetched.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SANDBOX_MODES = ['auto', 'bwrap', 'off'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Whether commands run sandboxed, and why not when they do not. */
export type SandboxState = { active: true; kind: 'bwrap' } | { active: false; reason: string };

/** A command line to spawn instead of the plain one. */
export interface SandboxedSpawn {
  file: string;
  args: string[];
  /** Variables the sandbox adds to the command's environment. */
  env: Record<string, string>;
}

export interface CommandSandbox {
  readonly kind: 'bwrap';
  /** The program and arguments that run `argv` inside the sandbox, in `cwd` (the workspace). */
  wrap(argv: readonly string[], cwd: string): SandboxedSpawn;
}

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

// ---------------------------------------------------------------------------------------------
// Is bwrap usable here? Probed once per process.

const BWRAP = 'bwrap';
const PROBE_TIMEOUT_MS = 10_000;

/** Per program (tests name one that is missing): the answer is kept for the process's life. */
const probes = new Map<string, Promise<SandboxState>>();

/** Runs bwrap once with the namespaces the sandbox uses. */
export function probeBwrap(program = BWRAP): Promise<SandboxState> {
  let probed = probes.get(program);
  if (probed) return probed;
  probed = new Promise<SandboxState>((resolve) => {
    const child = spawn(program, [...baseArguments(), '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({
        active: false,
        reason:
          error.code === 'ENOENT'
            ? 'bwrap is not installed (Debian, Ubuntu: apt install bubblewrap)'
            : `bwrap could not be started: ${error.message}`,
      }),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ active: true, kind: 'bwrap' });
      else
        resolve({
          active: false,
          reason: `bwrap does not work here: ${stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit code ${code}`)}`,
        });
    });
  });
  probes.set(program, probed);
  return probed;
}

/** Forgets what was probed (tests that change PATH). */
export function clearSandboxProbes(): void {
  probes.clear();
}

/** Why commands run outside the sandbox when the config says `off`: no warning is due. */
export const SANDBOX_OFF_REASON = 'executor.commands.sandbox is off';

/** What `mode` gives on this machine. `bwrap` that cannot run is an error, never a silent fallback. */
export async function resolveSandbox(mode: SandboxMode, program = BWRAP): Promise<{ state: SandboxState; sandbox: CommandSandbox | null }> {
  if (mode === 'off') return { state: { active: false, reason: SANDBOX_OFF_REASON }, sandbox: null };
  const state = await probeBwrap(program);
  if (state.active) return { state, sandbox: new BwrapSandbox() };
  if (mode === 'bwrap') throw new SandboxUnavailableError(`executor.commands.sandbox is 'bwrap' but ${state.reason}`);
  return { state, sandbox: null };
}

/** The one line for the daemon's log and the goal's log. */
export function describeSandbox(state: SandboxState): string {
  return state.active
    ? 'commands run in a bubblewrap sandbox (own PID namespace; read-only filesystem but the worktree; git refs read-only)'
    : `commands run without a sandbox: ${state.reason}`;
}

// ---------------------------------------------------------------------------------------------
// The bwrap command line

/** Namespaces and process settings, before the mounts. */
function baseArguments(): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session'];
  // As root bwrap keeps every capability (a command could remount the filesystem writable): drop them.
  if (process.getuid?.() === 0) args.push('--cap-drop', 'ALL');
  return args;
}

/** Where sandboxed commands keep package caches between commands (never the developer's own caches, which run outside). */
export function defaultSandboxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'ralph', 'sandbox');
}

/**
 * Where credentials usually live in a home folder: hidden from sandboxed commands (an empty folder,
 * or an empty file). A check that needs one gets it from a variable instead (config `secrets.passEnv`,
 * e.g. `NPM_TOKEN` referenced from the project's `.npmrc`).
 */
export const HIDDEN_HOME_PATHS: readonly string[] = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.kube',
  '.docker/config.json',
  '.config/gcloud',
  '.config/gh',
  '.config/hub',
  '.git-credentials',
  '.netrc',
  '.npmrc',
  '.yarnrc.yml',
  '.pypirc',
  '.cargo/credentials.toml',
  '.gem/credentials',
  '.local/share/keyrings',
];

export class BwrapSandbox implements CommandSandbox {
  readonly kind = 'bwrap' as const;
  private readonly cacheDir: string;
  private readonly home: string;

  constructor(options: { cacheDir?: string; home?: string } = {}) {
    this.cacheDir = options.cacheDir ?? defaultSandboxCacheDir();
    this.home = options.home ?? os.homedir();
  }

  wrap(argv: readonly string[], cwd: string): SandboxedSpawn {
    const npmCache = path.join(this.cacheDir, 'npm');
    mkdirSync(npmCache, { recursive: true });
    // Mounted over files to hide (/dev/null would be a device on a nodev mount: reading it fails).
    const emptyFile = path.join(this.cacheDir, 'empty');
    if (!existsSync(emptyFile)) writeFileSync(emptyFile, '', { mode: 0o444 });
    const layout = gitLayout(cwd);
    const top = layout?.top ?? cwd;
    const args = [...baseArguments(), '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
    // The other checkouts' .ralph/ first, so that a worktree kept inside one is mounted over it again below.
    for (const checkout of layout?.otherCheckouts ?? []) {
      const ralphDir = path.join(checkout, '.ralph');
      if (isDirectory(ralphDir)) args.push('--tmpfs', ralphDir);
    }
    args.push('--bind', this.cacheDir, this.cacheDir, '--bind', top, top);
    const ownDaemonFile = path.join(top, '.ralph', 'daemon.json');
    if (existsSync(ownDaemonFile)) args.push('--ro-bind', emptyFile, ownDaemonFile);
    if (layout) args.push(...gitMounts(layout, emptyFile));
    // Last, so that no bind above uncovers them.
    for (const hidden of HIDDEN_HOME_PATHS) {
      const file = path.join(this.home, hidden);
      if (isDirectory(file)) args.push('--tmpfs', file);
      else if (existsSync(file)) args.push('--ro-bind', emptyFile, file);
    }
    args.push('--chdir', cwd, '--', ...argv);
    return { file: BWRAP, args, env: { npm_config_cache: npmCache } };
  }
}

/** The git directories of the checkout `cwd` is in. */
interface GitLayout {
  /** The checkout's top folder (holds `.git`). */
  top: string;
  /** Its own git directory: the repository's `.git`, or `.git/worktrees/<name>` for a linked worktree. */
  gitDir: string;
  /** The repository's shared `.git`: objects, refs, config. */
  commonDir: string;
  /** The repository's other checkouts (the main one and the other linked worktrees). */
  otherCheckouts: string[];
}

/** Found from the files git leaves (`.git` as a folder, or a file `gitdir: …` with a `commondir`); null outside a repository. */
export function gitLayout(cwd: string): GitLayout | null {
  let top = path.resolve(cwd);
  for (;;) {
    const dotGit = path.join(top, '.git');
    if (existsSync(dotGit)) {
      let gitDir = dotGit;
      if (!isDirectory(dotGit)) {
        const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
        if (!pointer) return null;
        gitDir = path.resolve(top, pointer[1]!);
      }
      const commonFile = path.join(gitDir, 'commondir');
      const commonDir = existsSync(commonFile) ? path.resolve(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
      return { top, gitDir, commonDir, otherCheckouts: checkoutsOf(commonDir).filter((checkout) => checkout !== top) };
    }
    const parent = path.dirname(top);
    if (parent === top) return null;
    top = parent;
  }
}

/** Every checkout of a repository: the main one (when not bare) and each linked worktree's. */
function checkoutsOf(commonDir: string): string[] {
  const checkouts = path.basename(commonDir) === '.git' ? [path.dirname(commonDir)] : [];
  const worktrees = path.join(commonDir, 'worktrees');
  let names: string[] = [];
  try {
    names = readdirSync(worktrees);
  } catch {
    return checkouts;
  }
  for (const name of names) {
    try {
      checkouts.push(path.dirname(readFileSync(path.join(worktrees, name, 'gitdir'), 'utf8').trim()));
    } catch {
      // a worktree being added or removed
    }
  }
  return checkouts;
}

/**
 * `.git` read-only but for what `git add` writes: the object store (its packs stay read-only: no
 * repack or prune) and, in a linked worktree, its own git directory (the index) but for HEAD and the
 * files that tie it to the repository, the worktree's `.git` file included. In a repository's main
 * checkout the index is read-only too.
 */
function gitMounts({ top, gitDir, commonDir }: GitLayout, emptyFile: string): string[] {
  const args = ['--ro-bind', commonDir, commonDir];
  // A worktree's `.git` file says where its git directory is. Pointed at a git directory of the
  // agent's making, the harness's own git commands (run outside, in the worktree) would read that
  // one's config: `core.fsmonitor` and the like would run code outside the sandbox.
  const dotGit = path.join(top, '.git');
  if (!isDirectory(dotGit)) args.push('--ro-bind', dotGit, dotGit);
  const objects = path.join(commonDir, 'objects');
  if (isDirectory(objects)) {
    args.push('--bind', objects, objects);
    for (const fixed of ['pack', 'info']) {
      const folder = path.join(objects, fixed);
      if (isDirectory(folder)) args.push('--ro-bind', folder, folder);
    }
  }
  if (gitDir !== commonDir) {
    args.push('--bind', gitDir, gitDir);
    for (const fixed of ['HEAD', 'commondir', 'gitdir', 'config.worktree', 'refs', 'locked']) {
      const file = path.join(gitDir, fixed);
      if (existsSync(file)) args.push('--ro-bind', file, file);
      // Git reads a worktree's own config too (with extensions.worktreeConfig): one the agent wrote
      // would configure the harness's git. Where there is none, an empty one is mounted (bwrap leaves
      // the empty file behind: an empty config).
      else if (fixed === 'config.worktree') args.push('--ro-bind', emptyFile, file);
    }
  }
  return args;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
