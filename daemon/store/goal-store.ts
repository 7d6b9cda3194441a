/**
 * The goal store: `.ralph/goals/<id>.json`, one goal per file, and the single writer of them.
 *
 * The files are the truth and the developer may edit them by hand, so the store keeps, per goal,
 * the exact bytes it last wrote or read. Whatever the watcher reports (or a mutation is about to
 * overwrite), the store re-reads the file and compares bytes: equal means nothing new (its own
 * write echoing back); different means a hand edit, which is validated and broadcast. A file that
 * does not parse or validate is shown as invalid and never written over.
 *
 * The repository may be hostile, so a goal file is read only when it is a regular file (not a link,
 * folder or FIFO), at most MAX_GOAL_FILE_BYTES, valid UTF-8, with an id in range; anything else is
 * an invalid goal whose error says what the file is, never what it holds.
 *
 * The folder itself may vanish and come back (a `git checkout`, a `git stash`), be replaced, or turn
 * unreadable: a watcher on a folder dies with it, so the store also checks the folder's identity
 * every FOLDER_CHECK_MS (one lstat), watches it afresh when it changed, re-reads every file, and
 * says what it sees through onError.
 */
import { constants } from 'node:fs';
import { access, lstat, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readdirIfExists, readRegularFile, UnsafeFileError } from '../fs/read.ts';
import { parseJsonBytes } from '../fs/json-text.ts';
import { watch, type FSWatcher } from 'chokidar';
import { z } from 'zod';
import {
  GOAL_STATES,
  Goal,
  RALPH_DIR,
  createGoal,
  addUsage,
  oneLine,
  plural,
  describeZodError,
  isFinal,
  transition as applyTransition,
  type EventData,
  type EventEnvelope,
  type EventType,
  type GoalAction,
  type Resolving,
  type GoalState,
  type InvalidGoal,
  type Iteration,
  type Transition,
  type Usage,
} from '../../protocol/index.ts';
import { dependencyCycle, normalizeAfter } from '../../protocol/goal-order.ts';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { removeStrayTempFiles, writeFileAtomic } from '../fs/atomic-write.ts';
import { RALPH_GITIGNORE, ralphPaths, updatedRalphGitignore, type RalphPaths } from '../paths.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import { GoalLog } from './goal-log.ts';
import { KeyedQueue } from './keyed-queue.ts';

export interface GoalStoreOptions {
  repoRoot: string;
  bus: EventBus;
  now?: () => Date;
  /** Watch `.ralph/goals/` for hand edits (default true). */
  watch?: boolean;
  /**
   * Problems with no caller to throw to (the watcher, a failed log append, the goals folder gone or
   * back). Default: one line on stderr.
   */
  onError?: (error: Error) => void;
  /** The daemon's secrets: redacted from goals and log entries before they are kept, written or sent. Default: none. */
  secrets?: DaemonSecrets;
  /** How often the goals folder's identity is checked (default FOLDER_CHECK_MS). */
  folderCheckMs?: number;
}

export interface NewGoalInput {
  title: string;
  spec?: string;
  queue?: boolean;
  links?: Goal['links'];
  /** The agent backend that runs it; absent: the config's. */
  agent?: string;
  /** Goals it comes after: each must exist and not be cancelled. */
  after?: number[];
  /** Higher starts first; absent: 0. */
  priority?: number;
}

