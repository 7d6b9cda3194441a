// @ts-check
/**
 * Where a repository's spare TUI listens (tui/spare/): one unix socket per repository, in a folder
 * only this user may enter. Plain JavaScript shared by the thin `ralph` (tui/bin/attach.js), which
 * runs before anything else loads, and the spare itself.
 *
 * The folder is $XDG_RUNTIME_DIR/ralph (a per-user tmpfs the system made private), else
 * <tmpdir>/ralph-<uid>. It is checked with lstat, never followed: a real folder (no link), owned by
 * this user, with no access for anyone else. /tmp is shared, so someone may have made
 * /tmp/ralph-<uid> first to catch the terminals of whoever uses it: such a folder is refused,
 * never used or repaired. Anyone who can enter the folder could talk to a spare (which runs
 * commands in the user's name: the editor), so the folder is the whole authentication.
 *
 * The socket's name is a hash of the repository root's real path (unix socket paths hold at most
 * 107 bytes, a repository's path may not fit): the handshake names the root, so two repositories
 * that shared a hash would be refused, never mixed.
 */
import { lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Linux's limit for a socket path (sun_path is 108 bytes, with the closing NUL). */
const MAX_SOCKET_PATH = 107;

/** Why a spare cannot be used here, when it cannot (for RALPH_DEBUG and the tests). */
export class SpareUnavailable extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'SpareUnavailable';
  }
}

/**
 * The private folder of this user's spares, made when it is missing (mode 0700).
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function spareFolder(env = process.env) {
  const uid = process.getuid?.();
  if (uid === undefined) throw new SpareUnavailable('no user id on this platform');
  const runtime = env.XDG_RUNTIME_DIR;
  const dir =
    runtime && path.isAbsolute(runtime) && isPrivateFolder(runtime, uid)
      ? path.join(runtime, 'ralph')
      : path.join(tmpdir(), `ralph-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST')
      throw new SpareUnavailable(`cannot make ${dir}: ${messageOf(error)}`);
  }
  const info = lstatSync(dir);
  if (!info.isDirectory()) throw new SpareUnavailable(`${dir} is not a folder (a link or a file): refused`);
  if (info.uid !== uid) throw new SpareUnavailable(`${dir} belongs to another user (uid ${info.uid}): refused`);
  if ((info.mode & 0o077) !== 0)
    throw new SpareUnavailable(`${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)}): refused`);
  return dir;
}

/** @param {string} dir @param {number} uid */
function isPrivateFolder(dir, uid) {
  try {
    const info = statSync(dir);
    return info.isDirectory() && info.uid === uid && (info.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * The socket of the spare for a repository (its root, as git or findRepoRootQuickly names it).
 * @param {string} repoRoot
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function spareSocketPath(repoRoot, env = process.env) {
  const socket = path.join(spareFolder(env), `tui-${hashOf(realpathSync(repoRoot))}.sock`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new SpareUnavailable(`the socket path is too long for a unix socket: ${socket}`);
  return socket;
}

/**
 * The top folder of the repository that holds `dir`, found without running git: the first folder
 * up that holds `.git` (a folder, or a file for a worktree or submodule), as a real path. Null when
 * there is none: the caller then leaves the question to git (the normal start).
 * @param {string} dir
 * @returns {string | null}
 */
export function findRepoRootQuickly(dir) {
  let current;
  try {
    current = realpathSync(dir);
  } catch {
    return null;
  }
  for (;;) {
    try {
      lstatSync(path.join(current, '.git'));
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return null;
      current = parent;
    }
  }
}

/**
 * 64 bits of FNV-1a, as hex: names a socket (not a secret; node:crypto would cost the thin client's start).
 * @param {string} text
 */
export function hashOf(text) {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193) >>> 0;
    high = Math.imul(high ^ code ^ (low >>> 7), 0x01000193) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
