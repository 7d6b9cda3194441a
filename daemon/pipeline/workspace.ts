/**
 * A goal's workspace: a git worktree on branch `ralph/goal-<id>`, where the goal's agent works and
 * the harness commits each iteration, so the developer's working tree is never touched.
 *
 * Worktrees live outside the repository (`$XDG_STATE_HOME/ralph/worktrees/<repo>-<hash>/goal-<id>`)
 * so the developer's editor, test runner and file watchers never see the copies. Opening is
 * idempotent and repairs what a crash can leave behind; nothing committed is ever thrown away.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, realpath, rm, rmdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  GitError,
  HARNESS_COMMIT_CONFIG,
  branchExists,
  git,
  gitLine,
  gitRun,
  gitWorktree,
  harnessCommitEnv,
  listWorktrees,
  repositoryRoot,
  resolveCommit,
  splitNul,
  status,
  type GitEnv,
  type StatusEntry,
  type WorktreeEntry,
} from '../git/git.ts';

/** The trailer that marks an iteration commit: `Ralph-Iteration: <goal id>/<iteration>`. */
export const ITERATION_TRAILER = 'Ralph-Iteration';

/** The lock reason `git worktree add` leaves while it checks files out: a crash mid-add leaves it behind. */
const WORKTREE_ADD_LOCK_REASON = 'initializing';

const SUBJECT_SUMMARY_MAX = 100;

export function goalBranch(goalId: number): string {
  return `ralph/goal-${goalId}`;
}

/** `$XDG_STATE_HOME/ralph/worktrees`, or `~/.local/state/ralph/worktrees` (XDG: a relative value is ignored). */
export function defaultWorktreesRoot(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome =
    env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'ralph', 'worktrees');
}

/**
 * The folder holding one repository's goal worktrees: its name for people, a hash of its real path
 * so two checkouts with the same name never share worktrees.
 */
export function repoWorktreesFolder(worktreesRoot: string, realRepoRoot: string): string {
  const name = path.basename(realRepoRoot).replace(/[^A-Za-z0-9._-]/g, '-') || 'repo';
  const hash = createHash('sha256').update(realRepoRoot).digest('hex').slice(0, 8);
  return path.join(worktreesRoot, `${name}-${hash}`);
}

export interface GoalWorkspaceOptions {
  repoRoot: string;
  goalId: number;
  /** Where the worktrees of every repository live; default `defaultWorktreesRoot()`. */
  worktreesRoot?: string;
  /** Extra environment for every git command (tests use it to hide the machine's git config). */
  env?: GitEnv;
}

export interface IterationCommitInput {
  iteration: number;
  summary: string;
  /**
   * HEAD when the iteration began. An agent that commits itself (an external CLI) may leave nothing
   * uncommitted yet have moved HEAD: the iteration still gets its commit with the trailer (empty),
   * so its work counts as a change and the iteration count survives a crash.
   */
  headBefore?: string;
  /**
   * The worktree's `git status` (untracked files listed one by one, no renames), when the caller
   * has just read it (the secrets' redaction does): nothing in it spares staging; where it tells
   * what staging will stage, git is not asked again.
   */
  changes?: readonly StatusEntry[];
  /** What prepareCommit asked of git while the agent worked: used where HEAD and git's config are still as they were. */
  prepared?: CommitPreparation;
}

/**
 * What an iteration's commit needs from git that the agent's turn almost never changes, asked
 * while the agent works (prepareCommit): the iteration HEAD was made for, and the commit identity
 * with the config files it was read from. The commit checks both are still so (HEAD by its files,
 * the config files by their stat) and asks git again where not.
 */
export interface CommitPreparation {
  head: string;
  /** The iteration `head` was made for (null: none); undefined where git could not say. */
  headIteration: Promise<number | null | undefined>;
  identity: Promise<{ env: GitEnv; configs: string } | null>;
}

/** An iteration's commit: its sha, and the files it changed when known without asking git again. */
export interface IterationCommit {
  sha: string;
  /** The files the commit changed (as diffStat names them); null when it folded into an earlier commit or was not made now. */
  files: string[] | null;
}

/** One file of a commit's diff; `added`/`deleted` are null for binary files. */
export interface FileStat {
  path: string;
  added: number | null;
  deleted: number | null;
}

