/** What the repository watcher needs to know from git: where its folders are and the current branch. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gitRun } from '../git/git.ts';

export interface GitLocation {
  /** This working tree's git folder: holds HEAD (`.git`, or `.git/worktrees/<name>` for a worktree). */
  gitDir: string;
  /** The folder shared by all worktrees: holds `info/exclude`. */
  commonDir: string;
  /** `core.excludesFile` as configured (resolved), or null when unset. */
  excludesFile: string | null;
}

/** git's one-value answer, or null when it fails (or cannot run: then there is no git to ask). */
async function gitOutput(cwd: string, args: string[]): Promise<string | null> {
  const result = await gitRun(cwd, args).catch(() => null);
  return result?.exitCode === 0 ? result.stdout.trim() : null;
}

/** Null when `repoRoot` is not inside a git repository (the watcher then has no branch to report). */
export async function locateGit(repoRoot: string): Promise<GitLocation | null> {
  const dirs = await gitOutput(repoRoot, ['rev-parse', '--absolute-git-dir', '--git-common-dir']);
  if (!dirs) return null;
  const [gitDir, commonDir] = dirs.split('\n');
  if (!gitDir || !commonDir) return null;
  // `config --get` exits 1 when the key is unset, which gitOutput turns into null.
  const excludesFile = await gitOutput(repoRoot, ['config', '--path', '--get', 'core.excludesFile']);
  return { gitDir, commonDir: path.resolve(repoRoot, commonDir), excludesFile: excludesFile || null };
}

const BRANCH_REF_PREFIX = 'ref: refs/heads/';

/**
 * The branch HEAD points at, or null when HEAD is detached (or unreadable). Reads the file
 * instead of running git: HEAD's format is stable and this runs on every checkout.
 */
export async function readBranch(gitDir: string): Promise<string | null> {
  let head: string;
  try {
    head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
  } catch {
    return null;
  }
  return head.startsWith(BRANCH_REF_PREFIX) ? head.slice(BRANCH_REF_PREFIX.length) : null;
}
