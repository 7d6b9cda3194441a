/**
 * The goal store: `.ralph/goals/<id>.json`, one goal per file, and the single writer of them.
 *
 * The files are the truth and the developer may edit them by hand, so the store keeps, per goal,
 * the exact bytes it last wrote or read. Whatever the watcher reports (or a mutation is about to
 * overwrite), the store re-reads the file and compares bytes: equal means nothing new (its own
 * write echoing back); different means a hand edit, which is validated and broadcast. A file that
 * does not parse or validate is shown as invalid and never written over.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readdirIfExists } from '../fs/read.ts';
import { watch, type FSWatcher } from 'chokidar';
import { z } from 'zod';
import {
  ErrorCode,
  GOAL_STATES,
  Goal,
  InvalidTransitionError,
  RALPH_DIR,
  RpcError,
  createGoal,
  describeZodError,
  isFinal,
  transition as applyTransition,
  type EventData,
  type EventEnvelope,
  type EventType,
  type GoalAction,
  type GoalState,
  type InvalidGoal,
  type Iteration,
  type Transition,
  type Usage,
} from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import { removeStrayTempFiles, writeFileAtomic } from '../fs/atomic-write.ts';
import { RALPH_GITIGNORE, ralphPaths, type RalphPaths } from '../paths.ts';
import { GoalLog } from './goal-log.ts';
import { KeyedQueue } from './keyed-queue.ts';

export interface GoalStoreOptions {
  repoRoot: string;
  bus: EventBus;
  now?: () => Date;
  /** Watch `.ralph/goals/` for hand edits (default true). */
  watch?: boolean;
  /** Problems with no caller to throw to (the watcher, a failed log append). Default: one line on stderr. */
  onError?: (error: Error) => void;
}

export interface NewGoalInput {
  title: string;
  spec?: string;
  queue?: boolean;
  links?: Goal['links'];
}

export interface GoalEdit {
  title?: string;
  spec?: string;
}

/** What the executor records on a goal as it works (daemon/pipeline/): no state change. */
export interface ExecutionRecord {
  /** The attempt `iteration` and `note` belong to (its number); required with either. */
  attempt?: number;
  /** Appended to that attempt's iterations. */
  iteration?: Iteration;
  /** Appended to that attempt's progress notes. */
  note?: string;
  /** Added to the goal's usage (a null cost makes the total's cost null: unknown). */
  usage?: Usage;
  /** The goal's branch, once its workspace exists. */
  branch?: string;
}

type Cause = EventEnvelope['cause'];

export const RECOVERY_NOTE = 'daemon restarted while the goal was running; its work so far is kept';

/** How long a goal file must be quiet before it is re-read: editors write in several steps. */
export const WATCH_DEBOUNCE_MS = 50;

const GOAL_FILE = /^([1-9]\d*)\.json$/;
const LOG_FILE = /^([1-9]\d*)\.jsonl$/;

interface GoalRecord {
  /** The goal as last valid; kept while the file is invalid so a fix reads as an update. */
  goal?: Goal;
  invalid?: InvalidGoal;
  /** The file's bytes as the store last wrote or read them; undefined when it could not be read. */
  bytes?: Buffer;
}

export class GoalStore {
  readonly paths: RalphPaths;
  readonly log: GoalLog;
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly onError: (error: Error) => void;
  private readonly records = new Map<number, GoalRecord>();
  /** Everything touching one goal (mutations, re-reads) runs in order. */
  private readonly goalQueue = new KeyedQueue<number>();
  /** Creations run one at a time so each gets its own id. */
  private readonly creationQueue = new KeyedQueue<'create'>();
  private readonly debounceTimers = new Map<number, NodeJS.Timeout>();
  private watcher: FSWatcher | undefined;
  /** The lowest id this run may still hand out: a floor under what the files say. */
  private nextIdFloor = 1;
  private closed = false;

  private constructor(options: GoalStoreOptions) {
    this.paths = ralphPaths(options.repoRoot);
    this.bus = options.bus;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? ((error) => process.stderr.write(`ralph: goal store: ${error.message}\n`));
    this.log = new GoalLog(options.repoRoot, options.bus, { now: this.now });
  }

  static async open(options: GoalStoreOptions): Promise<GoalStore> {
    const store = new GoalStore(options);
    await store.prepareFolders();
    for (const id of await idsIn(store.paths.goals, GOAL_FILE)) await store.syncFile(id, { silent: true });
    for (const goal of store.list()) {
      if (goal.state === 'running') await store.transition(goal.id, 'recover', { note: RECOVERY_NOTE });
    }
    if (options.watch ?? true) await store.startWatching();
    return store;
  }