export interface RemoveOptions {
  /** Also delete the branch `ralph/goal-<id>` (after landing, its work is on the developer's branch). */
  deleteBranch?: boolean;
  /** Remove even with uncommitted changes in the worktree (they are lost). */
  force?: boolean;
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** A folder that is a checked-out worktree (has its `.git` file), not a vanished or half-made one. */
function isWorktreeFolder(folder: string): Promise<boolean> {
  return exists(path.join(folder, '.git'));
}

function firstLine(text: string): string {
  const line =
    text
      .split('\n')
      .map((part) => part.trim())
      .find((part) => part.length > 0) ?? 'no summary';
  return line.length > SUBJECT_SUMMARY_MAX ? `${line.slice(0, SUBJECT_SUMMARY_MAX - 1)}…` : line;
}

export class GoalWorkspace {
  /** The developer's repository (real path of its top folder). */
  readonly repoRoot: string;
  readonly goalId: number;
  /** The worktree's folder. */
  readonly path: string;
  readonly branch: string;
  /** Extra environment of every git command run for this workspace. */
  readonly env: GitEnv;

  private constructor(repoRoot: string, goalId: number, worktreePath: string, env: GitEnv) {
    this.repoRoot = repoRoot;
    this.goalId = goalId;
    this.path = worktreePath;
    this.branch = goalBranch(goalId);
    this.env = env;
  }

  /**
   * The goal's workspace, created on `ralph/goal-<id>` from the current HEAD when there is none.
   * An existing one is reused as it is (after a crash the branch and its commits are the goal's work
   * so far); a worktree whose folder vanished, or whose creation was cut short, is made again on
   * the existing branch.
   */
  static async open(options: GoalWorkspaceOptions): Promise<GoalWorkspace> {
    const env = options.env ?? {};
    const { goalId } = options;
    const repoRoot = await realpath(await repositoryRoot(options.repoRoot, env));
    const branch = goalBranch(goalId);
    const folder = repoWorktreesFolder(options.worktreesRoot ?? defaultWorktreesRoot(), repoRoot);
    await mkdir(folder, { recursive: true });
    // git records real paths; compare like with like.
    const wantedPath = path.join(await realpath(folder), `goal-${goalId}`);

    let worktrees = await listWorktrees(repoRoot, env);
    const byBranch = worktrees.find((entry) => entry.branch === branch);
    // Only a worktree of Ralph's is reused (also from an earlier worktrees root): never a checkout of
    // the developer's that happens to be on the goal's branch, or the goal would run in their files.
    if (byBranch && (byBranch === worktrees[0] || byBranch.path === repoRoot || path.basename(byBranch.path) !== `goal-${goalId}`)) {
      throw new Error(
        `branch ${branch} is checked out in ${byBranch.path}; switch that tree to another branch so goal #${goalId} gets its own worktree`,
      );
    }
    if (byBranch && (await isWorktreeFolder(byBranch.path))) {
      if (byBranch.locked !== WORKTREE_ADD_LOCK_REASON) return new GoalWorkspace(repoRoot, goalId, byBranch.path, env);
      // `git worktree add` was killed mid-checkout: the files are incomplete. The branch holds
      // everything committed, so the half-made checkout goes and a fresh one is made below.
      await gitWorktree(repoRoot, ['remove', '--force', '--force', byBranch.path], { env });
    }

    // Forget worktrees whose folders vanished (this one's, maybe others'); their branches stay.
    await gitWorktree(repoRoot, ['prune'], { env });
    worktrees = await listWorktrees(repoRoot, env);
    const occupant = worktrees.find((entry) => entry.path === wantedPath);
    if (occupant) throw new Error(`${wantedPath} is already a worktree on ${describeCheckout(occupant)}, not ${branch}`);
    if ((await exists(wantedPath)) && (await readdir(wantedPath)).length > 0) {
      throw new Error(`${wantedPath} exists and is not goal #${goalId}'s worktree; move it away so the workspace can be made`);
    }

    if (await branchExists(repoRoot, branch, env)) {
      await gitWorktree(repoRoot, ['add', '--quiet', wantedPath, branch], { env });
    } else {
      const head = await resolveCommit(repoRoot, 'HEAD', env);
      if (!head) {
        throw new Error(`refusing to create a workspace for goal #${goalId}: ${repoRoot} has no commit yet (commit something first)`);
      }
      await gitWorktree(repoRoot, ['add', '--quiet', '-b', branch, wantedPath, head], { env });
    }
    return new GoalWorkspace(repoRoot, goalId, wantedPath, env);
  }