export interface GoalEdit {
  title?: string;
  spec?: string;
  /** Another agent backend; null: the config's again. */
  agent?: string | null;
  /** The goals it comes after, instead of those it has ([]: none); a cycle is refused. */
  after?: number[];
  /** Another priority; null: the default (0) again. */
  priority?: number | null;
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

/** How often the goals folder is checked for being gone, replaced or unreadable (one lstat and one access). */
export const FOLDER_CHECK_MS = 1000;

/** Goal ids go up to this: file names (and a recorded next id) beyond it are not goals. */
export const MAX_GOAL_ID = 2 ** 31 - 1;

/** A goal file larger than this is invalid, unread (an 800 KB spec is large; this leaves room for many). */
export const MAX_GOAL_FILE_BYTES = 16 * 1024 * 1024;

/** `.ralph/state.json` holds a few numbers. */
const MAX_STATE_FILE_BYTES = 1024 * 1024;
/** A `.ralph/.gitignore` larger than this is not read to be brought up to date (it is not one Ralph wrote). */
const GITIGNORE_MAX_BYTES = 64 * 1024;

const GOAL_FILE = /^([1-9]\d*)\.json$/;
const LOG_FILE = /^([1-9]\d*)\.jsonl$/;

/** What the goals folder is, as last checked; `identity` tells a folder made again from the one before. */
type FolderState =
  | { kind: 'ok'; identity: string }
  | { kind: 'missing' }
  | { kind: 'link' }
  | { kind: 'not-a-folder' }
  | { kind: 'unreadable'; code: string };

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
  private readonly secrets: DaemonSecrets;
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
  private readonly folderCheckMs: number;
  /** The goals folder as last checked (the watcher follows it). */
  private folder: FolderState = { kind: 'missing' };
  private folderTimer: NodeJS.Timeout | undefined;
  /** The folder check in progress; checks run one at a time. */
  private folderCheck: Promise<void> | undefined;
  /** A check was asked for while one ran: it runs again after. */
  private folderCheckAgain = false;
  /** What was said about files that are not goals (or logs, or a next id), so each is said once. */
  private readonly reported = new Set<string>();
  /** The lowest id this run may still hand out: a floor under what the files say. */
  private nextIdFloor = 1;
  private closed = false;

  private constructor(options: GoalStoreOptions) {
    this.paths = ralphPaths(options.repoRoot);
    this.bus = options.bus;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? ((error) => process.stderr.write(`ralph: goal store: ${error.message}\n`));
    this.secrets = options.secrets ?? DaemonSecrets.none();
    this.log = new GoalLog(options.repoRoot, options.bus, { now: this.now, secrets: this.secrets });
    this.folderCheckMs = options.folderCheckMs ?? FOLDER_CHECK_MS;
  }