  /** Valid goals, by id. */
  list(): Goal[] {
    const goals: Goal[] = [];
    for (const record of this.records.values()) if (record.goal && !record.invalid) goals.push(record.goal);
    return goals.sort((a, b) => a.id - b.id);
  }

  /** Goal files that do not parse or validate, by id. */
  invalid(): InvalidGoal[] {
    const invalid: InvalidGoal[] = [];
    for (const record of this.records.values()) if (record.invalid) invalid.push(record.invalid);
    return invalid.sort((a, b) => a.id - b.id);
  }

  /** The goal, when its file is valid. */
  get(id: number): Goal | undefined {
    const record = this.records.get(id);
    return record?.invalid ? undefined : record?.goal;
  }

  counts(): Record<GoalState, number> {
    const counts = Object.fromEntries(GOAL_STATES.map((state) => [state, 0])) as Record<GoalState, number>;
    for (const goal of this.list()) counts[goal.state]++;
    return counts;
  }

  fileOf(id: number): string {
    return path.join(this.paths.goals, `${id}.json`);
  }

  /** A new goal with the next id: a draft, or queued when `queue`. */
  async create(input: NewGoalInput, cause?: Cause): Promise<Goal> {
    this.assertOpen();
    return this.creationQueue.run('create', async () => {
      const id = await this.nextId();
      return this.goalQueue.run(id, async () => {
        const now = this.now();
        const draft = parseInput(() => createGoal({ id, title: input.title, spec: input.spec, now, links: input.links }));
        const goal = input.queue ? applyTransition(draft, 'queue', { now }) : draft;
        // The high-water mark goes first: if the goal file then fails, the id is burnt, not reused.
        await this.writeNextId(id + 1);
        await this.persist(goal);
        this.bus.publish('goal.created', { goal }, cause);
        await this.logQuietly(id, { kind: 'created', text: 'created as draft' }, cause);
        const queued = goal.history.at(-1);
        if (queued) await this.logTransition(queued, cause, id);
        return goal;
      });
    });
  }

