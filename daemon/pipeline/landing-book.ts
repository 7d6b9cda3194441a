/**
 * The landing queue and the done goals' landability, kept in `.ralph/landing.json` (written whole and
 * atomically at each change, so a daemon killed at any moment finds the queue as it was) and
 * published as `landing.changed` after each write.
 *
 * The file is validated and bounded like every file the daemon reads: one that does not parse is
 * moved aside (`landing.json.invalid`) with a log line and the queue starts empty; nothing in it is
 * the only record of work (the goals and git are), so nothing is lost that way.
 */
import { rename } from 'node:fs/promises';
import path from 'node:path';
import {
  GoalLandability,
  LANDING_FILES_MAX,
  LANDING_QUEUE_MAX,
  LANDING_REASON_MAX,
  LandingState,
  emptyLandingState,
  type LandingEntry,
  type LandingStep,
} from '../../protocol/index.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { readRegularFile } from '../fs/read.ts';
import type { Log } from '../log.ts';
import { ralphPaths } from '../paths.ts';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

export function landingFile(repoRoot: string): string {
  return path.join(ralphPaths(repoRoot).dir, 'landing.json');
}

/** A landability as given by the landing code: files not yet capped, no time. */
export type LandabilityInput = Omit<GoalLandability, 'at' | 'files' | 'moreFiles'> & { files?: readonly string[] };

export class LandingBook {
  private state: LandingState;
  private readonly file: string;
  private readonly onChange: (state: LandingState) => void;
  /** Writes one after another, each of the state as it is then. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(file: string, state: LandingState, onChange: (state: LandingState) => void) {
    this.file = file;
    this.state = state;
    this.onChange = onChange;
  }

  static async open(repoRoot: string, options: { log: Log; onChange: (state: LandingState) => void }): Promise<LandingBook> {
    const file = landingFile(repoRoot);
    let state = emptyLandingState();
    try {
      const bytes = await readRegularFile(file, { maxBytes: MAX_FILE_BYTES });
      const parsed = LandingState.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'not a landing state');
      state = parsed.data;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        const aside = `${file}.invalid`;
        await rename(file, aside).catch(() => undefined);
        options.log(`landing: ${file} could not be read (${(error as Error).message}); moved to ${aside}, the queue starts empty`);
      }
    }
    return new LandingBook(file, state, options.onChange);
  }

  /** A copy of the whole state. */
  snapshot(): LandingState {
    return structuredClone(this.state);
  }

  queue(): readonly LandingEntry[] {
    return this.state.queue;
  }

  entry(goalId: number): LandingEntry | undefined {
    return this.state.queue.find((entry) => entry.goalId === goalId);
  }

  landability(goalId: number): GoalLandability | undefined {
    return this.state.goals.find((entry) => entry.goalId === goalId);
  }

  /** Adds a goal at the end of the queue; false when it is there already or the queue is full. */
  async enqueue(goalId: number, by: LandingEntry['by']): Promise<boolean> {
    if (this.entry(goalId) || this.state.queue.length >= LANDING_QUEUE_MAX) return false;
    this.state.queue.push({ goalId, by, step: 'queued', queuedAt: new Date().toISOString() });
    await this.save();
    return true;
  }

  /**
   * Says where a landing is. Published, not written: after a crash the landing starts again from
   * the beginning whatever its step was (git says what it had done), so a write per step would buy
   * nothing and cost an fsync each.
   */
  async setStep(goalId: number, step: LandingStep): Promise<void> {
    const entry = this.entry(goalId);
    if (!entry || entry.step === step) return;
    entry.step = step;
    await this.writing;
    this.onChange(this.snapshot());
  }

  /** Takes a goal out of the queue (and, with `forgetLandability`, its landability: it landed or is gone). */
  async remove(goalId: number, options: { forgetLandability?: boolean } = {}): Promise<void> {
    const before = this.state.queue.length + this.state.goals.length;
    this.state.queue = this.state.queue.filter((entry) => entry.goalId !== goalId);
    if (options.forgetLandability) this.state.goals = this.state.goals.filter((entry) => entry.goalId !== goalId);
    if (this.state.queue.length + this.state.goals.length !== before) await this.save();
  }

  /** Records a goal's landability (replacing the one it had). */
  async setLandability(input: LandabilityInput): Promise<GoalLandability> {
    const files = [...(input.files ?? [])];
    const entry = GoalLandability.parse({
      ...input,
      ...(input.reason !== undefined ? { reason: capReason(input.reason) } : {}),
      files: files.slice(0, LANDING_FILES_MAX),
      ...(files.length > LANDING_FILES_MAX ? { moreFiles: files.length - LANDING_FILES_MAX } : {}),
      at: new Date().toISOString(),
    });
    const others = this.state.goals.filter((goal) => goal.goalId !== input.goalId);
    if (others.length >= LANDING_QUEUE_MAX) return entry; // full: shown as unknown, nothing lost
    this.state.goals = [...others, entry].sort((a, b) => a.goalId - b.goalId);
    await this.save();
    return entry;
  }

  /** Several landabilities' status at once (one write): the target moved, they need a rebase. */
  async markNeedsRebase(goalIds: readonly number[]): Promise<void> {
    let changed = false;
    const at = new Date().toISOString();
    for (const entry of this.state.goals) {
      if (!goalIds.includes(entry.goalId) || entry.status === 'needs-rebase' || entry.status === 'checking') continue;
      entry.status = 'needs-rebase';
      entry.at = at;
      changed = true;
    }
    if (changed) await this.save();
  }

  /** Keeps only the entries of goals `keep` says yes to (done and not landed ones). */
  async retain(keep: (goalId: number) => boolean): Promise<void> {
    const queue = this.state.queue.filter((entry) => keep(entry.goalId));
    const goals = this.state.goals.filter((entry) => keep(entry.goalId));
    if (queue.length === this.state.queue.length && goals.length === this.state.goals.length) return;
    this.state = { queue, goals };
    await this.save();
  }

  /** Waits for the writes so far. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private save(): Promise<void> {
    const write = this.writing.then(async () => {
      await writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 2)}\n`);
    });
    // A failed write is not the next one's failure.
    this.writing = write.catch(() => undefined);
    return write.then(() => this.onChange(this.snapshot()));
  }
}

function capReason(reason: string): string {
  return reason.length <= LANDING_REASON_MAX ? reason : `…${reason.slice(reason.length - LANDING_REASON_MAX + 1)}`;
}