  static async open(options: GoalStoreOptions): Promise<GoalStore> {
    const store = new GoalStore(options);
    await store.prepareFolders();
    store.folder = await folderState(store.paths.goals);
    if (store.folder.kind !== 'ok') store.reportFolder(store.folder);
    for (const id of await store.idsOnDisk()) await store.syncFile(id, { silent: true });
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

  /** The goal; when its file is invalid or there is none, the error saying which. */
  require(id: number): Goal {
    const record = this.records.get(id);
    if (record?.invalid || !record?.goal) throw goalMissing(id, record?.invalid);
    return record.goal;
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
      // Before an id is burnt: a folder that cannot take the goal is a clear error now.
      await this.writableGoalsFolder();
      const id = await this.nextId();
      return this.goalQueue.run(id, async () => {
        const now = this.now();
        const after = input.after === undefined ? undefined : this.checkedAfter(id, input.after);
        const draft = parseInput(() =>
          createGoal({
            id,
            title: input.title,
            spec: input.spec,
            now,
            links: input.links,
            agent: input.agent,
            after,
            priority: input.priority,
          }),
        );
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

  /** Edits the title, spec, agent backend, `after` or priority; refused while the goal runs or once it is final. */
  update(id: number, edit: GoalEdit, cause?: Cause): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      if (goal.state === 'running' || isFinal(goal.state)) {
        throw new ConflictError(`goal #${id} is ${goal.state}: it cannot be edited now`);
      }
      const title = edit.title?.trim() ?? goal.title;
      const spec = edit.spec ?? goal.spec;
      const agent = edit.agent === undefined ? goal.agent : (edit.agent ?? undefined);
      const after = edit.after === undefined ? goal.after : this.checkedAfter(id, edit.after);
      const priority =
        edit.priority === undefined ? goal.priority : edit.priority === null || edit.priority === 0 ? undefined : edit.priority;
      const sameAfter = JSON.stringify(after ?? []) === JSON.stringify(goal.after ?? []);
      if (title === goal.title && spec === goal.spec && agent === goal.agent && sameAfter && priority === goal.priority) return goal;
      const { agent: _previous, after: _after, priority: _priority, ...rest } = goal;
      const edited = parseInput(() =>
        Goal.parse({
          ...rest,
          title,
          spec,
          ...(agent === undefined ? {} : { agent }),
          ...(after === undefined || after.length === 0 ? {} : { after }),
          ...(priority === undefined ? {} : { priority }),
          updatedAt: this.now().toISOString(),
        }),
      );
      await this.persist(edited);
      this.bus.publish('goal.updated', { goal: edited, source: 'daemon' }, cause);
      return edited;
    });
  }

  /** Applies one action of the state machine, records it, writes the file and logs it. */
  transition(
    id: number,
    action: GoalAction,
    { note, resolving }: { note?: string; resolving?: Resolving } = {},
    cause?: Cause,
  ): Promise<Goal> {
    return this.withGoal(id, async (goal) => {
      // An action the goal's state does not allow throws InvalidTransitionError, the goal model's own domain error.
      const next = applyTransition(goal, action, {
        now: this.now(),
        ...(note === undefined ? {} : { note }),
        ...(resolving ? { resolving } : {}),
      });
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
      if (goal.state !== 'done') throw new ConflictError(`goal #${id} is ${goal.state}: only a done goal lands`);
      if (goal.landed) {
        throw new ConflictError(`goal #${id} already landed as ${goal.landed.commit.slice(0, 7)} on ${goal.landed.branch}`);
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
        if (!attempt) throw new ConflictError(`goal #${id} has no attempt ${record.attempt ?? '(none given)'}`);
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
    clearTimeout(this.folderTimer);
    await this.folderCheck;
    await this.watcher?.close();
    await this.creationQueue.idle();
    await this.goalQueue.idle();
  }

  // ---- internals ----

  /**
   * The goals goal `id` is to come after, each once: refused (InvalidInputError) when one does not
   * exist (or its file is invalid), is cancelled (it would never land), is the goal itself, or
   * comes after it already (a cycle would hold both forever).
   */
  private checkedAfter(id: number, after: readonly number[]): number[] {
    const ids = normalizeAfter(after);
    for (const dependency of ids) {
      if (dependency === id) throw new InvalidInputError(`goal #${id} cannot come after itself`);
      const record = this.records.get(dependency);
      if (record?.invalid)
        throw new InvalidInputError(`goal #${dependency}'s file is invalid: a goal cannot come after it until it is fixed`);
      const goal = record?.goal;
      if (!goal) throw new InvalidInputError(`goal #${dependency} does not exist: a goal can only come after goals there are`);
      if (goal.state === 'cancelled' && !goal.landed) {
        throw new InvalidInputError(`goal #${dependency} is cancelled: it will never land, so nothing can come after it`);
      }
    }
    const cycle = dependencyCycle(id, ids, (other) => this.get(other));
    if (cycle) {
      throw new InvalidInputError(
        `goal #${id} cannot come after those goals: that makes a cycle (${cycle.map((each) => `#${each}`).join(' → ')})`,
      );
    }
    return ids;
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError('the goal store is closed');
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
      if (record?.invalid || !record?.goal) throw goalMissing(id, record?.invalid);
      return change(record.goal);
    });
  }

  private async persist(unredacted: Goal): Promise<void> {
    // Kept as written: what the file says is what clients are told.
    const goal = this.secrets.redactValue(unredacted);
    const text = `${JSON.stringify(goal, null, 2)}\n`;
    await this.writableGoalsFolder();
    await writeFileAtomic(this.fileOf(goal.id), text).catch((error: NodeJS.ErrnoException) => {
      throw new UnavailableError(
        `goal #${goal.id} could not be written to ${this.relativeFileOf(goal.id)} (${error.code ?? oneLine(error.message)})`,
      );
    });
    this.records.set(goal.id, { goal, bytes: Buffer.from(text, 'utf8') });
  }

  /**
   * The goals folder, ready for a write: made again when it is gone (a checkout removed it); refused
   * with a clear error when it is a link (the goal would land outside the repository), not a folder,
   * or unreadable.
   */
  private async writableGoalsFolder(): Promise<void> {
    const state = await folderState(this.paths.goals);
    if (state.kind === 'missing') {
      await mkdir(this.paths.goals, { recursive: true });
      // The watcher follows the new folder at once, not at the next periodic check.
      this.requestFolderCheck();
      return;
    }
    if (state.kind !== 'ok') throw new UnavailableError(`goals cannot be written: ${describeFolder(state)}`);
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
    const markInvalid = (error: string, bytes?: Buffer) => {
      const invalid: InvalidGoal = { id, file, error };
      this.records.set(id, { goal: record?.goal, invalid, ...(bytes ? { bytes } : {}) });
      if (record?.invalid?.error !== invalid.error) publish('goal.invalid', invalid);
    };
    const gone = () => {
      if (!record) return;
      this.records.delete(id);
      publish('goal.removed', { id });
    };
    // Through a linked folder the file would be read from wherever the link points.
    if (this.folder.kind === 'link') return gone();
    if (id > MAX_GOAL_ID) {
      const there = await lstat(this.fileOf(id)).then(
        () => true,
        () => false,
      );
      return there ? markInvalid(`its id is out of range: goal ids go from 1 to ${MAX_GOAL_ID}`) : gone();
    }
    let bytes: Buffer;
    try {
      bytes = await readRegularFile(this.fileOf(id), { maxBytes: MAX_GOAL_FILE_BYTES });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: the folder was replaced by a file, so its goals are gone with it.
      if (code === 'ENOENT' || code === 'ENOTDIR') return gone();
      if (error instanceof UnsafeFileError) return markInvalid(`the file is not read: ${error.message}`);
      // The message of a failed read names the path and the reason, nothing the file holds.
      return markInvalid(`cannot read the file: ${oneLine((error as Error).message)}`);
    }
    if (record?.bytes?.equals(bytes)) return;

    const parsed = parseGoalFile(id, bytes);
    if ('error' in parsed) return markInvalid(parsed.error, bytes);
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
    // A path that is a file instead (a hostile repository) is not a reason not to start: the folder
    // check reports the goals folder, the log reports a log it cannot write.
    const tolerated = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST' && error.code !== 'ENOTDIR') throw error;
    };
    await mkdir(this.paths.goals, { recursive: true }).catch(tolerated);
    await mkdir(this.paths.logs, { recursive: true }).catch(tolerated);
    // 'wx': the developer may have edited it; only a missing one is written (and a link is not followed).
    await writeFile(this.paths.gitignore, RALPH_GITIGNORE, { flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
      tolerated(error);
      // One an older Ralph wrote gets the rules it lacks (nothing else in it changes).
      const current = await readRegularFile(this.paths.gitignore, { maxBytes: GITIGNORE_MAX_BYTES }).catch(() => null);
      const updated = current ? updatedRalphGitignore(current.toString('utf8')) : null;
      if (updated) await writeFileAtomic(this.paths.gitignore, updated).catch(() => undefined);
    });
    // Left by a daemon killed mid-write; the target files still hold their previous bytes. Not
    // through a linked folder: that would delete files outside the repository.
    if ((await folderState(this.paths.goals)).kind === 'ok') await removeStrayTempFiles(this.paths.goals);
    await removeStrayTempFiles(this.paths.dir).catch(() => []);
  }

  private async startWatching(): Promise<void> {
    if (this.folder.kind === 'ok') await this.armWatcher();
    // Anything that changed between the first load and the watcher being ready.
    await this.rescan();
    this.scheduleFolderCheck();
  }

  /** Watches the goals folder as it is now (a folder made again needs a new watcher: the old one died with it). */
  private async armWatcher(): Promise<void> {
    await this.disarmWatcher();
    const goalsDir = path.resolve(this.paths.goals);
    const watcher = watch(goalsDir, {
      ignoreInitial: true,
      depth: 0,
      // Only `<id>.json` files: temp files, editor swap files and folders are not goals.
      ignored: (file, stats) => file !== goalsDir && (stats?.isDirectory() === true || !GOAL_FILE.test(path.basename(file))),
    });
    this.watcher = watcher;
    watcher.on('all', (event, file) => {
      // The folder itself went away: see what is there now without waiting for the next check.
      if (event === 'unlinkDir' && path.resolve(file) === goalsDir) return this.requestFolderCheck();
      if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
      const match = GOAL_FILE.exec(path.basename(file));
      if (match) this.scheduleSync(Number(match[1]));
    });
    watcher.on('error', (error) => {
      this.onError(error instanceof Error ? error : new Error(String(error)));
      this.requestFolderCheck();
    });
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
  }

  private async disarmWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  /** Re-reads every goal file there is and every goal the store knows (a file gone is a goal removed). */
  private async rescan(): Promise<void> {
    const ids = new Set([...(await this.idsOnDisk()), ...this.records.keys()]);
    await Promise.all([...ids].map((id) => this.goalQueue.run(id, () => this.syncFile(id))));
  }

  /** The ids the goal files' names say (through a linked folder: none), reporting names whose id is no number. */
  private async idsOnDisk(): Promise<number[]> {
    if (this.folder.kind === 'link') return [];
    const { ids, unrepresentable } = await idsIn(this.paths.goals, GOAL_FILE);
    for (const name of unrepresentable) {
      this.reportOnce(
        `${RALPH_DIR}/goals/${name} is not a goal: its id is out of range (goal ids go from 1 to ${MAX_GOAL_ID}); it is left as it is`,
      );
    }
    return ids;
  }

  /** Says something about the repository's files once per run, not at every look at them. */
  private reportOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.onError(new Error(message));
  }

