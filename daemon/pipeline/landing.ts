/**
 * Landing a goal: its branch becomes ONE commit `Goal #<id>: <title>` on the developer's current
 * branch, without touching anything else the developer has in progress.
 *
 *   1. Refuse early, changing nothing, when it cannot be safe: a rebase/merge/... in progress,
 *      a detached HEAD, uncommitted work in the goal's worktree, nothing to land, or uncommitted
 *      changes of the developer's to a file the goal changes.
 *   2. Rebase the goal branch onto the developer's branch head, in the goal's worktree (the
 *      developer's tree is not involved). A conflict aborts the rebase and names the files.
 *   3. Run the check in the worktree, on the rebased branch.
 *   4. Squash: `commit-tree` of the rebased branch's tree with the developer's head as the only
 *      parent. Nothing has changed on the developer's side yet; that commit exists only as an object.
 *   5. Under the developer's index lock, re-check everything (the check may have taken minutes),
 *      then move the branch and update ONLY the goal's files in the working tree and the index.
 *      Those files were verified clean (identical to the branch head), so writing them loses
 *      nothing; every other file, staged or not, is left byte for byte as it was.
 */
import { copyFile, link, lstat, readFile, readdir, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '../../protocol/index.ts';
import { removeStrayTempFiles, tempFileFor } from '../fs/atomic-write.ts';
import {
  HARNESS_COMMIT_CONFIG,
  currentBranch,
  git,
  gitLine,
  gitPath,
  gitRun,
  harnessCommitEnv,
  inProgressOperation,
  repositoryRoot,
  resolveCommit,
  splitNul,
  status,
  type GitEnv,
} from '../git/git.ts';
import { backupGoalHead, listBackups } from './backup-refs.ts';
import type { GoalWorkspace } from './workspace.ts';

/** The trailer of a landing commit: which goal it holds. */
export const GOAL_TRAILER = 'Ralph-Goal';

/** How much of a failing check's output the refusal quotes. */
const CHECK_OUTPUT_LINES = 20;

export type LandingRefusalReason =
  | 'operation-in-progress'
  | 'detached-head'
  | 'no-commit'
  | 'workspace-dirty'
  | 'nothing-to-land'
  | 'uncommitted-changes'
  | 'rebase-conflict'
  | 'check-failed'
  | 'branch-moved'
  | 'index-locked';

/** Landing was not safe; nothing on the developer's side was changed. */
export class LandingRefusedError extends Error {
  readonly goalId: number;
  readonly reason: LandingRefusalReason;
  /** The files concerned (uncommitted changes, rebase conflicts), when there are any. */
  readonly files: string[];
  constructor(goalId: number, reason: LandingRefusalReason, detail: string, files: string[] = []) {
    super(`refusing to land goal #${goalId}: ${detail}`);
    this.name = 'LandingRefusedError';
    this.goalId = goalId;
    this.reason = reason;
    this.files = files;
  }
}

export interface CheckResult {
  ok: boolean;
  output: string;
}

export interface LandGoalOptions {
  /** The developer's repository: the goal lands on the branch checked out there. */
  repoRoot: string;
  goalId: number;
  title: string;
  workspace: GoalWorkspace;
  /** The goal's check, run in the worktree on the rebased branch; landing refuses when it fails. */
  check?: (cwd: string) => Promise<CheckResult>;
  /** Called as the landing reaches each step (the landing queue shows it; a test may stop there). */
  onStep?: (step: 'rebase' | 'check' | 'commit') => Promise<void>;
}

export interface LandResult {
  /** The landing commit on the developer's branch. */
  commit: string;
  /** The branch it landed on. */
  branch: string;
  /** The files it changed, relative to the repository root. */
  files: string[];
}

export interface LandingTarget {
  branch: string;
  head: string;
}

/** One file of `git diff-tree -r -z --no-renames` raw output. */
interface TreeChange {
  path: string;
  /** A added, D deleted, M modified, T type changed. */
  status: string;
  newMode: string;
  newSha: string;
}

export async function landGoal(options: LandGoalOptions): Promise<LandResult> {
  const { goalId, workspace } = options;
  const env = workspace.env;
  const repoRoot = await repositoryRoot(options.repoRoot, env);

  const target = await landingTarget(repoRoot, goalId, env);
  await recoverInterruptedRebase(workspace);
  const uncommitted = await workspace.uncommittedFiles();
  if (uncommitted.length > 0) {
    throw new LandingRefusedError(
      goalId,
      'workspace-dirty',
      `its workspace has uncommitted changes to ${uncommitted.join(', ')}; commit the iteration first`,
      uncommitted,
    );
  }

  // Fail fast, before rewriting anything: the goal's files as of now must be clean on the developer's side.
  const goalHead = await workspace.head();
  const fork = await mergeBase(workspace.path, goalHead, target.head, env);
  if (!fork) throw new Error(`goal #${goalId}'s branch shares no history with ${target.branch}`);
  const goalFiles = splitNul(await git(workspace.path, ['diff', '--name-only', '-z', '--no-renames', fork, goalHead], { env }));
  if (goalFiles.length === 0) throw new LandingRefusedError(goalId, 'nothing-to-land', `its branch ${workspace.branch} changes nothing`);
  await refuseUncommittedChanges(repoRoot, goalId, target.head, goalHead, goalFiles, env);

  await options.onStep?.('rebase');
  // Without a check nothing needs the rebased files: the landing's tree is merged without a checkout.
  const mergedTree = fork !== target.head && !options.check ? await mergeWithoutCheckout(workspace, target, goalHead) : null;
  if (fork !== target.head && !mergedTree) await rebaseGoalBranch(workspace, target, goalId);

  await options.onStep?.('check');
  if (options.check) await runCheck(options.check, workspace.path, goalId);

  await options.onStep?.('commit');

  const landedTree = mergedTree ?? (await gitLine(workspace.path, ['rev-parse', 'HEAD^{tree}'], { env }));
  const changes = await treeChanges(workspace.path, target.head, landedTree, env);
  if (changes.length === 0) {
    throw new LandingRefusedError(goalId, 'nothing-to-land', `its changes are already on ${target.branch}`);
  }
  const title = options.title.split('\n')[0]!.trim();
  const tree = landedTree;
  const commit = await gitLine(
    repoRoot,
    [
      ...HARNESS_COMMIT_CONFIG,
      'commit-tree',
      tree,
      '-p',
      target.head,
      '-m',
      `Goal #${goalId}: ${title}`,
      '-m',
      `${GOAL_TRAILER}: ${goalId}`,
    ],
    { env: await harnessCommitEnv(repoRoot, env) },
  );

  await moveBranchAndApply({ repoRoot, goalId, target, commit, changes, env });
  return { commit, branch: target.branch, files: changes.map((change) => change.path) };
}

/** The developer's branch and its head, or a refusal when there is no branch to land on safely. */
export async function landingTarget(repoRoot: string, goalId: number, env: GitEnv): Promise<LandingTarget> {
  const operation = await inProgressOperation(repoRoot, env);
  if (operation) {
    throw new LandingRefusedError(
      goalId,
      'operation-in-progress',
      `a ${operation} is in progress in ${repoRoot}; finish or abort it first`,
    );
  }
  const branch = await currentBranch(repoRoot, env);
  if (!branch) {
    throw new LandingRefusedError(goalId, 'detached-head', `HEAD is detached in ${repoRoot}; check out the branch to land on`);
  }
  const head = await resolveCommit(repoRoot, 'HEAD', env);
  if (!head) throw new LandingRefusedError(goalId, 'no-commit', `branch ${branch} has no commit yet`);
  return { branch, head };
}

/**
 * A landing (or a background rebase) that died mid-rebase leaves the worktree rebasing; the
 * harness owns it, so it is undone, and the branch is put back where the rebase found it (git's
 * own ORIG_HEAD of the rebase, else the goal's latest backup ref) should the abort leave it
 * elsewhere. Returns whether there was one.
 */
export async function recoverInterruptedRebase(
  worktree: Pick<GoalWorkspace, 'path' | 'branch' | 'repoRoot' | 'goalId' | 'env'>,
): Promise<boolean> {
  const { env, path: cwd, branch } = worktree;
  if ((await inProgressOperation(cwd, env)) !== 'rebase') return false;
  const origHead = await readOrigHead(cwd, env);
  await gitRun(cwd, ['rebase', '--abort'], { env });
  const restoreTo = origHead ?? (await listBackups(worktree.repoRoot, worktree.goalId, env)).at(-1)?.commit ?? null;
  if (!restoreTo) return true;
  if ((await currentBranch(cwd, env)) === branch) {
    if ((await resolveCommit(cwd, 'HEAD', env)) !== restoreTo) await git(cwd, ['reset', '--quiet', '--hard', restoreTo], { env });
  } else {
    // The abort could not put HEAD back on the branch: the branch is moved to the backup and checked out.
    await git(cwd, ['checkout', '--quiet', '--force', '-B', branch, restoreTo], { env });
  }
  return true;
}

/** The branch head a rebase in progress started from (`rebase-merge/orig-head` or `rebase-apply/orig-head`). */
async function readOrigHead(cwd: string, env: GitEnv): Promise<string | null> {
  for (const dir of ['rebase-merge', 'rebase-apply']) {
    const file = await gitPath(cwd, `${dir}/orig-head`, env);
    const text = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (/^[0-9a-f]{40,64}$/.test(text)) return text;
  }
  return null;
}

async function mergeBase(cwd: string, a: string, b: string, env: GitEnv): Promise<string | null> {
  const result = await gitRun(cwd, ['merge-base', a, b], { env });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/**
 * The goal's files that the developer has touched: changed in the index or working tree, or (for a
 * file the branch head does not have) anything on disk in its place, untracked or ignored, that
 * writing the goal's version would overwrite. Replacing a folder by a file or the reverse counts
 * as touched too: refusing is safe, and goals that do that are rare.
 */
export async function uncommittedConflicts(repoRoot: string, branchHead: string, files: string[], env: GitEnv = {}): Promise<string[]> {
  const wanted = new Set(files);
  const conflicts = new Set(
    (await status(repoRoot, { untracked: 'no', env })).filter((entry) => wanted.has(entry.path)).map((entry) => entry.path),
  );
  const unchecked = files.filter((file) => !conflicts.has(file));
  const tracked = await trackedIn(repoRoot, branchHead, unchecked, env);
  for (const file of unchecked) {
    if (tracked.has(file)) continue; // tracked and not in `status`: identical to the branch head
    try {
      await lstat(path.join(repoRoot, file));
      conflicts.add(file);
    } catch (error) {
      // ENOTDIR: one of its parent folders is a file; only ENOENT means the way is free.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') conflicts.add(file);
    }
  }
  return [...conflicts].sort();
}

/** The files (blobs and symlinks, not folders) that exist in a commit. */
async function trackedIn(repoRoot: string, commit: string, files: string[], env: GitEnv): Promise<Set<string>> {
  // Through stdin, not as pathspecs: a goal can change more files than a command line holds.
  const askable = files.filter((file) => !file.includes('\n'));
  if (askable.length === 0) return new Set();
  const input = askable.map((file) => `${commit}:${file}\n`).join('');
  const types = (await git(repoRoot, ['cat-file', '--batch-check=%(objecttype)'], { env, input })).split('\n');
  return new Set(askable.filter((_, i) => types[i] === 'blob'));
}

/**
 * Refuses when the developer has changes to the goal's files, except files that already are
 * exactly the goal's version (`goalCommit`'s) with nothing staged: a landing cut short (the daemon
 * killed after writing the goal's files, before moving the branch) left them, and writing them
 * again loses nothing.
 */
async function refuseUncommittedChanges(
  repoRoot: string,
  goalId: number,
  branchHead: string,
  goalCommit: string,
  files: string[],
  env: GitEnv,
): Promise<void> {
  const touched = await uncommittedConflicts(repoRoot, branchHead, files, env);
  const written = touched.length > 0 ? await alreadyTheGoals(repoRoot, goalCommit, touched, env) : new Set<string>();
  const conflicts = touched.filter((file) => !written.has(file));
  if (conflicts.length > 0) {
    throw new LandingRefusedError(goalId, 'uncommitted-changes', `you have uncommitted changes to ${conflicts.join(', ')}`, conflicts);
  }
}

/** Of `files`, those whose working-tree state is already `goalCommit`'s (content, or absence) with nothing staged. */
async function alreadyTheGoals(repoRoot: string, goalCommit: string, files: string[], env: GitEnv): Promise<Set<string>> {
  const staged = new Set(
    (await status(repoRoot, { untracked: 'no', env }))
      .filter((entry) => entry.index !== ' ' && entry.index !== '?')
      .map((entry) => entry.path),
  );
  const same = new Set<string>();
  for (const file of files) {
    if (staged.has(file) || file.includes('\n')) continue;
    const blob = await gitRun(repoRoot, ['rev-parse', '--verify', '--quiet', `${goalCommit}:${file}`], { env });
    const onDisk = await lstat(path.join(repoRoot, file)).catch(() => null);
    if (blob.exitCode !== 0) {
      if (!onDisk) same.add(file); // the goal deletes it, and it is gone
      continue;
    }
    if (!onDisk?.isFile()) continue;
    const hash = await gitRun(repoRoot, ['hash-object', '--', file], { env });
    if (hash.exitCode === 0 && hash.stdout.trim() === blob.stdout.trim()) same.add(file);
  }
  return same;
}

/**
 * After a landing whose daemon died between moving the branch and writing the new index: the
 * index still holds the files as they were before the landing (they show as staged reversals of
 * it). Each of the landing commit's files whose index entry is still its parent's gets the
 * commit's entry; an entry the developer has changed since is left alone.
 */
export async function repairIndexAfterLanding(repoRoot: string, commit: string, files: string[], env: GitEnv = {}): Promise<string[]> {
  const askable = files.filter((file) => !file.includes('\n'));
  if (askable.length === 0) return [];
  const indexFile = await gitPath(repoRoot, 'index', env);
  await removeDeadLandingsLeftovers(indexFile);
  await removeDeadLandingLock(`${indexFile}.lock`);
  const entries = async (args: string[]) => {
    const byPath = new Map<string, string>();
    for (const record of splitNul(await git(repoRoot, [...args, '-z', '--', ...askable], { env }))) {
      // ls-files -s: `mode sha stage\tpath`; ls-tree: `mode type sha\tpath`.
      const [meta = '', file = ''] = record.split('\t');
      const fields = meta.split(' ');
      byPath.set(file, args[0] === 'ls-files' ? `${fields[0]} ${fields[1]}` : `${fields[0]} ${fields[2]}`);
    }
    return byPath;
  };
  const [index, before, after] = await Promise.all([
    entries(['ls-files', '--stage']),
    entries(['ls-tree', '-r', '--full-tree', `${commit}^`]),
    entries(['ls-tree', '-r', '--full-tree', commit]),
  ]);
  const zeroSha = '0'.repeat(commit.length);
  const stale = askable.filter((file) => index.get(file) === before.get(file) && after.get(file) !== before.get(file));
  if (stale.length === 0) return [];
  const indexInfo = stale.map((file) => `${after.get(file) ?? `0 ${zeroSha}`}\t${file}\0`).join('');
  await git(repoRoot, ['update-index', '-z', '--index-info'], { env, input: indexInfo });
  return stale;
}

/**
 * The tree of the goal's branch merged onto the target's head (`git merge-tree --write-tree`: no
 * checkout, no rewrite of the branch), for a landing without a check; null when this git cannot
 * (older than 2.38), and the landing rebases as usual. A conflict refuses, naming the files.
 */
async function mergeWithoutCheckout(workspace: GoalWorkspace, target: LandingTarget, goalHead: string): Promise<string | null> {
  const { env, goalId } = workspace;
  const result = await gitRun(workspace.path, ['merge-tree', '--write-tree', '--name-only', '--no-messages', target.head, goalHead], {
    env,
  });
  const [tree = '', ...conflicted] = result.stdout.split('\n').filter(Boolean);
  if (result.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(tree)) return tree;
  if (result.exitCode !== 1 || !/^[0-9a-f]{40,64}$/.test(tree)) return null;
  throw new LandingRefusedError(
    goalId,
    'rebase-conflict',
    `rebasing ${workspace.branch} onto ${target.branch} conflicts in ${conflicted.join(', ')} (the goal's branch is left as it was)`,
    conflicted,
  );
}

/**
 * Rebases the goal's branch onto the target's head in its worktree, after keeping its head as a
 * backup ref; on a conflict, aborts (the branch is as before) and refuses naming the files.
 */
export async function rebaseGoalBranch(workspace: GoalWorkspace, target: LandingTarget, goalId: number): Promise<void> {
  await backupGoalHead(workspace.repoRoot, goalId, await workspace.head(), workspace.env);
  const env = await harnessCommitEnv(workspace.path, workspace.env);
  const result = await gitRun(workspace.path, [...HARNESS_COMMIT_CONFIG, 'rebase', '--quiet', '--no-autosquash', target.head], { env });
  if (result.exitCode === 0) return;
  if ((await inProgressOperation(workspace.path, env)) !== 'rebase') {
    throw new Error(`could not rebase goal #${goalId}'s branch onto ${target.branch}: ${result.stderr.trim().split('\n')[0]}`);
  }
  const conflicted = splitNul(await git(workspace.path, ['diff', '--name-only', '-z', '--diff-filter=U'], { env }));
  await git(workspace.path, ['rebase', '--abort'], { env });
  const where = conflicted.length > 0 ? `conflicts in ${conflicted.join(', ')}` : `stopped: ${result.stderr.trim().split('\n')[0]}`;
  throw new LandingRefusedError(
    goalId,
    'rebase-conflict',
    `rebasing ${workspace.branch} onto ${target.branch} ${where} (the goal's branch is left as it was)`,
    conflicted,
  );
}

async function runCheck(check: NonNullable<LandGoalOptions['check']>, cwd: string, goalId: number): Promise<void> {
  let result: CheckResult;
  try {
    result = await check(cwd);
  } catch (error) {
    throw new LandingRefusedError(goalId, 'check-failed', `the check could not run: ${(error as Error).message}`);
  }
  if (!result.ok) {
    const tail = result.output.trimEnd().split('\n').slice(-CHECK_OUTPUT_LINES).join('\n');
    throw new LandingRefusedError(goalId, 'check-failed', `the check failed on the rebased branch:\n${tail}`);
  }
}

async function treeChanges(cwd: string, from: string, to: string, env: GitEnv): Promise<TreeChange[]> {
  const fields = splitNul(await git(cwd, ['diff-tree', '-r', '-z', '--no-renames', from, to], { env }));
  const changes: TreeChange[] = [];
  // Raw format: `:oldmode newmode oldsha newsha status` then the path, each NUL-terminated.
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, newMode = '', , newSha = '', changeStatus = ''] = fields[i]!.slice(1).split(' ');
    changes.push({ path: fields[i + 1]!, status: changeStatus, newMode, newSha });
  }
  return changes;
}

