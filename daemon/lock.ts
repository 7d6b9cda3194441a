/**
 * One daemon per repository: `.ralph/daemon.lock` holds `{pid, startedAt}` of the daemon that serves it.
 * A second daemon sees a live pid and refuses; a dead daemon's leftover (or a garbled file) is taken over.
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { RALPH_DIR, isProcessAlive } from '../protocol/index.ts';

const LockContent = z.object({ pid: z.int().positive(), startedAt: z.string() });
type LockContent = z.infer<typeof LockContent>;

export class DaemonRunningError extends Error {
  readonly pid: number;
  readonly repoRoot: string;
  constructor(pid: number, repoRoot: string) {
    super(`another Ralph daemon (pid ${pid}) serves ${repoRoot}`);
    this.name = 'DaemonRunningError';
    this.pid = pid;
    this.repoRoot = repoRoot;
  }
}

export interface DaemonLock {
  readonly path: string;
  readonly pid: number;
  /** Removes the lock file, but only while it is still ours (never another daemon's). */
  release(): Promise<void>;
}


/** Locks this process holds, by path: a second in-process daemon (tests) must be refused too. */
const heldHere = new Set<string>();

/**
 * Whether the holder is a running daemon. Our own pid counts only when this process really holds the
 * lock; otherwise it is a leftover from an earlier process that had the same pid. (A dead daemon's pid
 * reused by an unrelated process looks alive: then the user is told that pid serves the repository and
 * can delete the lock file; telling processes apart portably would need their start times.)
 */
function isHeldByLiveDaemon(lockPath: string, holder: LockContent): boolean {
  if (holder.pid === process.pid) return heldHere.has(lockPath);
  return isProcessAlive(holder.pid);
}

/** The lock's holder, or null when the file is garbage (unreadable JSON, wrong shape). Throws ENOENT through. */
async function readHolder(lockPath: string): Promise<LockContent | null> {
  const text = await readFile(lockPath, 'utf8');
  try {
    const parsed = LockContent.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Creates the lock exclusively. The content is written to a private temporary file first and then
 * hard-linked into place: `link` fails with EEXIST like `open(..., 'wx')` does, but the lock appears
 * with its whole content at once, so a concurrent starter never reads a half-written (empty) lock and
 * mistakes it for garbage.
 */
async function tryCreate(lockPath: string, content: LockContent): Promise<boolean> {
  const temp = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/**
 * Takes the repository's daemon lock (`<repo>/.ralph/daemon.lock`), creating `.ralph/` if needed.
 * Throws DaemonRunningError when a live process holds it.
 */
export async function acquireDaemonLock(lockPath: string): Promise<DaemonLock> {
  // The lock lives in <repo>/.ralph/, so the repository is two levels up.
  const repoRoot = path.basename(path.dirname(lockPath)) === RALPH_DIR ? path.dirname(path.dirname(lockPath)) : path.dirname(lockPath);
  await mkdir(path.dirname(lockPath), { recursive: true });
  const mine: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };

  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryCreate(lockPath, mine)) return heldLock(lockPath, mine);
    let holder: LockContent | null;
    try {
      holder = await readHolder(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw error;
    }
    if (holder && isHeldByLiveDaemon(lockPath, holder)) throw new DaemonRunningError(holder.pid, repoRoot);
    // A dead daemon's leftover or garbage: take it over.
    // Remaining race: two starters that both find the same stale lock may both get here; the slower one's
    // unlink can then remove the lock the faster one has just created, and both would run. Starts are
    // rare and human-paced (the CLI starts one daemon), so this is accepted rather than solved with a
    // second lock level.
    await unlink(lockPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  // Two rounds lost: another starter keeps taking it. Report it when it is alive by now.
  const holder = await readHolder(lockPath).catch(() => null);
  if (holder && isHeldByLiveDaemon(lockPath, holder)) throw new DaemonRunningError(holder.pid, repoRoot);
  throw new Error(`could not take the daemon lock ${lockPath}: another daemon is starting`);
}

function heldLock(lockPath: string, mine: LockContent): DaemonLock {
  heldHere.add(lockPath);
  let released = false;
  return {
    path: lockPath,
    pid: mine.pid,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(lockPath);
      const holder = await readHolder(lockPath).catch(() => null);
      if (!holder || holder.pid !== mine.pid || holder.startedAt !== mine.startedAt) return;
      await unlink(lockPath).catch(() => {});
    },
  };
}
