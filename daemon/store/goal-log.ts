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
 *
 * Appends are group-committed: those that arrive while the goal's previous write is in flight (or
 * before the queued writer takes them) go to disk in one append and out as one `log.appended`
 * event per run of the same cause. A flood of lines thus costs few syscalls and few events, and
 * clients apply a whole run at once; a lone append still starts its write at once (no timer).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LogEntry, RALPH_DIR, type EventEnvelope } from '../../protocol/index.ts';
import { ConflictError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { appendLine } from '../fs/atomic-write.ts';
import { isLinkRefusal, NO_FOLLOW } from '../fs/read.ts';
import { ralphPaths } from '../paths.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
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
  /** The daemon's secrets: redacted from every entry before it is written or sent. Default: none. */
  secrets?: DaemonSecrets;
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

type Cause = EventEnvelope['cause'];

/** An append waiting for its goal's next write. */
interface PendingAppend {
  /** Validated and final but for `index`, which is known only when its batch is written. */
  entry: LogEntry;
  cause: Cause;
  resolve: (entry: LogEntry) => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_LOG_PAGE = 1000;

/** One write (and its events) takes at most this many entries or bytes, whichever comes first, so a frame stays reasonable. */
export const MAX_BATCH_ENTRIES = 1000;
export const MAX_BATCH_BYTES = 512 * 1024;

/** Bytes read at a time when scanning a log. */
const SCAN_CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
/** Reads never go through a link (a log that is one is refused before this; this closes the race) nor wait on a FIFO. */
const READ_FLAGS = constants.O_RDONLY | NO_FOLLOW | (constants.O_NONBLOCK ?? 0);

export class GoalLog {
  private readonly dir: string;
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly indexes = new Map<number, LogIndex>();
  /** Appends and reads of one goal's log run in order, so indexes are assigned without gaps. */
  private readonly queue = new KeyedQueue<number>();
  /** Per goal, the batch whose writer is queued but has not taken it yet: new appends join it. */
  private readonly waiting = new Map<number, PendingAppend[]>();
  private dirReady: Promise<unknown> | undefined;

  /** What must never reach a log (the goal's journal hands it on to what the goal runs). */
  readonly secrets: DaemonSecrets;

  constructor(repoRoot: string, bus: EventBus, options: GoalLogOptions = {}) {
    this.dir = ralphPaths(repoRoot).logs;
    this.bus = bus;
    this.now = options.now ?? (() => new Date());
    this.secrets = options.secrets ?? DaemonSecrets.none();
  }

  fileOf(goalId: number): string {
    return path.join(this.dir, `${goalId}.jsonl`);
  }

  /** Resolves with the entry as written (its index assigned) once its batch is on disk and published. */
  append(goalId: number, entry: NewLogEntry, cause?: Cause): Promise<LogEntry> {
    const { kind, text, goalId: _goalId, index: _index, time: _time, ...extra } = this.secrets.redactValue(entry);
    let logEntry: LogEntry;
    try {
      // Validated here, so a bad entry fails alone instead of the batch it would join (index 0 until written).
      logEntry = LogEntry.parse({ goalId, index: 0, time: this.now().toISOString(), kind, text, ...extra });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<LogEntry>((resolve, reject) => {
      let batch = this.waiting.get(goalId);
      if (!batch) {
        const queued: PendingAppend[] = [];
        this.waiting.set(goalId, queued);
        void this.queue.run(goalId, () => this.writeBatch(goalId, queued));
        batch = queued;
      }
      batch.push({ entry: logEntry, cause, resolve, reject });
    });
  }

  /** Writes a batch in order, at most a cap per write; never throws: a failure rejects the appends not written. */
  private async writeBatch(goalId: number, batch: PendingAppend[]): Promise<void> {
    let written = 0;
    try {
      this.dirReady ??= ensureRealFolder(this.dir).catch((error: unknown) => {
        this.dirReady = undefined; // tried again by the next write
        throw error;
      });
      await this.dirReady;
      let index = await this.indexOf(goalId);
      // Taken only now, so appends that came during the awaits above join this write.
      this.take(goalId, batch);
      while (written < batch.length) {
        written = await this.writeChunk(goalId, index, batch, written);
        if (written < batch.length) index = await this.indexOf(goalId);
      }
    } catch (error) {
      // The rest of the batch is not written either: its appends come after the failed ones.
      this.take(goalId, batch);
      for (const pending of batch.slice(written)) pending.reject(error);
    }
  }

  /** Closes `batch` to new appends (they start the next one), unless a read closed it already. */
  private take(goalId: number, batch: PendingAppend[]): void {
    if (this.waiting.get(goalId) === batch) this.waiting.delete(goalId);
  }

  /**
   * Writes batch[first..] up to the cap with one append, publishes it and resolves its appends;
   * returns where the rest starts.
   */
  private async writeChunk(goalId: number, index: LogIndex, batch: PendingAppend[], first: number): Promise<number> {
    const lines: string[] = [];
    const lineBytes: number[] = [];
    let bytes = 0;
    let end = first;
    while (end < batch.length && end - first < MAX_BATCH_ENTRIES) {
      const entry = batch[end]!.entry;
      entry.index = index.starts.length + lines.length;
      const line = JSON.stringify(entry);
      const size = Buffer.byteLength(line) + 1; // appendLine ends each line with '\n'
      // At least one entry per write, however long.
      if (lines.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      lines.push(line);
      lineBytes.push(size);
      bytes += size;
      end++;
    }
    const lead = index.endsMidLine ? '\n' : '';
    try {
      await appendLine(this.fileOf(goalId), `${lead}${lines.join('\n')}`);
    } catch (error) {
      // The file may hold part of the lines now: index it afresh next time.
      this.indexes.delete(goalId);
      throw error;
    }
    let offset = index.size + lead.length;
    for (const size of lineBytes) {
      index.starts.push(offset);
      offset += size;
    }
    index.size = offset;
    index.endsMidLine = false;
    const chunk = batch.slice(first, end);
    this.publishRuns(goalId, chunk);
    for (const pending of chunk) pending.resolve(pending.entry);
    return end;
  }

  /**
   * One `log.appended` per run of consecutive entries with the same cause: the cause is the
   * event's, so entries of different requests never share one.
   */
  private publishRuns(goalId: number, chunk: PendingAppend[]): void {
    let runStart = 0;
    for (let i = 1; i <= chunk.length; i++) {
      if (i < chunk.length && sameCause(chunk[i]!.cause, chunk[runStart]!.cause)) continue;
      const entries = chunk.slice(runStart, i).map((pending) => pending.entry);
      this.bus.publish('log.appended', { goalId, entries }, chunk[runStart]!.cause);
      runStart = i;
    }
  }

  /**
   * Entries with index ≥ `from` (default 0), at most `limit` of them; or the last `tail` entries.
   * A missing log is an empty one.
   */
  read(goalId: number, range: LogRange = {}): Promise<LogPage> {
    // Appends made after this call must not join a write queued before it: the read sees exactly
    // the appends made before it, as when each append was its own write.
    this.waiting.delete(goalId);
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

  /**
   * The log's index, checked against the file (one lstat); built by scanning the file when it is new
   * or stale. A log that is not a regular file (a symbolic link, perhaps to a file outside the
   * repository; a folder; a FIFO) is neither read nor appended to: a clear error, the path left as it is.
   */
  private async indexOf(goalId: number): Promise<LogIndex> {
    const file = this.fileOf(goalId);
    const known = this.indexes.get(goalId);
    const now = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (now === null) {
      const empty: LogIndex = { starts: [], size: 0, ino: null, endsMidLine: false };
      this.indexes.set(goalId, empty);
      return empty;
    }
    if (!now.isFile()) {
      this.indexes.delete(goalId);
      const what = now.isSymbolicLink()
        ? 'a symbolic link, which Ralph does not follow'
        : now.isDirectory()
          ? 'a folder'
          : 'not a regular file';
      throw new ConflictError(`the log of goal #${goalId} (${RALPH_DIR}/logs/${goalId}.jsonl) is ${what}; it is left as it is`);
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
    const handle = await openForReading(this.fileOf(goalId), goalId);
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

/**
 * Compared by value: a cause is just these two values on the event, and callers may build a fresh
 * object per append of one request, which identity would split into needless extra events.
 */
function sameCause(a: Cause, b: Cause): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.client === b.client && a.request === b.request;
}

/** Builds a log's index by reading the file forward in chunks; only the readable lines get an entry. */
async function scanLog(goalId: number, file: string): Promise<LogIndex> {
  let handle: FileHandle;
  try {
    handle = await openForReading(file, goalId);
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

/** Makes the logs folder; one that is a symbolic link (logs would land outside the repository) is refused. */
async function ensureRealFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await lstat(dir)).isSymbolicLink()) {
    throw new ConflictError(`${RALPH_DIR}/logs is a symbolic link, which Ralph does not follow: logs are not written`);
  }
}

/** Opens a log for reading; a link put there since the lstat is refused all the same. */
async function openForReading(file: string, goalId: number): Promise<FileHandle> {
  try {
    return await open(file, READ_FLAGS);
  } catch (error) {
    if (isLinkRefusal(error)) {
      throw new ConflictError(
        `the log of goal #${goalId} (${RALPH_DIR}/logs/${goalId}.jsonl) is a symbolic link, which Ralph does not follow`,
      );
    }
    throw error;
  }
}

async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) break; // the file got shorter: the entries will not parse, and the caller rescans
    filled += bytesRead;
  }
}
