/**
 * Process groups Ralph started, recorded on disk while they run, so that the next daemon (or
 * worker) kills what a predecessor killed with -9 left running: an agent CLI (external-run.ts) or
 * a command and a goal's check (run-command.ts) outside the sandbox. The process group of each is
 * reparented to init when the daemon dies and would otherwise keep writing into a worktree the next
 * daemon works in again.
 *
 * A record is one file in a records folder (it ignores itself in git), a JSON object a line: first
 * what the processes are (for the log) and the marker variable in their environment (what left the
 * group, `setsid`, is still found by it), written before anything is spawned; then a line per
 * process group, its leader's pid and start time (/proc/<pid>/stat, field 22), so a recycled pid is
 * never killed. A group line is appended synchronously right after the spawn (about 15 µs; a
 * rewrite through a temp file and a rename costs 50 times more on ext4) and stays after the group
 * ends: its start time no longer matches anything. Nothing is synced to disk: the records serve a
 * daemon killed while the machine stays up, and a crash of the machine ends the processes too.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clipUnits, oneLine } from '../../protocol/text.ts';
import { removeStrayTempFiles, writeFileAtomic } from '../fs/atomic-write.ts';
import { killGroup, killMarkedProcesses, processesWithEnvironment } from './process-group.ts';

/** Where records live in a `.ralph` folder: agent CLIs' (beside their prompt files), and commands' and checks'. */
export const RECORD_FOLDERS = { agents: 'agents', commands: 'processes' } as const;

export function recordsFolder(ralphDir: string, kind: keyof typeof RECORD_FOLDERS): string {
  return path.join(ralphDir, RECORD_FOLDERS[kind]);
}

/** Between SIGTERM and SIGKILL when reaping: a CLI may save its session. */
const REAP_GRACE_MS = 1000;

/** Ralph's marker variables (RALPH_AGENT_RUN, RALPH_COMMAND_RUN) and their values (randomUUID). */
const MARKER_VARIABLE = /^RALPH_[A-Z]+_RUN$/;
const MARKER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A record's words as the log may carry them: one line, no control characters, bounded. */
function logText(text: string): string {
  return clipUnits(oneLine(text), 200);
}

/** A process group's leader: its pid is the group's id. */
export interface RecordedGroup {
  pid: number;
  /** The leader's start time, to tell it from a later process with the same pid; null where /proc does not tell. */
  startTime: string | null;
}

/** What a record file's first line holds. */
export interface ProcessRecordData {
  /** For the log: whose processes they are ("goal #3"), if anyone's. */
  owner?: string;
  /** For the log: what they are ("the agent", "its check"). */
  what: string;
  /** The variable set to `marker` in the environment of every process it started. */
  markerVariable: string;
  marker: string;
  startedAt: string;
  /** Files of the folder (names) that go with the record: removed with it when reaped. */
  companions?: string[];
  /** Anything else the owner records (a goal's id …): for a person reading the file. */
  details?: Record<string, unknown>;
}