  /**
   * Removes what is left of a landed goal's workspace when a daemon died after recording the
   * landing and before removing them: its worktree (registered, or only a folder) and its branch.
   * A checkout of the branch that is not Ralph's worktree is left alone (and so is the branch).
   * Returns whether anything was there.
   */
  static async removeLandedLeftovers(options: GoalWorkspaceOptions): Promise<boolean> {
    const env = options.env ?? {};
    const { goalId } = options;
    const repoRoot = await realpath(await repositoryRoot(options.repoRoot, env));
    const branch = goalBranch(goalId);
    const folder = path.join(repoWorktreesFolder(options.worktreesRoot ?? defaultWorktreesRoot(), repoRoot), `goal-${goalId}`);
    let found = false;
    const worktrees = await listWorktrees(repoRoot, env);
    const checkout = worktrees.find((entry) => entry.branch === branch);
    if (checkout && (checkout === worktrees[0] || checkout.path === repoRoot || path.basename(checkout.path) !== `goal-${goalId}`))
      return false;
    if (checkout) {
      await gitWorktree(repoRoot, ['remove', '--force', '--force', checkout.path], { env });
      found = true;
    }
    if (await exists(folder)) {
      await rm(folder, { recursive: true, force: true });
      found = true;
    }
    await gitWorktree(repoRoot, ['prune'], { env });
    if (await branchExists(repoRoot, branch, env)) {
      await git(repoRoot, ['branch', '--quiet', '-D', branch], { env });
      found = true;
    }
    await rmdir(path.dirname(folder)).catch(() => undefined);
    return found;
  }

  /** The sha the worktree's HEAD is at. */
  async head(): Promise<string> {
    return gitLine(this.path, ['rev-parse', 'HEAD'], { env: this.env });
  }

  /**
   * HEAD's sha as head() gives it, read from the worktree's git files where HEAD is a branch held
   * in a loose ref or in packed-refs (what Ralph's worktrees are): no git process, so an iteration
   * need not wait for one before its agent starts. Anything else is asked of git.
   */
  async readHead(): Promise<string> {
    try {
      const dirs = await this.gitDirs();
      if (dirs) {
        const ref = /^ref: (refs\/heads\/\S+)\n?$/.exec(await readFile(path.join(dirs.gitDir, 'HEAD'), 'utf8'))?.[1];
        const sha = ref ? await readBranchRef(dirs.commonDir, ref) : null;
        if (sha) return sha;
      }
    } catch {
      // not the usual layout: git knows
    }
    return this.head();
  }

  /** The worktree's own git directory and the repository's shared one, from its `.git` file; null where it is not one. */
  private async gitDirs(): Promise<{ gitDir: string; commonDir: string } | null> {
    const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(path.join(this.path, '.git'), 'utf8'));
    if (!pointer) return null;
    const gitDir = path.resolve(this.path, pointer[1]!);
    const common = await readFile(path.join(gitDir, 'commondir'), 'utf8');
    return { gitDir, commonDir: path.resolve(gitDir, common.trim()) };
  }

  /**
   * Starts asking git what an iteration's commit will need (CommitPreparation), `head` being HEAD
   * as the agent's turn begins: called then, the answers are in before the agent is done.
   */
  prepareCommit(head: string): CommitPreparation {
    const headIteration = this.iterationOf(head).catch(() => undefined);
    const identity = (async () => {
      const configs = await this.configSignature();
      if (configs === null) return null;
      return { env: await harnessCommitEnv(this.path, this.env), configs };
    })().catch(() => null);
    return { head, headIteration, identity };
  }

  /**
   * The config files git reads the commit identity from (system, global, the repository's, the
   * worktree's), each by inode, size and change time: git rewrites a config file by renaming a new
   * one over it. Null where they cannot be told (not a linked worktree).
   */
  private async configSignature(): Promise<string | null> {
    const dirs = await this.gitDirs().catch(() => null);
    if (!dirs) return null;
    const env = { ...process.env, ...this.env };
    const home = env.HOME ?? os.homedir();
    const files = [
      path.join(dirs.commonDir, 'config'),
      path.join(dirs.gitDir, 'config.worktree'),
      env.GIT_CONFIG_GLOBAL ?? path.join(home, '.gitconfig'),
      path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'),
      env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig',
    ];
    const stats = await Promise.all(
      files.map((file) =>
        stat(file, { bigint: true }).then(
          (info) => `${info.ino}:${info.size}:${info.ctimeNs}:${info.mtimeNs}`,
          () => '-',
        ),
      ),
    );
    return JSON.stringify([files, stats, Object.entries(env).filter(([name]) => name.startsWith('GIT_'))]);
  }

