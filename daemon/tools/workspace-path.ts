/**
 * Paths the model gives a file tool, resolved inside the workspace (DESIGN.md: "File tools never
 * leave the workspace (real paths checked, symlinks included)"). A path is resolved against the
 * workspace root, then its *real* path (every symlink followed, also a dangling one, also in the
 * folders above it) must still be inside the root's real path. For a file that does not exist
 * yet, the real path of its nearest existing parent decides.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { daemonFilePath, RALPH_DIR } from '../../protocol/index.ts';
import { isGitIgnored } from './file-sources.ts';

export class WorkspacePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspacePathError';
  }
}

export interface WorkspacePath {
  /** The workspace root's real path. */
  realRoot: string;
  /** Where the file really is (symlinks resolved): what to read and write. */
  realPath: string;
  /** The path as the model should see it: relative to the root, forward slashes, '.' for the root. */
  display: string;
}

export interface ResolveOptions {
  /** Refuse paths inside `.git` (the harness owns git). */
  forWrite?: boolean;
}

/** Symlink hops followed before giving up, like the kernel's limit (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

export async function resolveWorkspacePath(root: string, requested: string, options: ResolveOptions = {}): Promise<WorkspacePath> {
  if (requested.includes('\0')) throw new WorkspacePathError(`invalid path (contains a NUL byte): ${JSON.stringify(requested)}`);
  const realRoot = await realpath(root);
  // An absolute path is taken as it is; a relative one is relative to the root.
  const lexical = path.resolve(realRoot, requested.trim() === '' ? '.' : requested);
  const display = toDisplay(path.relative(realRoot, lexical));
  if (!isInside(realRoot, lexical)) throw escapes(requested);

  const realTarget = await realPathAllowingMissing(lexical);
  if (!isInside(realRoot, realTarget)) throw escapes(requested);
  if (options.forWrite && insideGitFolder(path.relative(realRoot, realTarget))) {
    throw new WorkspacePathError(`refused: ${display} is inside .git (Ralph manages git itself)`);
  }
  return { realRoot, realPath: realTarget, display };
}

export interface ReadAccess {
  /** Files git ignores may be read (see ToolContext.readIgnoredFiles). */
  readIgnoredFiles?: boolean;
  signal?: AbortSignal;
}

/**
 * Refuses what the read tools must not show (DESIGN.md, "Secrets"): Ralph's daemon file (it holds
 * the token that commands the daemon), wherever a `.ralph` folder has one, and — unless allowed —
 * files and folders git ignores (`.env`, local credentials). Judged on the real path, so a link
 * to such a file is refused too. Installed dependencies (`node_modules`) stay readable although git
 * ignores them: their sources are what an agent reads to learn a library.
 */
export async function assertReadable(target: WorkspacePath, access: ReadAccess = {}): Promise<void> {
  const relative = path.relative(target.realRoot, target.realPath);
  if (relative === '') return;
  const segments = relative.split(path.sep);
  const display = toDisplay(relative);
  if (segments.at(-1) === DAEMON_FILE && segments.at(-2) === RALPH_FOLDER) {
    throw new WorkspacePathError(`refused: ${display} holds the daemon's access token; no agent reads it`);
  }
  if (access.readIgnoredFiles || segments.includes('node_modules')) return;
  if (await isGitIgnored(target.realRoot, relative, access.signal)) {
    throw new WorkspacePathError(
      `refused: git ignores ${display}, and ignored files (like .env) often hold secrets, so the file tools do not read them ` +
        '(the developer can allow it with secrets.readIgnoredFiles in ralph.config.ts)',
    );
  }
}

/** The daemon file's name in Ralph's folder (protocol/discovery.ts): any `.ralph/daemon.json` in the workspace is refused. */
const RALPH_FOLDER = RALPH_DIR;
const DAEMON_FILE = path.basename(daemonFilePath(''));

function escapes(requested: string): WorkspacePathError {
  return new WorkspacePathError(`path escapes the workspace: ${requested}`);
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

function insideGitFolder(relative: string): boolean {
  return relative.split(path.sep).includes('.git');
}

function toDisplay(relative: string): string {
  return relative === '' ? '.' : relative.split(path.sep).join('/');
}

/**
 * The real path of `target`, which may not exist: a missing file gets the real path of its
 * folder plus its name, and a symlink whose target is missing is followed to where a write
 * through it would land (so a dangling link pointing outside is caught too).
 */
async function realPathAllowingMissing(target: string, hops = 0): Promise<string> {
  if (hops > MAX_SYMLINK_HOPS) throw new WorkspacePathError(`too many levels of symlinks: ${target}`);
  try {
    return await realpath(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
  const parent = path.dirname(target);
  let entry;
  try {
    entry = await lstat(target);
  } catch {
    // Nothing there: the file would be created in its (real) parent folder.
    if (parent === target) return target;
    return path.join(await realPathAllowingMissing(parent, hops), path.basename(target));
  }
  if (entry.isSymbolicLink()) {
    const linkTarget = path.resolve(await realPathAllowingMissing(parent, hops), await readlink(target));
    return realPathAllowingMissing(linkTarget, hops + 1);
  }
  // It exists yet realpath failed (a file used as a folder further up): the real parent decides.
  return path.join(await realPathAllowingMissing(parent, hops), path.basename(target));
}
