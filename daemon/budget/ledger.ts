/**
 * The spend ledger: one line of JSON per model call the daemon paid for, appended to
 * `.ralph/spend/<YYYY-MM>.jsonl` (the local month of the call; git-ignored), so what was spent
 * today and this month survives restarts and says which goal, research run or chat session spent it.
 *
 * A line holds numbers, the model's name and the scope's ids, never text an agent wrote (nor a
 * secret). The file is read as hostile: in bounded chunks, a line longer than a cap or one that does
 * not parse is skipped and reported (how many, which file), never a crash; a link is not followed.
 * A line cut short by a crash is ended before the next one is appended.
 */
import { constants } from 'node:fs';
import { appendFile, mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { GoalId } from '../../protocol/index.ts';
import { isLinkRefusal, NO_FOLLOW } from '../fs/read.ts';

/** Who spent: an iteration of a goal, a research run, or a chat session. */
export const SpendScope = z.union([
  z.strictObject({ goalId: GoalId, iteration: z.int().positive() }),
  z.strictObject({ researchId: z.string().max(200) }),
  z.strictObject({ chat: z.string().max(200) }),
]);
export type SpendScope = z.infer<typeof SpendScope>;

const Tokens = z.int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** One model call (or an external agent's report of several) as the ledger keeps it. */
export const SpendEntry = z.object({
  at: z.iso.datetime({ offset: true }),
  scope: SpendScope,
  model: z.string().max(200),
  inputTokens: Tokens,
  cachedInputTokens: Tokens,
  outputTokens: Tokens,
  /** null: the model's price is unknown (its tokens still count against `dailyTokens`). */
  costUsd: z.number().nonnegative().max(1e9).nullable(),
});
export type SpendEntry = z.infer<typeof SpendEntry>;

/** A line longer than this is not one the daemon wrote: skipped unread. */
const MAX_LINE_BYTES = 16 * 1024;
const CHUNK_BYTES = 64 * 1024;

/** `2026-12` for a date, in local time. */
export function monthKey(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}`;
}

/** `2026-12-03` for a date, in local time. */
export function dayKey(date: Date): string {
  return `${monthKey(date)}-${String(date.getDate()).padStart(2, '0')}`;
}

export class SpendLedger {
  readonly dir: string;
  private readonly report: (message: string) => void;
  /** Appends one at a time, in order. */
  private tail: Promise<void> = Promise.resolve();
  /** Months whose file may end in a line cut short (found so when read, or not read yet): a newline goes first. */
  private readonly needsNewline = new Set<string>();
  private dirReady = false;

  /** `report`: a line for the daemon's log (a bad line skipped, a write that failed). */
  constructor(dir: string, report: (message: string) => void) {
    this.dir = dir;
    this.report = report;
  }

  fileOf(month: string): string {
    return path.join(this.dir, `${month}.jsonl`);
  }

  /** Appends an entry to its month's file; resolves once written (a failure is reported, not thrown: spend is still counted in memory). */
  append(entry: SpendEntry): Promise<void> {
    const month = monthKey(new Date(entry.at));
    const next = this.tail.then(async () => {
      try {
        await this.ensureDir();
        const lead = this.needsNewline.has(month) ? '\n' : '';
        await appendFile(this.fileOf(month), `${lead}${JSON.stringify(entry)}\n`, {
          flag: constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | NO_FOLLOW,
        });
        this.needsNewline.delete(month);
      } catch (error) {
        this.report(`could not write to ${this.fileOf(month)}: ${(error as Error).message}`);
      }
    });
    this.tail = next;
    return next;
  }

  /**
   * The ledger's folder, with a `.gitignore` of its own: a repository whose `.ralph/.gitignore` an
   * older Ralph wrote (without `spend/`) keeps the ledger out of git all the same.
   */
  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, '.gitignore'), '*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    this.dirReady = true;
  }

  /** Resolves once every append so far is written. */
  flush(): Promise<void> {
    return this.tail;
  }

  /** Every valid entry of a month, in file order; bad lines are skipped and reported. A missing file is an empty month. */
  async read(month: string): Promise<SpendEntry[]> {
    const entries: SpendEntry[] = [];
    const file = this.fileOf(month);
    let bad = 0;
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | NO_FOLLOW | (constants.O_NONBLOCK ?? 0));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return entries;
      this.report(`could not read ${file}: ${isLinkRefusal(error) ? 'it is a symbolic link' : (error as Error).message}`);
      return entries;
    }
    try {
      if (!(await handle.stat()).isFile()) {
        this.report(`could not read ${file}: it is not a regular file`);
        return entries;
      }
      const take = (line: Buffer): void => {
        if (line.length === 0) return;
        const entry = parseLine(line.toString('utf8'));
        if (entry) entries.push(entry);
        else bad++;
      };
      const buffer = Buffer.alloc(CHUNK_BYTES);
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let overlong = false;
      let lastByte = 0x0a;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        lastByte = buffer[bytesRead - 1]!;
        let start = 0;
        for (let newline = buffer.indexOf(0x0a, start); newline !== -1 && newline < bytesRead; newline = buffer.indexOf(0x0a, start)) {
          const piece = buffer.subarray(start, newline);
          if (overlong || pendingBytes + piece.length > MAX_LINE_BYTES) bad++;
          else take(Buffer.concat([...pending, piece]));
          pending = [];
          pendingBytes = 0;
          overlong = false;
          start = newline + 1;
        }
        const rest = buffer.subarray(start, bytesRead);
        if (overlong || pendingBytes + rest.length > MAX_LINE_BYTES) {
          overlong = true;
          pending = [];
          pendingBytes = 0;
        } else if (rest.length > 0) {
          pending.push(Buffer.from(rest));
          pendingBytes += rest.length;
        }
      }
      // The last line without its newline: a write a crash cut short, or whole but unterminated.
      if (overlong) bad++;
      else if (pendingBytes > 0) take(Buffer.concat(pending));
      if (lastByte !== 0x0a) this.needsNewline.add(month);
    } finally {
      await handle.close();
    }
    if (bad > 0) this.report(`${file}: ${bad} ${bad === 1 ? 'line' : 'lines'} that are not spend entries skipped`);
    return entries;
  }
}

function parseLine(text: string): SpendEntry | null {
  try {
    const parsed = SpendEntry.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
