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

/** Kept out of git: everything but goals and research runs, which are shared work. */
export const RALPH_GITIGNORE = [
  '# Written by Ralph. Goals and research are shared work and stay in git.',
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
