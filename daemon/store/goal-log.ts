/**
 * A goal's execution log: `.ralph/logs/<id>.jsonl`, one LogEntry per line, append-only.
 *
 * An entry's `index` is its position among the readable lines of the file, which is what
 * `read` pages by. A crash mid-append can leave a torn last line: readers skip it, and the next
 * append starts on a fresh line so the torn bytes never glue onto a good entry.
 *
 * Logs grow long (a flood of command output), so each log the daemon touches gets an index in
 * memory: the byte offset where each readable entry starts. The file is scanned once to build it
 * (forward, in chunks), appends extend it, and a page — the tail, or any range — reads only the
 * bytes of the entries it returns. The index is checked against the file's size and inode before
 * each use: a log changed by anyone else (deleted, truncated, replaced) is scanned afresh.
 */
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LogEntry, type EventEnvelope } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import { appendLine } from '../fs/atomic-write.ts';
import { ralphPaths } from '../paths.ts';
import { KeyedQueue } from './keyed-queue.ts';

export interface NewLogEntry {
  kind: string;
  text: string;
  [key: string]: unknown;
}

export interface LogPage {
  entries: LogEntry[];
  /** The index to ask for next: after the last entry returned. */
  next: number;
  total: number;
}

/** Which entries to read: a range from `from` (at most `limit`), or the last `tail`. */
export type LogRange = { from?: number; limit?: number; tail?: undefined } | { tail: number; from?: undefined; limit?: undefined };

export interface GoalLogOptions {
  now?: () => Date;
}

/** Where each readable entry of a log file starts, and what the file looked like when that was known. */
interface LogIndex {
  /** Byte offset of the line of entry i (i = its index). */
  starts: number[];
  /** The file's size in bytes as indexed. */
  size: number;
  /** The file's inode (null: there was no file): another inode is another file, even of the same size. */
  ino: number | null;
  /** The file does not end with '\n' (a torn last line): the next append starts with one. */
  endsMidLine: boolean;
}

export const DEFAULT_LOG_PAGE = 1000;

/** Bytes read at a time when scanning a log. */
const SCAN_CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export class GoalLog {
  private readonly dir: string;
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly indexes = new Map<number, LogIndex>();
  /** Appends and reads of one goal's log run in order, so indexes are assigned without gaps. */
  private readonly queue = new KeyedQueue<number>();
  private dirReady: Promise<unknown> | undefined;

  constructor(repoRoot: string, bus: EventBus, options: GoalLogOptions = {}) {
    this.dir = ralphPaths(repoRoot).logs;
    this.bus = bus;
    this.now = options.now ?? (() => new Date());
  }

  fileOf(goalId: number): string {
    return path.join(this.dir, `${goalId}.jsonl`);
  }

  append(goalId: number, entry: NewLogEntry, cause?: EventEnvelope['cause']): Promise<LogEntry> {
    return this.queue.run(goalId, async () => {
      this.dirReady ??= mkdir(this.dir, { recursive: true });
      await this.dirReady;
      const index = await this.indexOf(goalId);
      const { kind, text, goalId: _goalId, index: _index, time: _time, ...extra } = entry;
      const logEntry = LogEntry.parse({ goalId, index: index.starts.length, time: this.now().toISOString(), kind, text, ...extra });
      const line = `${index.endsMidLine ? '\n' : ''}${JSON.stringify(logEntry)}`;
      try {
        await appendLine(this.fileOf(goalId), line);
      } catch (error) {
        // The file may hold part of the line now: index it afresh next time.
        this.indexes.delete(goalId);
        throw error;
      }
      index.starts.push(index.size + (index.endsMidLine ? 1 : 0));
      index.size += Buffer.byteLength(line) + 1; // appendLine ends the line with '\n'
      index.endsMidLine = false;
      this.bus.publish('log.appended', { goalId, entries: [logEntry] }, cause);
      return logEntry;
    });
  }

  /**
   * Entries with index ≥ `from` (default 0), at most `limit` of them; or the last `tail` entries.
   * A missing log is an empty one.
   */
  read(goalId: number, range: LogRange = {}): Promise<LogPage> {
    return this.queue.run(goalId, async () => {
      for (let attempt = 1; ; attempt++) {
        const index = await this.indexOf(goalId);
        const total = index.starts.length;
        const first = range.tail === undefined ? (range.from ?? 0) : Math.max(0, total - range.tail);
        const end = range.tail === undefined ? Math.min(total, first + (range.limit ?? DEFAULT_LOG_PAGE)) : total;
        if (first >= end) return { entries: [], next: first, total };
        const entries = await this.readEntries(goalId, index, first, end);
        if (entries) return { entries, next: end, total };
        // The bytes no longer hold the entries: the file was rewritten in a way its size and inode did not show.
        this.indexes.delete(goalId);
        if (attempt === 2) throw new Error(`the log of goal #${goalId} keeps changing while it is read; read it again`);
      }
    });
  }

  /** The log's index, checked against the file (one stat); built by scanning the file when it is new or stale. */
  private async indexOf(goalId: number): Promise<LogIndex> {
    const file = this.fileOf(goalId);
    const known = this.indexes.get(goalId);
    const now = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (now === null) {
      const empty: LogIndex = { starts: [], size: 0, ino: null, endsMidLine: false };
      this.indexes.set(goalId, empty);
      return empty;
    }
    if (known && known.size === now.size && known.ino === now.ino) return known;
    const index = await scanLog(goalId, file);
    this.indexes.set(goalId, index);
    return index;
  }

  /** Entries first..end-1, read from their bytes alone; null when the bytes no longer hold them (the file changed). */
  private async readEntries(goalId: number, index: LogIndex, first: number, end: number): Promise<LogEntry[] | null> {
    const from = index.starts[first]!;
    const to = end < index.starts.length ? index.starts[end]! : index.size;
    const bytes = Buffer.alloc(to - from);
    const handle = await open(this.fileOf(goalId), 'r');
    try {
      await readFully(handle, bytes, from);
    } finally {
      await handle.close();
    }
    const entries: LogEntry[] = [];
    // Unreadable lines between two entries are skipped here exactly as the scan skipped them.
    forEachLine(bytes, (start, stop) => {
      const entry = parseLine(goalId, bytes.toString('utf8', start, stop), first + entries.length);
      if (entry) entries.push(entry);
    });
    return entries.length === end - first ? entries : null;
  }
}

