/**
 * Process groups Ralph started, recorded on disk while they run, so that the next daemon (or
 * worker) kills what a predecessor killed with -9 left running: an agent CLI (external-run.ts) or
 * a command and a goal's check (run-command.ts) outside the sandbox. The process group of each is
 * reparented to init when the daemon dies and would otherwise keep writing into a worktree the next
 * daemon works in again.
 *
 * A record is one JSON file in a records folder (it ignores itself in git): what the processes
 * are (for the log), the marker variable in their environment (what left the group, `setsid`, is
 * still found by it) and each group's leader with its start time (/proc/<pid>/stat, field 22), so a
 * recycled pid is never killed. Records are written without fsync and synchronously once the
 * folder exists (a few tens of microseconds): they serve a daemon killed while the machine stays
 * up, and a crash of the machine ends the processes too.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { killGroup, killMarkedProcesses, processesWithEnvironment } from './process-group.ts';

/** Where records live in a `.ralph` folder: agent CLIs' (beside their prompt files), and commands' and checks'. */
export const RECORD_FOLDERS = { agents: 'agents', commands: 'processes' } as const;

export function recordsFolder(ralphDir: string, kind: keyof typeof RECORD_FOLDERS): string {
  return path.join(ralphDir, RECORD_FOLDERS[kind]);
}

/** Between SIGTERM and SIGKILL when reaping: a CLI may save its session. */
const REAP_GRACE_MS = 1000;

/** A process group's leader: its pid is the group's id. */
export interface RecordedGroup {
  pid: number;
  /** The leader's start time, to tell it from a later process with the same pid; null where /proc does not tell. */
  startTime: string | null;
}

/** What a record file holds. */
export interface ProcessRecordData {
  /** For the log: whose processes they are ("goal #3"), if anyone's. */
  owner?: string;
  /** For the log: what they are ("the agent", "its check"). */
  what: string;
  /** The variable set to `marker` in the environment of every process it started. */
  markerVariable: string;
  marker: string;
  groups: RecordedGroup[];
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

/**
 * One record file: written when created, rewritten as groups start and end, removed when its
 * processes are over. Writes are synchronous (no interleaving, nothing to await before a spawn).
 */
export class ProcessRecord {
  readonly file: string;
  private data: ProcessRecordData;
  private removed = false;

  private constructor(file: string, data: ProcessRecordData) {
    this.file = file;
    this.data = data;
  }

  /** Writes the record (before anything is spawned: the marker alone finds the processes). */
  static async create(
    folder: string,
    name: string,
    fields: Omit<ProcessRecordData, 'groups' | 'startedAt'> & { startedAt?: string },
  ): Promise<ProcessRecord> {
    await prepareRecordsFolder(folder);
    const record = new ProcessRecord(path.join(folder, `${name}.json`), { startedAt: new Date().toISOString(), ...fields, groups: [] });
    record.write();
    return record;
  }

  /** Records a group just spawned (its leader `pid`). */
  addGroup(pid: number): void {
    this.data.groups.push({ pid, startTime: processStartTime(pid) });
    this.write();
  }

  /** The group is gone: no longer recorded. */
  removeGroup(pid: number): void {
    const before = this.data.groups.length;
    this.data.groups = this.data.groups.filter((group) => group.pid !== pid);
    if (this.data.groups.length !== before) this.write();
  }

  /** Everything it recorded is over: the file goes. */
  remove(): void {
    this.removed = true;
    rmSync(this.file, { force: true });
  }

  private write(): void {
    if (this.removed) return;
    // Through a temp file: a daemon killed mid-write leaves the previous record, not a torn one.
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.data)}\n`);
    renameSync(temp, this.file);
  }
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
  // A temp file a killed writer left: the record it was to replace is there.
  await Promise.all(names.filter((name) => name.endsWith('.json.tmp')).map((name) => rm(path.join(folder, name), { force: true })));
  await Promise.all(
    records.map(async (name) => {
      const file = path.join(folder, name);
      // A record written by an older Ralph names one group at its top level (pid, startTime).
      let record: Partial<ProcessRecordData & RecordedGroup>;
      try {
        record = JSON.parse(await readFile(file, 'utf8')) as Partial<ProcessRecordData & RecordedGroup>;
      } catch {
        record = {}; // unreadable: nothing to go by
      }
      const legacy = typeof record.pid === 'number' ? [{ pid: record.pid, startTime: record.startTime ?? null }] : [];
      const groups = (Array.isArray(record.groups) ? record.groups : legacy).filter(
        (group) =>
          Number.isInteger(group?.pid) && group.pid > 1 && group.startTime != null && processStartTime(group.pid) === group.startTime,
      );
      const marker = typeof record.marker === 'string' && record.marker !== '' ? record.marker : null;
      const variable = typeof record.markerVariable === 'string' && record.markerVariable !== '' ? record.markerVariable : null;
      const what = typeof record.what === 'string' ? record.what : `the processes of ${name}`;
      const owner = typeof record.owner === 'string' ? `${record.owner}: ` : '';
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