  /** Edits the title or spec; refused while the goal runs or once it is final. */
  update(id: number, edit: GoalEdit, cause?: Cause): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      if (goal.state === 'running' || isFinal(goal.state)) {
        throw new RpcError(ErrorCode.Conflict, `goal #${id} is ${goal.state}: it cannot be edited now`);
      }
      const title = edit.title?.trim() ?? goal.title;
      const spec = edit.spec ?? goal.spec;
      if (title === goal.title && spec === goal.spec) return goal;
      const edited = parseInput(() => Goal.parse({ ...goal, title, spec, updatedAt: this.now().toISOString() }));
      await this.persist(edited);
      this.bus.publish('goal.updated', { goal: edited, source: 'daemon' }, cause);
      return edited;
    });
  }

  /** Applies one action of the state machine, records it, writes the file and logs it. */
  transition(id: number, action: GoalAction, { note }: { note?: string } = {}, cause?: Cause): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      let next: Goal;
      try {
        next = applyTransition(goal, action, note === undefined ? { now: this.now() } : { now: this.now(), note });
      } catch (error) {
        if (error instanceof InvalidTransitionError) throw new RpcError(ErrorCode.InvalidTransition, error.message);
        throw error;
      }
      await this.persist(next);
      const record = next.history.at(-1)!; // applyTransition always appends one
      this.bus.publish('goal.updated', { goal: next, transition: record, source: 'daemon' }, cause);
      await this.logTransition(record, cause, id);
      return next;
    });
  }

  /** Records that a done goal's work landed on the developer's branch; a goal lands once. */
  recordLanding(id: number, landed: NonNullable<Goal['landed']>, cause?: Cause): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      if (goal.state !== 'done') throw new RpcError(ErrorCode.Conflict, `goal #${id} is ${goal.state}: only a done goal lands`);
      if (goal.landed) {
        throw new RpcError(ErrorCode.Conflict, `goal #${id} already landed as ${goal.landed.commit.slice(0, 7)} on ${goal.landed.branch}`);
      }
      const next = Goal.parse({ ...goal, landed, updatedAt: this.now().toISOString() });
      await this.persist(next);
      this.bus.publish('goal.updated', { goal: next, source: 'daemon' }, cause);
      return next;
    });
  }

  /**
   * Records the executor's work on a goal (an iteration, a progress note, usage, the branch),
   * serialized with the goal's other writes. The attempt may be closed already (a cancel can land
   * while an iteration finishes): what it did is still recorded on it.
   */
  recordExecution(id: number, record: ExecutionRecord, cause?: Cause): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      const attempts = goal.attempts.map((attempt) => ({ ...attempt }));
      if (record.iteration !== undefined || record.note !== undefined) {
        const attempt = attempts.find((candidate) => candidate.number === record.attempt);
        if (!attempt) throw new RpcError(ErrorCode.Conflict, `goal #${id} has no attempt ${record.attempt ?? '(none given)'}`);
        if (record.iteration !== undefined) attempt.iterations = [...attempt.iterations, record.iteration];
        if (record.note !== undefined) attempt.notes = [...attempt.notes, record.note];
      }
      const next = parseInput(() =>
        Goal.parse({
          ...goal,
          attempts,
          usage: record.usage ? addUsage(goal.usage, record.usage) : goal.usage,
          ...(record.branch !== undefined ? { branch: record.branch } : {}),
          updatedAt: this.now().toISOString(),
        }),
      );
      await this.persist(next);
      this.bus.publish('goal.updated', { goal: next, source: 'daemon' }, cause);
      return next;
    });
  }

  /** Stops watching and waits for writes in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.debounceTimers.values()) clearTimeout(timer);
    this.debounceTimers.clear();
    await this.watcher?.close();
    await this.creationQueue.idle();
    await this.goalQueue.idle();
  }

  // ---- internals ----

  private assertOpen(): void {
    if (this.closed) throw new RpcError(ErrorCode.Unavailable, 'the goal store is closed');
  }

  /**
   * Runs `change` on the goal as its file says now: a hand edit the watcher has not reported yet
   * is taken first rather than written over.
   */
  private async withGoal<T>(id: number, change: (goal: Goal) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.goalQueue.run(id, async () => {
      await this.syncFile(id);
      const record = this.records.get(id);
      if (record?.invalid) {
        throw new RpcError(
          ErrorCode.Conflict,
          `goal #${id}'s file is invalid: ${record.invalid.error}; fix or delete ${record.invalid.file}`,
        );
      }
      if (!record?.goal) throw new RpcError(ErrorCode.NotFound, `goal #${id} does not exist`);
      return change(record.goal);
    });
  }

  private async persist(goal: Goal): Promise<void> {
    const text = `${JSON.stringify(goal, null, 2)}\n`;
    await writeFileAtomic(this.fileOf(goal.id), text);
    this.records.set(goal.id, { goal, bytes: Buffer.from(text, 'utf8') });
  }

  private logTransition(record: Transition, cause: Cause, id: number): Promise<void> {
    const note = record.note === undefined ? '' : `: ${record.note}`;
    return this.logQuietly(
      id,
      { kind: 'transition', text: `${record.from} → ${record.to}${note}`, action: record.action, from: record.from, to: record.to },
      cause,
    );
  }

  /** The goal file is already written: a failed log line is reported, not thrown at the caller. */
  private async logQuietly(id: number, entry: { kind: string; text: string; [key: string]: unknown }, cause: Cause) {
    try {
      await this.log.append(id, entry, cause);
    } catch (error) {
      this.onError(new Error(`could not append to the log of goal #${id}: ${(error as Error).message}`));
    }
  }

  /**
   * Brings the in-memory goal in line with its file. Call inside the goal's queue. Publishes what
   * changed (unless `silent`, used for the first load): created / updated from 'file' / invalid /
   * removed. Bytes equal to what the store last wrote or read mean nothing happened.
   */
  private async syncFile(id: number, { silent = false } = {}): Promise<void> {
    const publish = <T extends EventType>(type: T, data: EventData<T>) => {
      if (!silent) this.bus.publish(type, data);
    };
    const record = this.records.get(id);
    const file = this.relativeFileOf(id);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.fileOf(id));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (!record) return;
        this.records.delete(id);
        publish('goal.removed', { id });
        return;
      }
      const invalid: InvalidGoal = { id, file, error: `cannot read the file: ${oneLine((error as Error).message)}` };
      this.records.set(id, { goal: record?.goal, invalid });
      if (record?.invalid?.error !== invalid.error) publish('goal.invalid', invalid);
      return;
    }
    if (record?.bytes?.equals(bytes)) return;

    const parsed = parseGoalFile(id, bytes);
    if ('error' in parsed) {
      const invalid: InvalidGoal = { id, file, error: parsed.error };
      this.records.set(id, { goal: record?.goal, invalid, bytes });
      if (record?.invalid?.error !== invalid.error) publish('goal.invalid', invalid);
      return;
    }
    const goal = parsed.goal;
    this.records.set(id, { goal, bytes });
    if (!record?.goal) publish('goal.created', { goal });
    else if (record.invalid || JSON.stringify(record.goal) !== JSON.stringify(goal)) {
      publish('goal.updated', { goal, source: 'file' });
    }
  }

  private relativeFileOf(id: number): string {
    return path.posix.join(RALPH_DIR, 'goals', `${id}.json`);
  }

  private async prepareFolders(): Promise<void> {
    await mkdir(this.paths.goals, { recursive: true });
    await mkdir(this.paths.logs, { recursive: true });
    // 'wx': the developer may have edited it; only a missing one is written.
    await writeFile(this.paths.gitignore, RALPH_GITIGNORE, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    // Left by a daemon killed mid-write; the target files still hold their previous bytes.
    await removeStrayTempFiles(this.paths.goals);
    await removeStrayTempFiles(this.paths.dir);
  }

  private async startWatching(): Promise<void> {
    const goalsDir = path.resolve(this.paths.goals);
    const watcher = watch(goalsDir, {
      ignoreInitial: true,
      depth: 0,
      // Only `<id>.json` files: temp files, editor swap files and folders are not goals.
      ignored: (file, stats) => file !== goalsDir && (stats?.isDirectory() === true || !GOAL_FILE.test(path.basename(file))),
    });
    this.watcher = watcher;
    watcher.on('all', (event, file) => {
      if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
      const match = GOAL_FILE.exec(path.basename(file));
      if (match) this.scheduleSync(Number(match[1]));
    });
    watcher.on('error', (error) => this.onError(error instanceof Error ? error : new Error(String(error))));
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    // Anything that changed between the first load and the watcher being ready.
    const ids = new Set([...(await idsIn(this.paths.goals, GOAL_FILE)), ...this.records.keys()]);
    await Promise.all([...ids].map((id) => this.goalQueue.run(id, () => this.syncFile(id))));
  }

  private scheduleSync(id: number): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimers.get(id));
    const timer = setTimeout(() => {
      this.debounceTimers.delete(id);
      if (this.closed) return;
      this.goalQueue.run(id, () => this.syncFile(id)).catch((error: Error) => this.onError(error));
    }, WATCH_DEBOUNCE_MS);
    this.debounceTimers.set(id, timer);
  }

  /**
   * Ids increase and are never reused: the next one is above the recorded high-water mark, every
   * goal file (valid or not) and every log (its goal file may be gone, its id is still spent).
   */
  private async nextId(): Promise<number> {
    const [state, goalIds, logIds] = await Promise.all([
      this.readState(),
      idsIn(this.paths.goals, GOAL_FILE),
      idsIn(this.paths.logs, LOG_FILE),
    ]);
    const recorded = state.nextGoalId;
    return Math.max(
      this.nextIdFloor,
      typeof recorded === 'number' && Number.isSafeInteger(recorded) ? recorded : 1,
      ...[...goalIds, ...logIds, ...this.records.keys()].map((id) => id + 1),
    );
  }

  private async writeNextId(nextGoalId: number): Promise<void> {
    // Other keys of the daemon's state file are kept as they are.
    const state = { ...(await this.readState()), nextGoalId };
    await writeFileAtomic(this.paths.state, `${JSON.stringify(state, null, 2)}\n`);
    this.nextIdFloor = nextGoalId;
  }

  /** `.ralph/state.json` as an object; missing or unreadable counts as empty (the files still guard ids). */
  private async readState(): Promise<Record<string, unknown>> {
    try {
      const json: unknown = JSON.parse(await readFile(this.paths.state, 'utf8'));
      return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
}

/** Parses a goal file: valid JSON, a valid goal, and the id its name says. */
export function parseGoalFile(id: number, bytes: Buffer): { goal: Goal } | { error: string } {
  // A byte-order mark (some Windows editors add one) is not a reason to reject the file.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON: ${oneLine((error as Error).message)}` };
  }
  const parsed = Goal.safeParse(json);
  if (!parsed.success) return { error: `not a valid goal: ${oneLine(describeZodError(parsed.error))}` };
  if (parsed.data.id !== id) return { error: `its id is ${parsed.data.id} but its file name says ${id}` };
  return { goal: parsed.data };
}

/** Two usages added up; the cost is unknown (null) once either is. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    calls: a.calls + b.calls,
    costUsd: a.costUsd === null || b.costUsd === null ? null : a.costUsd + b.costUsd,
  };
}

/** Runs a constructor of goal data, turning a validation error into InvalidParams. */
function parseInput<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof z.ZodError) throw new RpcError(ErrorCode.InvalidParams, describeZodError(error));
    throw error;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The ids of the files in `dir` whose names match `pattern` (its first group is the id). */
async function idsIn(dir: string, pattern: RegExp): Promise<number[]> {
  const names = await readdirIfExists(dir);
  const ids: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    const id = match ? Number(match[1]) : NaN;
    if (Number.isSafeInteger(id)) ids.push(id);
  }
  return ids;
}