/** Builds a log's index by reading the file forward in chunks; only the readable lines get an entry. */
async function scanLog(goalId: number, file: string): Promise<LogIndex> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { starts: [], size: 0, ino: null, endsMidLine: false };
    throw error;
  }
  try {
    const { ino } = await handle.stat();
    const starts: number[] = [];
    const chunk = Buffer.alloc(SCAN_CHUNK_BYTES);
    /** The bytes of the line not ended yet (it began in an earlier chunk), and where it starts in the file. */
    let pending = Buffer.alloc(0);
    let pendingStart = 0;
    let size = 0;
    const visit = (line: Buffer, lineStart: number) => {
      if (parseLine(goalId, line.toString('utf8'), starts.length)) starts.push(lineStart);
    };
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, size);
      if (bytesRead === 0) break;
      const data = pending.length > 0 ? Buffer.concat([pending, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let lineStart = 0;
      for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, lineStart)) {
        visit(data.subarray(lineStart, newline), pendingStart + lineStart);
        lineStart = newline + 1;
      }
      // Copied: `chunk` is overwritten by the next read.
      pending = Buffer.from(data.subarray(lineStart));
      pendingStart += lineStart;
      size += bytesRead;
    }
    // The last line has no '\n': readable if it is whole (a hand-written file), skipped if torn.
    if (pending.length > 0) visit(pending, pendingStart);
    return { starts, size, ino, endsMidLine: pending.length > 0 };
  } finally {
    await handle.close();
  }
}

/** Calls `visit` with the [start, stop) of each line in `bytes`, the last one with or without its '\n'. */
function forEachLine(bytes: Buffer, visit: (start: number, stop: number) => void): void {
  let start = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const stop = newline === -1 ? bytes.length : newline;
    visit(start, stop);
    start = stop + 1;
  }
}

/**
 * One line of a log as an entry with position `index`, or null when it is not readable (blank, torn
 * or hand-damaged): the one rule of what counts, shared by the scan and the reads.
 */
function parseLine(goalId: number, line: string, index: number): LogEntry | null {
  if (line.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const parsed = LogEntry.safeParse({ ...json, goalId, index });
  return parsed.success ? parsed.data : null;
}

async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) break; // the file got shorter: the entries will not parse, and the caller rescans
    filled += bytesRead;
  }
}