  /** HEAD's sha and its iteration: from the preparation where HEAD is still the commit it was made for. */
  private async headForCommit(prepared: CommitPreparation | undefined): Promise<{ sha: string; iteration: number | null }> {
    if (prepared) {
      const [sha, iteration] = await Promise.all([this.readHead(), prepared.headIteration]);
      if (sha === prepared.head && iteration !== undefined) return { sha, iteration };
    }
    return this.headCommit();
  }

  /** The commit's identity (harnessCommitEnv): the preparation's where no config file changed since. */
  private async identityForCommit(prepared: CommitPreparation | undefined): Promise<GitEnv> {
    if (prepared) {
      const [known, configs] = await Promise.all([prepared.identity, this.configSignature()]);
      if (known && configs !== null && known.configs === configs) return known.env;
    }
    return harnessCommitEnv(this.path, this.env);
  }

  /**
   * Where the goal's branch shares history with the developer's HEAD: the commit it started from,
   * or the developer's head it was last rebased onto. Computed rather than stored, so it stays right
   * across rebases, crashes and repairs.
   */
  async baseCommit(): Promise<string> {
    const result = await gitRun(this.repoRoot, ['merge-base', 'HEAD', this.branch], { env: this.env });
    if (result.exitCode !== 0)
      throw new Error(`goal #${this.goalId}'s branch ${this.branch} shares no history with HEAD of ${this.repoRoot}`);
    return result.stdout.trim();
  }

  /**
   * Commits everything the iteration changed (`git add -A`, so new files too; ignored files stay out)
   * as `Ralph iteration <k> of goal #<id>: <summary>` with the trailer `Ralph-Iteration: <id>/<k>`.
   * Returns the commit's sha, or null when the iteration changed nothing.
   *
   * Never two commits for one iteration: when HEAD already is this iteration's commit (the daemon
   * died after committing but before recording it), its sha is returned; if the iteration was run
   * again and changed more, those changes are folded into that same commit.
   */
  async commitIteration(input: IterationCommitInput): Promise<string | null> {
    return (await this.commitIterationFiles(input))?.sha ?? null;
  }

