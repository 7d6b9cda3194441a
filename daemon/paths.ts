/** Where everything of Ralph's lives inside a watched repository (DESIGN.md, "Files"). */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { RALPH_DIR, daemonFilePath } from '../protocol/index.ts';

export interface RalphPaths {
  root: string;
  dir: string;
  goals: string;
  logs: string;
  research: string;
  chat: string;
  /** The spend ledger, a file per month (daemon/budget/ledger.ts); git-ignored. */
  spend: string;
  daemonFile: string;
  lock: string;
  /** Daemon-private state (the goal id high-water mark); git-ignored. */
  state: string;
  /** The daemon's own stdout/stderr when started in the background. */
  daemonLog: string;
  gitignore: string;
}

export function ralphPaths(repoRoot: string): RalphPaths {
  const dir = path.join(repoRoot, RALPH_DIR);
  return {
    root: repoRoot,
    dir,
    goals: path.join(dir, 'goals'),
    logs: path.join(dir, 'logs'),
    research: path.join(dir, 'research'),
    chat: path.join(dir, 'chat'),
    spend: path.join(dir, 'spend'),
    daemonFile: daemonFilePath(repoRoot),
    lock: path.join(dir, 'daemon.lock'),
    state: path.join(dir, 'state.json'),
    daemonLog: path.join(dir, 'daemon.log'),
    gitignore: path.join(dir, '.gitignore'),
  };
}

/** The first line of the `.ralph/.gitignore` Ralph writes: a file that starts with it is Ralph's to bring up to date. */
const RALPH_GITIGNORE_HEADER = '# Written by Ralph. Goals and research are shared work and stay in git.';
/** The line before the rules a newer Ralph added to an older Ralph's `.ralph/.gitignore`. */
const RALPH_GITIGNORE_ADDED = '# Added by a newer Ralph:';

/** Kept out of git: everything but goals and research runs, which are shared work. */
export const RALPH_GITIGNORE = [
  RALPH_GITIGNORE_HEADER,
  'logs/',
  'chat/',
  'spend/',
  // Goal worktrees live outside the repository (daemon/pipeline/workspace.ts); ignored here should one be made inside.
  'worktrees/',
  'daemon.json',
  'daemon.lock',
  'daemon.log',
  'state.json',
  // The landing queue and each done goal's landability (daemon/pipeline/landing-book.ts): this daemon's state, not shared work.
  'landing.json',
  'landing.json.invalid',
  '*.tmp',
  '',
].join('\n');

/**
 * The `.ralph/.gitignore` to write over `current` (an existing one), or null to leave it: one Ralph
 * wrote (its first line says so) that lacks rules a newer Ralph adds (the landing queue's state,
 * say) gets them appended under a comment line; anything else in it, the developer's edits
 * included, stays. A file Ralph did not write is the developer's, never changed.
 */
export function updatedRalphGitignore(current: string): string | null {
  if (current.split('\n', 1)[0]?.trimEnd() !== RALPH_GITIGNORE_HEADER) return null;
  const present = new Set(current.split('\n').map((line) => line.trim()));
  const missing = RALPH_GITIGNORE.split('\n').filter((line) => line !== '' && !line.startsWith('#') && !present.has(line));
  if (missing.length === 0) return null;
  const base = current.endsWith('\n') || current === '' ? current : `${current}\n`;
  return `${base}${RALPH_GITIGNORE_ADDED}\n${missing.join('\n')}\n`;
}

/**
 * `.ralph` must be a folder of the repository's own. A repository may carry a `.ralph` that is a
 * link (to another repository's, to a shared or world-readable place): the daemon would then write
 * its token, lock and log where the link points. Refused before anything is written; a missing one
 * is made later as a folder.
 */
export async function checkRalphDir(paths: RalphPaths): Promise<void> {
  let isLink: boolean;
  let isFolder: boolean;
  try {
    const stats = await lstat(paths.dir);
    isLink = stats.isSymbolicLink();
    isFolder = stats.isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (isLink)
    throw new Error(
      `${paths.dir} is a symbolic link: Ralph keeps its token, lock and goals only in a folder of the repository's own (replace the link with a folder)`,
    );
  if (!isFolder) throw new Error(`${paths.dir} is not a folder: move it away so that Ralph can make its folder there`);
}
