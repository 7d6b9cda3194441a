/**
 * Research runs on disk: `.ralph/research/<id>.json`, one file per run, written atomically. Ids sort
 * by time (`r-20261126-100501-ab12`: UTC date and time, then a random part), so a listing of the
 * folder is a history. A file that does not parse is reported and left alone, never overwritten;
 * so is one that is a link, a folder, a FIFO, larger than MAX_RUN_FILE_BYTES or not UTF-8 (the
 * repository may be hostile: such a file is not even read, and no report quotes what it holds).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RALPH_DIR, ResearchRun } from '../../protocol/index.ts';
import { removeStrayTempFiles, writeFileAtomic } from '../fs/atomic-write.ts';
import { parseJsonBytes } from '../fs/json-text.ts';
import { readdirIfExists, readRegularFile, UnsafeFileError } from '../fs/read.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';

const RUN_ID = /^r-\d{8}-\d{6}-[0-9a-f]{4}$/;
const RUN_FILE = /^(r-\d{8}-\d{6}-[0-9a-f]{4})\.json$/;

/** A research run file larger than this is not read (eight agents' reports fit many times over). */
export const MAX_RUN_FILE_BYTES = 16 * 1024 * 1024;

/** The reason written into runs (and their unfinished agents) that a daemon left running. */
export const DAEMON_STOPPED = 'the daemon stopped during the run';

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/** A new run id for a run started at `now`. */
export function newRunId(now: Date): string {
  const iso = now.toISOString(); // 2026-11-26T10:05:01.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `r-${stamp}-${randomBytes(2).toString('hex')}`;
}

export class ResearchStore {
  readonly dir: string;
  private readonly onError: (message: string) => void;
  /** Writes of one run happen one at a time, in the order asked: the last state asked for is the one on disk. */
  private readonly writes = new KeyedQueue<string>();
  /**
   * A write queued behind the one in progress, with the newest text for it: saves asked for meanwhile
   * only replace the text (eight agents ending at once cost two writes, not eight fsyncs in a row).
   */
  private readonly queued = new Map<string, { text: string; written: Promise<void> }>();
  private ensuredDir: Promise<unknown> | undefined;
  /** The daemon's secrets come out of a run before it is written. */
  private readonly redact: <T>(value: T) => T;

  constructor(dir: string, onError: (message: string) => void, redact: <T>(value: T) => T = (value) => value) {
    this.dir = dir;
    this.onError = onError;
    this.redact = redact;
  }

  fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Writes the run as it is now (a copy is taken at once; later changes need another save). Resolves once it is on disk. */
  save(run: ResearchRun): Promise<void> {
    const text = `${JSON.stringify(this.redact(run), null, 2)}\n`;
    const waiting = this.queued.get(run.id);
    if (waiting) {
      waiting.text = text;
      return waiting.written;
    }
    const entry = { text, written: Promise.resolve() };
    this.queued.set(run.id, entry);
    entry.written = this.writes.run(run.id, async () => {
      this.queued.delete(run.id); // from now on, a save queues the next write
      this.ensuredDir ??= ensureRealFolder(this.dir).catch((error: unknown) => {
        this.ensuredDir = undefined; // checked again by the next save
        throw error;
      });
      await this.ensuredDir;
      await writeFileAtomic(this.fileOf(run.id), entry.text);
    });
    return entry.written;
  }

  /** The run saved under `id`; undefined when there is none or its file does not parse (reported). */
  async load(id: string): Promise<ResearchRun | undefined> {
    if (!isRunId(id)) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readRegularFile(this.fileOf(id), { maxBytes: MAX_RUN_FILE_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (error instanceof UnsafeFileError) {
        this.onError(`${this.fileOf(id)} is not read: ${error.message}; it is left as it is`);
        return undefined;
      }
      throw error;
    }
    return this.parse(id, bytes);
  }

  /** Whether a run file exists under `id` (parsing or not). */
  async exists(id: string): Promise<boolean> {
    return (await readdirIfExists(this.dir)).includes(`${id}.json`);
  }

  /** The ids on disk, newest first. */
  async ids(): Promise<string[]> {
    const names = await readdirIfExists(this.dir);
    return names
      .flatMap((name) => RUN_FILE.exec(name)?.[1] ?? [])
      .sort()
      .reverse();
  }

  /**
   * Runs a daemon left `running` (it stopped or crashed during them) become `failed`, with their
   * unfinished agents, saying why. Returns the runs changed.
   */
  async recover(now: Date, consolidate: (run: ResearchRun) => string): Promise<ResearchRun[]> {
    await removeStrayTempFiles(this.dir).catch(() => []);
    const recovered: ResearchRun[] = [];
    for (const id of await this.ids()) {
      const run = await this.load(id).catch(() => undefined);
      if (run?.status !== 'running') continue;
      const endedAt = now.toISOString();
      for (const agent of run.agents) {
        if (agent.status !== 'queued' && agent.status !== 'running') continue;
        agent.status = 'failed';
        agent.error = DAEMON_STOPPED;
        agent.endedAt = endedAt;
        delete agent.activity;
      }
      run.status = 'failed';
      run.endedAt = endedAt;
      run.consolidated ??= consolidate(run);
      await this.save(run);
      recovered.push(run);
    }
    return recovered;
  }

  /** Resolves once every write asked for so far has ended. */
  idle(): Promise<void> {
    return this.writes.idle();
  }

  private parse(id: string, bytes: Buffer): ResearchRun | undefined {
    const json = parseJsonBytes(bytes);
    if (!json.ok) {
      this.onError(`${this.fileOf(id)} is ${json.error}; it is left as it is`);
      return undefined;
    }
    let parsed: ReturnType<typeof ResearchRun.safeParse>;
    try {
      parsed = ResearchRun.safeParse(json.value);
    } catch (error) {
      // Validation itself failed (a value nested deeper than the stack): the file is just not a run.
      if (!(error instanceof RangeError)) throw error;
      this.onError(`${this.fileOf(id)} is not a research run (a value is nested too deeply); it is left as it is`);
      return undefined;
    }
    if (!parsed.success) {
      this.onError(`${this.fileOf(id)} is not a research run (${parsed.error.issues[0]?.message ?? 'invalid'}); it is left as it is`);
      return undefined;
    }
    return parsed.data;
  }
}

/** Makes the research folder; one that is a symbolic link (runs would be written outside the repository) is refused. */
async function ensureRealFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await lstat(dir)).isSymbolicLink())
    throw new Error(`${RALPH_DIR}/research is a symbolic link, which Ralph does not follow: runs are not written`);
}