  /**
   * commitIteration, also saying which files the commit changed (what the goal's log names), so
   * that no git has to be asked again after the commit: each git is a process start, and they are
   * most of the harness's time around an external agent's iteration.
   */
  async commitIterationFiles({ iteration, summary, headBefore, changes, prepared }: IterationCommitInput): Promise<IterationCommit | null> {
    if (!Number.isInteger(iteration) || iteration < 1) throw new Error(`iteration must be a positive integer, not ${iteration}`);
    // What does not read the index is asked while `git add` runs, HEAD and its iteration by one git.
    const [staging, head, env] = await Promise.all([this.stage(changes), this.headForCommit(prepared), this.identityForCommit(prepared)]);
    let staged = staging.files;
    const headIsThisIteration = head.iteration === iteration;
    const agentCommitted = !headIsThisIteration && headBefore !== undefined && head.sha !== headBefore;
    const nothing = () => (headIsThisIteration ? { sha: head.sha, files: null } : null);
    if (staged.length === 0 && !agentCommitted) return nothing();

    // Not --quiet: its first line names the new commit (`[branch <sha>] subject`), in full with core.abbrev=no.
    const commitArgs = (empty: boolean): string[] => {
      const commit = [
        ...HARNESS_COMMIT_CONFIG,
        '-c',
        'core.abbrev=no',
        'commit',
        '--cleanup=whitespace',
        ...(empty ? ['--allow-empty'] : []),
      ];
      if (headIsThisIteration) return [...commit, '--amend', '--no-edit'];
      const rest = summary.trim().split('\n').slice(1).join('\n').trim();
      const message = [`Ralph iteration ${iteration} of goal #${this.goalId}: ${firstLine(summary)}`];
      if (rest) message.push(rest);
      message.push(`${ITERATION_TRAILER}: ${this.goalId}/${iteration}`);
      return [...commit, ...message.flatMap((paragraph) => ['-m', paragraph])];
    };
    let args = commitArgs(staged.length === 0);
    let result = await gitRun(this.path, args, { env });
    if (result.exitCode !== 0 && staging.told) {
      // A change `git status` saw that staging undid (line endings, a clean filter): git says what is staged.
      staged = await this.stagedFiles();
      if (staged.length === 0 && !agentCommitted) return nothing();
      args = commitArgs(staged.length === 0);
      result = await gitRun(this.path, args, { env });
    }
    if (result.exitCode !== 0) throw new GitError(this.path, args, result);
    // Branch names hold no spaces: the first ` <sha>]` is the commit's. Where git says it otherwise, HEAD is asked.
    const sha = / ([0-9a-f]{40}|[0-9a-f]{64})\]/.exec(result.stdout.split('\n', 1)[0]!)?.[1] ?? (await this.head());
    return { sha, files: headIsThisIteration ? null : staged };
  }

  /**
   * Stages everything (`git add -A`) and says what is staged: as the caller's `git status` tells it
   * where it can (`told`, not yet confirmed by git), else as git says after staging.
   */
  private async stage(changes: readonly StatusEntry[] | undefined): Promise<{ files: string[]; told: boolean }> {
    if (changes?.length === 0) return { files: [], told: false };
    const [, told] = await Promise.all([
      git(this.path, ['add', '-A'], { env: this.env }),
      changes ? stagedByStatus(this.path, changes) : null,
    ]);
    return told ? { files: told, told: true } : { files: await this.stagedFiles(), told: false };
  }

  /** The iteration a commit was made for (by this goal), or null for any other commit. */
  async iterationOf(rev: string): Promise<number | null> {
    const trailers = await git(
      this.path,
      ['log', '-1', `--format=%(trailers:key=${ITERATION_TRAILER},valueonly)`, '--end-of-options', rev],
      { env: this.env },
    );
    return this.iterationIn(trailers.split('\n'));
  }

  /** HEAD's sha and the iteration it was made for (as iterationOf), by one git. */
  private async headCommit(): Promise<{ sha: string; iteration: number | null }> {
    const output = await git(this.path, ['log', '-1', `--format=%H%n%(trailers:key=${ITERATION_TRAILER},valueonly)`, 'HEAD'], {
      env: this.env,
    });
    const [sha = '', ...trailers] = output.split('\n');
    return { sha: sha.trim(), iteration: this.iterationIn(trailers) };
  }

  /** This goal's iteration among trailer values (`<goal>/<iteration>`), or null. */
  private iterationIn(values: readonly string[]): number | null {
    for (const value of values) {
      const match = /^(\d+)\/(\d+)$/.exec(value.trim());
      if (match && Number(match[1]) === this.goalId) return Number(match[2]);
    }
    return null;
  }

  /** The highest iteration committed on the branch (the iteration count continues from it), or null. */
  async lastCommittedIteration(): Promise<number | null> {
    const base = await this.baseCommit();
    const trailers = await git(this.path, ['log', `--format=%(trailers:key=${ITERATION_TRAILER},valueonly)`, `${base}..HEAD`], {
      env: this.env,
    });
    let last: number | null = null;
    for (const value of trailers.split('\n')) {
      const match = /^(\d+)\/(\d+)$/.exec(value.trim());
      if (match && Number(match[1]) === this.goalId) last = Math.max(last ?? 0, Number(match[2]));
    }
    return last;
  }

  /** Files the last iteration's commit changed, with line counts; none before the first iteration commit. */
  async diffStat(): Promise<FileStat[]> {
    // Both gits at once; the diff counts only when HEAD is an iteration commit (else it may have no parent to diff with).
    const diff = git(this.path, ['diff', '--numstat', '-z', '--no-renames', 'HEAD^', 'HEAD'], { env: this.env });
    diff.catch(() => {});
    if ((await this.iterationOf('HEAD')) === null) return [];
    const output = await diff;
    return splitNul(output).map((line) => {
      const [added = '-', deleted = '-', ...file] = line.split('\t');
      return {
        path: file.join('\t'),
        added: added === '-' ? null : Number(added),
        deleted: deleted === '-' ? null : Number(deleted),
      };
    });
  }

  /**
   * Every file the goal has changed since its base, committed or not yet (new files included),
   * relative to the repository root: what to warn about when the developer edits the same file.
   */
  async changedFiles(): Promise<string[]> {
    const base = await this.baseCommit();
    const [tracked, untracked] = await Promise.all([
      // base against the working tree: the branch's commits and the iteration in progress.
      git(this.path, ['diff', '--name-only', '-z', '--no-renames', base], { env: this.env }),
      git(this.path, ['ls-files', '--others', '--exclude-standard', '-z'], { env: this.env }),
    ]);
    return [...new Set([...splitNul(tracked), ...splitNul(untracked)])].sort();
  }

  /** Uncommitted changes in the worktree (untracked files included, ignored ones not). */
  async uncommittedFiles(): Promise<string[]> {
    return (await status(this.path, { untracked: 'normal', env: this.env })).map((entry) => entry.path);
  }

  /**
   * Removes the worktree (used after landing). Refuses while it holds uncommitted changes unless
   * `force`; ignored files (dependencies, build output) are not work and go with it.
   */
  async remove(options: RemoveOptions = {}): Promise<void> {
    const registered = (await listWorktrees(this.repoRoot, this.env)).some((entry) => entry.path === this.path);
    if (registered && (await isWorktreeFolder(this.path))) {
      if (!options.force) {
        const dirty = await this.uncommittedFiles();
        if (dirty.length > 0) {
          throw new Error(`goal #${this.goalId}'s workspace ${this.path} has uncommitted changes to ${dirty.join(', ')}; not removing it`);
        }
      }
      await gitWorktree(this.repoRoot, ['remove', '--force', this.path], { env: this.env });
    } else {
      await gitWorktree(this.repoRoot, ['prune'], { env: this.env });
    }
    if (options.deleteBranch && (await branchExists(this.repoRoot, this.branch, this.env))) {
      await git(this.repoRoot, ['branch', '--quiet', '-D', this.branch], { env: this.env });
    }
    // The repository's folder of worktrees goes with its last worktree; rmdir refuses while others remain.
    await rmdir(path.dirname(this.path)).catch(() => undefined);
  }

  /** The files staged for the commit (as diffStat names them: renames as a deletion and an addition). */
  private async stagedFiles(): Promise<string[]> {
    const result = await gitRun(this.path, ['diff', '--cached', '--name-only', '-z', '--no-renames'], { env: this.env });
    if (result.exitCode !== 0) throw new Error(`could not compare goal #${this.goalId}'s staged changes: ${result.stderr.trim()}`);
    return splitNul(result.stdout);
  }
}

