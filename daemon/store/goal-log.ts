/**
 * A goal's execution log: `.ralph/logs/<id>.jsonl`, one LogEntry per line, append-only.
 *
 * An entry's `index` is its position among the readable lines of the file, which is what
 * `read` pages by. A crash mid-append can leave a torn last line: readers skip it, and the next
 * append starts on a fresh line so the torn bytes never glue onto a good entry.
 */
import { mkdir, readFile } from 'node:fs/promises';
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

export interface GoalLogOptions {
  now?: () => Date;
}

/** What appending needs to know about a log file, kept so an append never re-reads the file. */
interface LogFileState {
  count: number;
  /** The file does not end with '\n' (a torn last line): the next append starts with one. */
  endsMidLine: boolean;
}

export const DEFAULT_LOG_PAGE = 1000;

export class GoalLog {
  private readonly dir: string;
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly files = new Map<number, LogFileState>();
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
      const state = this.files.get(goalId) ?? (await this.scan(goalId));
      const { kind, text, goalId: _goalId, index: _index, time: _time, ...extra } = entry;
      const logEntry = LogEntry.parse({ goalId, index: state.count, time: this.now().toISOString(), kind, text, ...extra });
      const line = JSON.stringify(logEntry);
      try {
        await appendLine(this.fileOf(goalId), state.endsMidLine ? `\n${line}` : line);
      } catch (error) {
        // The file may hold part of the line now: count it afresh next time.
        this.files.delete(goalId);
        throw error;
      }
      this.files.set(goalId, { count: state.count + 1, endsMidLine: false });
      this.bus.publish('log.appended', { goalId, entries: [logEntry] }, cause);
      return logEntry;
    });
  }

  /** Entries with index ≥ `from`, at most `limit` of them. A missing log is an empty one. */
  read(goalId: number, { from = 0, limit = DEFAULT_LOG_PAGE }: { from?: number; limit?: number } = {}): Promise<LogPage> {
    return this.queue.run(goalId, async () => {
      const { entries: all } = parseLog(goalId, await this.readText(goalId));
      const entries = all.slice(from, from + limit);
      return { entries, next: from + entries.length, total: all.length };
    });
  }

  private async scan(goalId: number): Promise<LogFileState> {
    const text = await this.readText(goalId);
    const { entries, endsMidLine } = parseLog(goalId, text);
    const state = { count: entries.length, endsMidLine };
    this.files.set(goalId, state);
    return state;
  }

  private async readText(goalId: number): Promise<string> {
    try {
      return await readFile(this.fileOf(goalId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }
}

/**
 * The readable entries of a log file, in order, each with its position as `index` (a torn or
 * hand-damaged line is skipped, and positions are what paging and appending both count).
 */
function parseLog(goalId: number, text: string): { entries: LogEntry[]; endsMidLine: boolean } {
  const lines = text.split('\n');
  const endsMidLine = lines.at(-1) !== '';
  const entries: LogEntry[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) continue;
    const parsed = LogEntry.safeParse({ ...json, goalId, index: entries.length });
    if (parsed.success) entries.push(parsed.data);
  }
  return { entries, endsMidLine };
}