  private scheduleFolderCheck(): void {
    if (this.closed) return;
    clearTimeout(this.folderTimer);
    this.folderTimer = setTimeout(() => this.requestFolderCheck(), this.folderCheckMs);
    // The periodic check alone never keeps the process alive.
    this.folderTimer.unref();
  }

  /** Checks the goals folder now (or right after the check in progress) and schedules the next check. */
  private requestFolderCheck(): void {
    if (this.closed) return;
    if (this.folderCheck) {
      this.folderCheckAgain = true;
      return;
    }
    this.folderCheck = (async () => {
      do {
        this.folderCheckAgain = false;
        await this.checkFolder().catch((error: Error) => this.onError(error));
      } while (this.folderCheckAgain && !this.closed);
    })().finally(() => {
      this.folderCheck = undefined;
      this.scheduleFolderCheck();
    });
  }

  /**
   * Compares the goals folder with what it was: when it went away, came back, was replaced or turned
   * unreadable, the watcher follows it, every file is read again (what changed is published), and
   * one line says what the store sees.
   */
  private async checkFolder(): Promise<void> {
    const before = this.folder;
    const now = await folderState(this.paths.goals);
    if (this.closed || sameFolder(before, now)) return;
    this.folder = now;
    if (now.kind === 'ok') await this.armWatcher();
    else await this.disarmWatcher();
    if (this.closed) return;
    // Unreadable: its goals stay as last read (and their writes fail clearly) until it can be read.
    if (now.kind !== 'unreadable') await this.rescan();
    if (now.kind !== 'ok') return this.reportFolder(now);
    const what = `${plural(this.list().length, 'goal')}, ${plural(this.invalid().length, 'invalid file')}`;
    this.onError(new Error(`${RALPH_DIR}/goals ${before.kind === 'ok' ? 'was replaced' : 'is back'}; read again: ${what}`));
  }

