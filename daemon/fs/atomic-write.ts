/**
 * Durable file writes (DESIGN.md, "Files"): temp file in the same folder, write, fsync, rename
 * over the target, fsync of the folder. A crash at any point leaves either the old bytes or the
 * new ones, never a mix. (write-file-atomic from npm does not fsync the folder, so the rename
 * itself could be lost on power failure; that is why this is hand-written.)
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isLinkRefusal, linkRefused, NO_FOLLOW, notRegular, readdirIfExists } from './read.ts';
import { isProcessAlive } from '../../protocol/index.ts';

export interface WriteFileAtomicOptions {
  /** File mode of the new file (applied exactly, whatever the umask). Default: 0o666 less the umask. */
  mode?: number;
  /**
   * Test hook: runs after the temp file is written and synced, before the rename. Lets a test
   * kill the process at the worst moment.
   */
  beforeRename?: (tempFile: string) => void | Promise<void>;
  /**
   * false: no fsync, only the rename's atomicity (readers see the old bytes or the new, never a
   * mix), for files that matter only while this machine stays up (a running process's record).
   * Default true.
   */
  durable?: boolean;
}

/** Temp files are `.<base>.<pid>.<random>.tmp`: hidden, and the pid says whose they are. */
const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/** A temp file beside `file`, named so removeStrayTempFiles knows whose it is. */
export function tempFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string, options: WriteFileAtomicOptions = {}): Promise<void> {
  const tempFile = tempFileFor(file);
  let renamed = false;
  try {
    // 'wx': never follow or reuse something already at the temp name.
    const handle = await open(tempFile, 'wx', options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(data, 'utf8');
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.(tempFile);
    await rename(tempFile, file);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tempFile).catch(() => {});
  }
  if (options.durable !== false) await syncFolder(path.dirname(file));
}

/** Makes a rename in `dir` durable. Windows cannot open a folder for fsync; there it is skipped. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Append, create when missing; never through a link (UnsafeFileError), never blocking on a FIFO. */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NO_FOLLOW | (constants.O_NONBLOCK ?? 0);

/**
 * Appends one JSONL line: `line` plus '\n' in one write on a file opened for appending, so
 * concurrent appenders never interleave inside a line. No fsync: logs are not worth a disk flush
 * per line, and a torn last line is something readers tolerate. The file must be a regular file
 * at `file` itself: a symbolic link there (to a file outside the repository) is refused, not followed.
 */
export async function appendLine(file: string, line: string): Promise<void> {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  const handle = await openForAppend(file);
  try {
    let written = 0;
    // One write in practice; the loop only guards against a short write (disk nearly full).
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

/** Creates `file` empty when it is missing; an existing regular file is left as it is (a link refused, as for appendLine). */
export async function createIfMissing(file: string): Promise<void> {
  await (await openForAppend(file)).close();
}

/** Opens a regular file for appending, creating it; a link, FIFO, socket or device is refused (UnsafeFileError). */
async function openForAppend(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, APPEND_FLAGS, 0o666);
  } catch (error) {
    if (isLinkRefusal(error)) throw linkRefused();
    // A FIFO with no reader: O_NONBLOCK makes the open fail instead of waiting.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw notRegular();
    throw error;
  }
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!stats.isFile()) {
    await handle.close();
    throw notRegular();
  }
  return handle;
}

/**
 * Removes temp files left in `dir` by a process that died between writing and renaming them
 * (files of a live process, this one included, are left alone). Returns the names removed.
 */
export async function removeStrayTempFiles(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_FILE.exec(name);
    // Our own temp files (a write in progress) and a live process's are left alone.
    if (!match || Number(match[1]) === process.pid || isProcessAlive(Number(match[1]))) continue;
    await unlink(path.join(dir, name)).catch(() => {});
    removed.push(name);
  }
  return removed;
}