/** A process's start time in clock ticks since boot (/proc/<pid>/stat, field 22); null where /proc does not tell. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command name) state …": the name may hold spaces and parentheses; field 22 is the 20th after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const prepared = new Map<string, Promise<void>>();

/** Creates the folder and its `.gitignore` (once per folder and process). */
export function prepareRecordsFolder(folder: string): Promise<void> {
  let ready = prepared.get(folder);
  if (!ready) {
    ready = (async () => {
      await mkdir(folder, { recursive: true });
      await writeFile(path.join(folder, '.gitignore'), '*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    })();
    // A failure (the folder removed meanwhile, say) is tried again next time.
    ready.catch(() => prepared.delete(folder));
    prepared.set(folder, ready);
  }
  return ready;
}

/** One record file: created before the first spawn, a line added per group, removed when its processes are over. */
export class ProcessRecord {
  readonly file: string;
  private removed = false;

  private constructor(file: string) {
    this.file = file;
  }

  /** Writes the record's first line (through a temp file: never a torn one). */
  static async create(
    folder: string,
    name: string,
    fields: Omit<ProcessRecordData, 'startedAt'> & { startedAt?: string },
  ): Promise<ProcessRecord> {
    await prepareRecordsFolder(folder);
    const record = new ProcessRecord(path.join(folder, `${name}.json`));
    const data: ProcessRecordData = { startedAt: new Date().toISOString(), ...fields };
    await writeFileAtomic(record.file, `${JSON.stringify(data)}\n`, { durable: false });
    return record;
  }

  /** Records a group just spawned (its leader `pid`). Synchronous: nothing to await between the spawn and the record. */
  addGroup(pid: number): RecordedGroup {
    const group: RecordedGroup = { pid, startTime: processStartTime(pid) };
    if (!this.removed) appendFileSync(this.file, `${JSON.stringify(group)}\n`);
    return group;
  }

  /** Everything it recorded is over: the file goes. */
  remove(): void {
    this.removed = true;
    rmSync(this.file, { force: true });
  }
}

/** A record file's lines: the first describes it, the others are groups; a line that does not parse (torn) is skipped. */
function parseRecord(text: string): { data: Partial<ProcessRecordData>; groups: RecordedGroup[] } {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    try {
      const parsed: unknown = line.trim() === '' ? null : JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) lines.push(parsed as Record<string, unknown>);
    } catch {
      // torn by the crash
    }
  }
  const [first = {}, ...rest] = lines;
  // A record written by an older Ralph names its one group on its only line.
  const groups = [...(typeof first.pid === 'number' ? [first] : []), ...rest].flatMap((line) =>
    typeof line.pid === 'number' && Number.isInteger(line.pid) && line.pid > 1 && typeof line.startTime === 'string'
      ? [{ pid: line.pid, startTime: line.startTime }]
      : [],
  );
  return { data: first as Partial<ProcessRecordData>, groups };
}

/**
 * Kills what a daemon or worker that died left running in the checkout of `ralphDir` (its `.ralph`
 * folder), as the records of every kind say. Returns how many records there were.
 */
export async function reapOrphanProcesses(ralphDir: string, log: (message: string) => void): Promise<number> {
  const kinds = Object.keys(RECORD_FOLDERS) as (keyof typeof RECORD_FOLDERS)[];
  const counts = await Promise.all(kinds.map((kind) => reapRecordedProcesses(recordsFolder(ralphDir, kind), log)));
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * Kills what the records in `folder` say a daemon or worker that died left running, and removes
 * the records (and their companions). Call at start, before anything runs. A recorded group is
 * killed only while its leader is still the process recorded (same pid, same start time); what
 * carries the record's marker is killed in any case. Returns how many records there were.
 */
export async function reapRecordedProcesses(folder: string, log: (message: string) => void): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return 0;
  }
  const records = names.filter((name) => name.endsWith('.json'));
  // A record's temp file a killed daemon left (its record was never there: nothing had started).
  await removeStrayTempFiles(folder);
  await Promise.all(
    records.map(async (name) => {
      const file = path.join(folder, name);
      const { data: record, groups: recorded } = parseRecord(await readFile(file, 'utf8').catch(() => ''));
      // Only a leader that is still the process recorded: a pid may have been given to another since.
      const groups = recorded.filter((group) => processStartTime(group.pid) === group.startTime);
      // A record is a file in the repository's .ralph, which someone else may have written: only
      // Ralph's own marker variables and markers (random UUIDs) are looked for, never `HOME=/root`.
      const marker = typeof record.marker === 'string' && MARKER.test(record.marker) ? record.marker : null;
      const variable =
        typeof record.markerVariable === 'string' && MARKER_VARIABLE.test(record.markerVariable) ? record.markerVariable : null;
      const what = typeof record.what === 'string' ? logText(record.what) : `the processes of ${logText(name)}`;
      const owner = typeof record.owner === 'string' ? `${logText(record.owner)}: ` : '';
      const marked = marker && variable ? processesWithEnvironment(variable, marker).length : 0;
      await Promise.all([
        ...groups.map((group) => killGroup(group.pid, { graceMs: REAP_GRACE_MS })),
        marker && variable ? killMarkedProcesses(variable, marker, { graceMs: REAP_GRACE_MS }) : Promise.resolve(),
      ]);
      if (groups.length > 0 || marked > 0) log(`${owner}killed ${what} a stopped daemon or worker left running`);
      const companions = Array.isArray(record.companions) ? record.companions.filter((each) => typeof each === 'string') : [];
      // Names in the folder only: a record is not a way to delete anything else.
      await Promise.all(companions.map((each) => rm(path.join(folder, path.basename(each)), { force: true })));
      await rm(file, { force: true });
    }),
  );
  return records.length;
}