interface ApplyInput {
  repoRoot: string;
  goalId: number;
  target: LandingTarget;
  commit: string;
  changes: TreeChange[];
  env: GitEnv;
}

/**
 * Moves the developer's branch to the landing commit and brings the goal's files into the index
 * and working tree, holding the index lock throughout (as git itself does) so no `git add` or
 * `git commit` of the developer's interleaves. The new index is built in a scratch file from a copy
 * of the developer's index (their staged changes carried over) and renamed into place last.
 *
 * Order, and what a crash at each point would leave: working tree files written (the goal's
 * changes show as uncommitted edits), branch moved with compare-and-swap (they show as staged
 * reversals until `git reset -- <files>`), index renamed in (done). A leftover `index.lock` is
 * reported by git with its usual advice.
 */
async function moveBranchAndApply({ repoRoot, goalId, target, commit, changes, env }: ApplyInput): Promise<void> {
  const indexFile = await gitPath(repoRoot, 'index', env);
  const lockFile = `${indexFile}.lock`;
  const scratchIndex = `${indexFile}${SCRATCH_INDEX_INFIX}${process.pid}`;
  await removeDeadLandingsLeftovers(indexFile);
  if (!(await takeIndexLock(lockFile))) {
    throw new LandingRefusedError(
      goalId,
      'index-locked',
      `another git command is using ${repoRoot} (${lockFile} exists; if no git command runs, delete that file)`,
    );
  }
  try {
    // The check may have run for minutes: the developer may have committed, switched or edited since.
    const now = await landingTarget(repoRoot, goalId, env);
    if (now.branch !== target.branch || now.head !== target.head) {
      throw new LandingRefusedError(goalId, 'branch-moved', `${target.branch} moved on while the goal was checked; land it again`);
    }
    const files = changes.map((change) => change.path);
    await refuseUncommittedChanges(repoRoot, goalId, target.head, commit, files, env);

    const scratchEnv = { ...env, GIT_INDEX_FILE: scratchIndex };
    await copyFile(indexFile, scratchIndex).catch(async (error: NodeJS.ErrnoException) => {
      // No index at all (possible right after `git init` + `update-ref`): start from the branch head.
      if (error.code !== 'ENOENT') throw error;
      await git(repoRoot, ['read-tree', target.head], { env: scratchEnv });
    });
    const zeroSha = '0'.repeat(commit.length);
    const indexInfo = changes
      .map((change) => (change.status === 'D' ? `0 ${zeroSha}\t${change.path}\0` : `${change.newMode} ${change.newSha}\t${change.path}\0`))
      .join('');
    await git(repoRoot, ['update-index', '-z', '--index-info'], { env: scratchEnv, input: indexInfo });

    const deleted = changes.filter((change) => change.status === 'D').map((change) => change.path);
    const written = changes.filter((change) => change.status !== 'D').map((change) => change.path);
    try {
      await deleteFiles(repoRoot, deleted);
      if (written.length > 0) {
        const input = written.map((file) => `${file}\0`).join('');
        await git(repoRoot, ['checkout-index', '-f', '-u', '-z', '--stdin'], { env: scratchEnv, input });
      }
      // Compare-and-swap through HEAD (its reflog and the branch's both record the landing).
      const moved = await gitRun(repoRoot, ['update-ref', '-m', `Ralph: land goal #${goalId}`, 'HEAD', commit, target.head], { env });
      if (moved.exitCode !== 0) {
        throw new LandingRefusedError(goalId, 'branch-moved', `${target.branch} moved on while the goal landed; land it again`);
      }
    } catch (error) {
      // The branch did not move: the goal's files go back to what the (untouched) index says.
      await restoreFiles(repoRoot, changes, env).catch((restoreError: Error) => {
        throw new Error(
          `${(error as Error).message}; putting the goal's files back failed too (${restoreError.message}): see git status in ${repoRoot}`,
        );
      });
      throw error;
    }
    await rename(scratchIndex, indexFile);
  } finally {
    await rm(scratchIndex, { force: true });
    await unlink(lockFile);
  }
}

