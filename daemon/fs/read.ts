/**
 * Reading files of the watched repository, which may be hostile: a file there may be a symbolic
 * link (to a file outside, or to /etc/passwd), a folder, a FIFO (an open for reading would wait
 * for a writer forever, holding one of libuv's few threads) or huge. readRegularFile reads only a
 * regular file at the path itself, never what a link points to, and only up to a cap.
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { formatBytes } from '../../protocol/index.ts';

/** The names in a folder; none when the folder does not exist (yet). */
export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Open flags that refuse a symbolic link as the last part of the path (0 where the platform has no such flag). */
export const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** Why a path was not read: its reason says what it is, never what it holds. */
export class UnsafeFileError extends Error {
  readonly kind: 'link' | 'folder' | 'special' | 'too-large';
  constructor(kind: UnsafeFileError['kind'], message: string) {
    super(message);
    this.name = 'UnsafeFileError';
    this.kind = kind;
  }
}

/** Whether an open with NO_FOLLOW failed because the path is a symbolic link (Linux and macOS: ELOOP; FreeBSD: EMLINK). */
export function isLinkRefusal(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return NO_FOLLOW !== 0 && (code === 'ELOOP' || code === 'EMLINK');
}

export function linkRefused(): UnsafeFileError {
  return new UnsafeFileError('link', 'it is a symbolic link, which Ralph does not follow');
}

/**
 * The bytes of the regular file at `file`, at most `maxBytes` of them. Throws UnsafeFileError when
 * the path is a link, a folder, anything but a regular file, or larger than the cap; other errors
 * (ENOENT, EACCES, ENOTDIR) as they come.
 */
export async function readRegularFile(file: string, { maxBytes }: { maxBytes: number }): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
    handle = await open(file, constants.O_RDONLY | NO_FOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isLinkRefusal(error)) throw linkRefused();
    // A Unix socket cannot be opened at all.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw notRegular();
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new UnsafeFileError('folder', 'it is a folder, not a file');
    if (!stats.isFile()) throw notRegular();
    if (stats.size > maxBytes) throw tooLarge(maxBytes);
    // Read to the end, not to the size stat gave: the file may grow meanwhile (and is still capped).
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(Math.min(Math.max(stats.size, 1), maxBytes) + 1);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

export function notRegular(): UnsafeFileError {
  return new UnsafeFileError('special', 'it is not a regular file (a FIFO, socket or device)');
}

function tooLarge(maxBytes: number): UnsafeFileError {
  return new UnsafeFileError('too-large', `it is larger than ${formatBytes(maxBytes)}, the most Ralph reads of it`);
}