/**
 * What `git add -A` stages, told from `git status` where that is certain: untracked files, and paths
 * changed on one side only (the tree differs from an index that is HEAD's, or the index differs from
 * HEAD and the tree is the index), in git's order. Null where it is not: a path changed on both sides
 * or in conflict, one listed twice, a folder (a submodule, a nested repository).
 */
async function stagedByStatus(root: string, changes: readonly StatusEntry[]): Promise<string[] | null> {
  const oneSided = changes.every(
    ({ index, worktree }) =>
      (index === '?' && worktree === '?') || (index === ' ' && 'MDT'.includes(worktree)) || ('MADT'.includes(index) && worktree === ' '),
  );
  const paths = changes.map((change) => change.path);
  if (!oneSided || new Set(paths).size !== paths.length || paths.some((file) => file.endsWith('/'))) return null;
  const folders = await Promise.all(
    paths.map((file) =>
      lstat(path.join(root, file)).then(
        (info) => info.isDirectory(),
        () => false,
      ),
    ),
  );
  if (folders.some(Boolean)) return null;
  // The index's order: by the paths' bytes.
  return paths.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A branch's sha from its loose ref file or packed-refs; null where neither holds it plainly. */
async function readBranchRef(commonDir: string, ref: string): Promise<string | null> {
  const isSha = (text: string) => /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(text);
  const loose = await readFile(path.join(commonDir, ref), 'utf8').catch(() => null);
  if (loose !== null) return isSha(loose.trim()) ? loose.trim() : null;
  const packed = await readFile(path.join(commonDir, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const [sha = '', name] = line.split(' ');
    if (name === ref && isSha(sha)) return sha;
  }
  return null;
}

function describeCheckout(entry: WorktreeEntry): string {
  return entry.branch ? `branch ${entry.branch}` : 'a detached HEAD';
}