/** The scratch index of a landing is `<index>.ralph-land-<pid>`: the pid says whose it is. */
const SCRATCH_INDEX_INFIX = '.ralph-land-';
/** What a landing writes in the index lock it holds, so a lock left by a landing that died is known as one. */
const LANDING_LOCK = /^ralph-land pid=(\d+)\n$/;

/**
 * Takes git's index lock for a landing: false when someone holds it. The lock file is made whole
 * (written aside, then linked into place, which fails if it exists) and says which process holds
 * it, so a lock left behind by a daemon that died mid-landing is recognized and taken over rather
 * than blocking every landing after it; any other lock (git's own) is never touched.
 */
async function takeIndexLock(lockFile: string): Promise<boolean> {
  const aside = tempFileFor(lockFile);
  await writeFile(aside, `ralph-land pid=${process.pid}\n`, { flag: 'wx' });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await link(aside, lockFile);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (attempt === 2 || !(await removeDeadLandingLock(lockFile))) return false;
      }
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Removes the index lock if a landing whose process is gone left it; true if it did. */
async function removeDeadLandingLock(lockFile: string): Promise<boolean> {
  const text = await readFile(lockFile, 'utf8').catch(() => '');
  const owner = LANDING_LOCK.exec(text);
  if (!owner || isProcessAlive(Number(owner[1]))) return false;
  await unlink(lockFile).catch(() => undefined);
  return true;
}

