/**
 * Which repository a command is about: the git root above a folder. git is asked without the
 * variables that name a repository outright (GIT_DIR, ...): the daemon drops the same ones, so the
 * command and the daemon it starts agree on the repository (protocol/git-environment.ts says why).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gitEnvironment } from '../../protocol/git-environment.ts';

const execFileAsync = promisify(execFile);

/** The folder is not inside a git repository (or does not exist): a user error, not a bug. */
export class NotARepositoryError extends Error {
  readonly dir: string;
  constructor(dir: string, reason = `not inside a git repository: ${dir} (use --repo DIR)`) {
    super(reason);
    this.name = 'NotARepositoryError';
    this.dir = dir;
  }
}

/** The top folder of the git repository that holds `dir` (as git reports it: an absolute real path). */
export async function findRepoRoot(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  const info = await stat(absolute).catch(() => null);
  if (!info) throw new NotARepositoryError(absolute, `no such folder: ${absolute}`);
  if (!info.isDirectory()) throw new NotARepositoryError(absolute, `not a folder: ${absolute}`);
  try {
    const { stdout } = await execFileAsync('git', ['rev-parse', '--show-toplevel'], {
      cwd: absolute,
      env: gitEnvironment(process.env),
      encoding: 'utf8',
    });
    const root = stdout.trim();
    // Empty inside a .git folder or a bare repository: there is no working tree to serve.
    if (!root) throw new NotARepositoryError(absolute);
    return root;
  } catch (error) {
    if (error instanceof NotARepositoryError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotARepositoryError(absolute, 'git is not installed (or not on PATH)');
    }
    throw new NotARepositoryError(absolute);
  }
}