  private reportFolder(state: Exclude<FolderState, { kind: 'ok' }>): void {
    const then =
      state.kind === 'unreadable'
        ? 'its goals are shown as last read until it can be read'
        : state.kind === 'missing'
          ? 'its goals are gone until it is back (a new goal makes it again)'
          : 'no goals are read from it or written to it until it is a folder again';
    this.onError(new Error(`${describeFolder(state)}: ${then}`));
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
      this.idsOnDisk(),
      idsIn(this.paths.logs, LOG_FILE).then(({ ids, unrepresentable }) => {
        for (const name of [...unrepresentable, ...ids.filter((id) => id > MAX_GOAL_ID).map((id) => `${id}.jsonl`)]) {
          this.reportOnce(
            `${RALPH_DIR}/logs/${name} is no goal's log: its id is out of range (goal ids go from 1 to ${MAX_GOAL_ID}); it is left as it is`,
          );
        }
        return ids;
      }),
    ]);
    const recorded = state.nextGoalId;
    const recordedInRange = typeof recorded === 'number' && Number.isSafeInteger(recorded) && recorded >= 1 && recorded <= MAX_GOAL_ID + 1;
    if (recorded !== undefined && !recordedInRange) {
      this.reportOnce(
        `${RALPH_DIR}/state.json: its nextGoalId is not a goal id (1 to ${MAX_GOAL_ID}); the goal and log files say which ids are taken`,
      );
    }
    // Ids out of range (a file named 9007199254740991.json) are invalid files, not the next id's base.
    const taken = [...goalIds, ...logIds, ...this.records.keys()].filter((id) => id <= MAX_GOAL_ID);
    const next = Math.max(this.nextIdFloor, recordedInRange ? (recorded as number) : 1, ...taken.map((id) => id + 1));
    if (next > MAX_GOAL_ID) throw new UnavailableError(`no goal ids are left: every id up to ${MAX_GOAL_ID} is taken`);
    return next;
  }

  private async writeNextId(nextGoalId: number): Promise<void> {
    // Other keys of the daemon's state file are kept as they are.
    const state = { ...(await this.readState()), nextGoalId };
    // `.ralph` itself may have gone with a checkout.
    await mkdir(this.paths.dir, { recursive: true });
    await writeFileAtomic(this.paths.state, `${JSON.stringify(state, null, 2)}\n`);
    this.nextIdFloor = nextGoalId;
  }

  /** `.ralph/state.json` as an object; missing or unreadable counts as empty (the files still guard ids). */
  private async readState(): Promise<Record<string, unknown>> {
    try {
      const parsed = parseJsonBytes(await readRegularFile(this.paths.state, { maxBytes: MAX_STATE_FILE_BYTES }));
      const json = parsed.ok ? parsed.value : undefined;
      return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
}

/** What the goals folder is now: a readable real folder (with its identity), or what it is instead. */
async function folderState(dir: string): Promise<FolderState> {
  let stats;
  try {
    stats = await lstat(dir, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    // ENOTDIR: `.ralph` is a file; the goals folder is not there either.
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'unreadable', code };
  }
  if (stats.isSymbolicLink()) return { kind: 'link' };
  if (!stats.isDirectory()) return { kind: 'not-a-folder' };
  try {
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (error) {
    return { kind: 'unreadable', code: (error as NodeJS.ErrnoException).code ?? 'unknown error' };
  }
  // An inode number can be reused by a folder made again at once; its birth time cannot.
  return { kind: 'ok', identity: `${stats.dev}:${stats.ino}:${stats.birthtimeNs}` };
}

function sameFolder(a: FolderState, b: FolderState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'ok' && b.kind === 'ok') return a.identity === b.identity;
  if (a.kind === 'unreadable' && b.kind === 'unreadable') return a.code === b.code;
  return true;
}

function describeFolder(state: Exclude<FolderState, { kind: 'ok' }>): string {
  const folder = `${RALPH_DIR}/goals`;
  switch (state.kind) {
    case 'missing':
      return `${folder} is gone`;
    case 'link':
      return `${folder} is a symbolic link, which Ralph does not follow`;
    case 'not-a-folder':
      return `${folder} is not a folder`;
    case 'unreadable':
      return `${folder} cannot be read (${state.code})`;
  }
}

/** Parses a goal file: valid JSON, a valid goal, and the id its name says. */
export function parseGoalFile(id: number, bytes: Buffer): { goal: Goal } | { error: string } {
  // Not UTF-8: decoding with replacement characters would lose those bytes at the next save.
  const json = parseJsonBytes(bytes);
  if (!json.ok) return { error: json.error };
  let parsed: ReturnType<typeof Goal.safeParse>;
  try {
    parsed = Goal.safeParse(json.value);
  } catch (error) {
    // Validation itself failed (a value nested deeper than the stack): still just an invalid file.
    if (error instanceof RangeError) return { error: 'not a valid goal: a value is nested too deeply' };
    throw error;
  }
  if (!parsed.success) return { error: `not a valid goal: ${oneLine(describeZodError(parsed.error))}` };
  if (parsed.data.id !== id) return { error: `its id is ${parsed.data.id} but its file name says ${id}` };
  return { goal: parsed.data };
}

/** The error for a goal that is missing, or whose file is there but invalid (then the reason is more useful). */
export function goalMissing(id: number, invalid: InvalidGoal | undefined): ConflictError | NotFoundError {
  if (invalid) return new ConflictError(`goal #${id}'s file is invalid: ${invalid.error}; fix or delete ${invalid.file}`);
  return new NotFoundError(`goal #${id} does not exist`);
}

/** Runs a constructor of goal data, turning a validation error into an invalid-input error. */
function parseInput<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof z.ZodError) throw new InvalidInputError(describeZodError(error));
    throw error;
  }
}

/**
 * The ids of the files in `dir` whose names match `pattern` (its first group is the id), and the
 * matching names whose id is too large to be a number at all. A folder that cannot be listed (gone,
 * replaced by a file, unreadable) has none: the folder check reports it.
 */
async function idsIn(dir: string, pattern: RegExp): Promise<{ ids: number[]; unrepresentable: string[] }> {
  const names = await readdirIfExists(dir).catch(() => []);
  const ids: number[] = [];
  const unrepresentable: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const id = Number(match[1]);
    if (Number.isSafeInteger(id)) ids.push(id);
    else unrepresentable.push(name);
  }
  return { ids, unrepresentable };
}