/** Scratch indexes and lock files written aside by landings whose process is gone. */
async function removeDeadLandingsLeftovers(indexFile: string): Promise<void> {
  const dir = path.dirname(indexFile);
  await removeStrayTempFiles(dir).catch(() => undefined);
  const prefix = `${path.basename(indexFile)}${SCRATCH_INDEX_INFIX}`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isProcessAlive(pid)) await rm(path.join(dir, name), { force: true });
  }
}

/** Deletes files the goal deleted (verified clean), and the folders that leaves empty, as git would. */
async function deleteFiles(repoRoot: string, files: string[]): Promise<void> {
  for (const file of files) {
    await rm(path.join(repoRoot, file), { force: true });
    for (let dir = path.dirname(file); dir !== '.' && dir !== ''; dir = path.dirname(dir)) {
      try {
        await rmdir(path.join(repoRoot, dir));
      } catch {
        break; // not empty (or already gone): its parents are not empty either
      }
    }
  }
}

/** Puts the goal's files back as the developer's (untouched) index has them, when the branch could not be moved. */
async function restoreFiles(repoRoot: string, changes: TreeChange[], env: GitEnv): Promise<void> {
  const added = changes.filter((change) => change.status === 'A').map((change) => change.path);
  const existing = changes.filter((change) => change.status !== 'A').map((change) => change.path);
  await deleteFiles(repoRoot, added);
  if (existing.length > 0) {
    await git(repoRoot, ['checkout-index', '-f', '-z', '--stdin'], { env, input: existing.map((file) => `${file}\0`).join('') });
  }
}
