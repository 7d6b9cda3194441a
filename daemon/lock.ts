/**
 * One daemon per repository: `.ralph/daemon.lock` holds `{pid, startedAt}` of the daemon that serves it.
 * A second daemon sees a live pid and refuses; a dead daemon's leftover (or a garbled file) is taken over.
 */
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RALPH_DIR, isProcessAlive } from '../protocol/index.ts';
import { tempFileFor } from './fs/atomic-write.ts';

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

/** The lock file's text and its holder (null when the text is garbage: unreadable JSON, wrong shape). Throws ENOENT through. */
async function readLock(lockPath: string): Promise<{ text: string; holder: LockContent | null }> {
  const text = await readFile(lockPath, 'utf8');
  try {
    const parsed = LockContent.safeParse(JSON.parse(text));
    return { text, holder: parsed.success ? parsed.data : null };
  } catch {
    return { text, holder: null };
  }
}

async function readHolder(lockPath: string): Promise<LockContent | null> {
  return (await readLock(lockPath)).holder;
}

/**
 * Removes the stale lock whose text was `staleText`, never a lock another starter has just put in
 * its place: the file is first renamed to a private name (atomic: of two starters, one moves it),
 * then read. Not the stale one: another starter took the lock meanwhile; it is put back, and false
 * says so. (Only three starters racing at the same instant could still lose the winner's file.)
 */
async function removeStaleLock(lockPath: string, staleText: string): Promise<boolean> {
  const aside = tempFileFor(lockPath);
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // removed meanwhile: free to take
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => null);
  if (moved !== staleText) await link(aside, lockPath).catch(() => {}); // another starter's lock: back in place
  await unlink(aside).catch(() => {});
  return moved === staleText;
}

/**
 * Creates the lock exclusively. The content is written to a private temporary file first and then
 * hard-linked into place: `link` fails with EEXIST like `open(..., 'wx')` does, but the lock appears
 * with its whole content at once, so a concurrent starter never reads a half-written (empty) lock and
 * mistakes it for garbage.
 */
async function tryCreate(lockPath: string, content: LockContent): Promise<boolean> {
  const temp = tempFileFor(lockPath);
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
export async function acquireDaemonLock(lockPath: string, hooks: AcquireHooks = {}): Promise<DaemonLock> {
  // The lock lives in <repo>/.ralph/, so the repository is two levels up.
  const repoRoot = path.basename(path.dirname(lockPath)) === RALPH_DIR ? path.dirname(path.dirname(lockPath)) : path.dirname(lockPath);
  await mkdir(path.dirname(lockPath), { recursive: true });
  const mine: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(lockPath, mine)) return heldLock(lockPath, mine);
    let lock: { text: string; holder: LockContent | null };
    try {
      lock = await readLock(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw error;
    }
    if (lock.holder && isHeldByLiveDaemon(lockPath, lock.holder)) throw new DaemonRunningError(lock.holder.pid, repoRoot);
    // A dead daemon's leftover or garbage: take it over, unless another starter does first (the next round reads it).
    await hooks.beforeTakeover?.();
    await removeStaleLock(lockPath, lock.text);
  }
  // Rounds lost: another starter keeps taking it. Report it when it is alive by now.
  const holder = await readHolder(lockPath).catch(() => null);
  if (holder && isHeldByLiveDaemon(lockPath, holder)) throw new DaemonRunningError(holder.pid, repoRoot);
  throw new Error(`could not take the daemon lock ${lockPath}: another daemon is starting`);
}

export interface AcquireHooks {
  /** Test hook: runs after a stale lock is found, before it is taken over (where a rival starter may win). */
  beforeTakeover?: () => Promise<void>;
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
