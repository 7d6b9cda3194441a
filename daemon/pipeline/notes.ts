/**
 * Progress notes: what each iteration did, in the agent's own words, is what the next iteration
 * (a fresh context) knows of the work so far. To keep every iteration's context small however
 * long a goal runs, older notes are condensed deterministically: the latest few stay whole, older
 * ones shrink to their first line, and past a budget the oldest are only counted. (No model call:
 * condensing must not cost money, fail, or change what an earlier iteration was told.)
 */
import { firstLine, Iteration, type Attempt, type CheckResult, type Goal } from '../../protocol/index.ts';

export interface CondenseOptions {
  /** The latest notes kept whole. Default 5. */
  keepWhole?: number;
  /** The most characters the condensed notes take. Default 6000. */
  maxChars?: number;
}

export const NOTE_DEFAULTS = { keepWhole: 5, maxChars: 6000 };

/** A note's length at most, when kept whole (an agent may write a lot). */
const NOTE_MAX_CHARS = 1500;

/** The note recorded for an iteration: its number, the agent's summary, and what the harness saw. */
export function iterationNote(
  iteration: Pick<Iteration, 'number' | 'summary' | 'commit' | 'check' | 'doneClaimed'> & { interrupted?: string },
): string {
  const facts: string[] = [];
  facts.push(iteration.commit ? `committed ${iteration.commit.slice(0, 7)}` : 'no changes');
  if (iteration.interrupted) facts.push(`interrupted: ${iteration.interrupted}`);
  if (iteration.doneClaimed) facts.push('claimed done');
  if (iteration.check) facts.push(describeCheck(iteration.check));
  return `Iteration ${iteration.number}: ${oneParagraph(iteration.summary)} (${facts.join('; ')})`;
}

export function describeCheck(check: CheckResult): string {
  if (check.ok) return 'check passed';
  return check.exitCode === null ? 'check did not finish' : `check failed with exit code ${check.exitCode}`;
}

/**
 * The notes as one block of text, within the budget: the latest `keepWhole` whole (each capped),
 * older ones by their first line, and the oldest dropped (counted) when even that is too long.
 */
export function condenseNotes(notes: readonly string[], options: CondenseOptions = {}): string {
  const keepWhole = options.keepWhole ?? NOTE_DEFAULTS.keepWhole;
  const maxChars = options.maxChars ?? NOTE_DEFAULTS.maxChars;
  if (notes.length === 0) return '';
  const split = Math.max(0, notes.length - keepWhole);
  const recent = notes.slice(split).map((note) => clipEnd(note.trim(), NOTE_MAX_CHARS));
  const older = notes.slice(0, split).map((note) => clipEnd(firstLine(note.trim()), 200));

  // The recent ones always stay (they are what the next step builds on); older lines fill what is left.
  const recentText = recent.join('\n');
  let budget = maxChars - recentText.length;
  const keptOlder: string[] = [];
  for (let index = older.length - 1; index >= 0; index--) {
    const line = older[index]!;
    if (line.length + 1 > budget) break;
    keptOlder.unshift(line);
    budget -= line.length + 1;
  }
  const omitted = older.length - keptOlder.length;
  const lines: string[] = [];
  if (omitted > 0) lines.push(`(${omitted} earlier ${omitted === 1 ? 'note' : 'notes'} omitted)`);
  lines.push(...keptOlder, recentText);
  return lines.join('\n');
}

/** An attempt's iterations as recorded (entries a hand edit broke are skipped). */
export function iterationsOf(attempt: Attempt): Iteration[] {
  const iterations: Iteration[] = [];
  for (const entry of attempt.iterations) {
    const parsed = Iteration.safeParse(entry);
    if (parsed.success) iterations.push(parsed.data);
  }
  return iterations;
}

/** The attempt in progress (started and not ended), if any. */
export function openAttempt(goal: Goal): Attempt | undefined {
  const last = goal.attempts.at(-1);
  return last && last.endedAt === undefined ? last : undefined;
}

/**
 * The number the next iteration gets: iterations are numbered across the goal's attempts (the
 * commit trailer `Ralph-Iteration: <goal>/<n>` must never repeat on the branch). An iteration that
 * was interrupted before it was recorded (a pause, a crash) runs again under its own number, so a
 * commit it already made is reused rather than duplicated.
 */
export function nextIterationNumber(goal: Goal): number {
  let last = 0;
  for (const attempt of goal.attempts) for (const iteration of iterationsOf(attempt)) last = Math.max(last, iteration.number);
  return last + 1;
}

/** The most recent check, in any attempt: what the next iteration must look at. */
export function lastCheck(goal: Goal): { iteration: number; check: CheckResult } | null {
  for (const attempt of [...goal.attempts].reverse()) {
    const iterations = iterationsOf(attempt);
    for (const iteration of iterations.reverse()) if (iteration.check) return { iteration: iteration.number, check: iteration.check };
  }
  return null;
}

/**
 * What a retried goal carries from its earlier attempts: how each ended and its notes, condensed.
 * Null on the first attempt.
 */
export function retryContext(goal: Goal, options: CondenseOptions = {}): string | null {
  const current = openAttempt(goal);
  const earlier = goal.attempts.filter((attempt) => attempt !== current && attempt.endedAt !== undefined);
  if (earlier.length === 0) return null;
  const blocks = earlier.map((attempt) => {
    const ending = attempt.outcome ? `ended ${attempt.outcome}${attempt.reason ? `: ${oneParagraph(attempt.reason)}` : ''}` : 'ended';
    const notes = condenseNotes(attempt.notes, { keepWhole: 2, maxChars: 1500, ...options });
    return `Attempt ${attempt.number} ${ending}.${notes ? `\n${notes}` : ''}`;
  });
  return blocks.join('\n\n');
}

function oneParagraph(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

function clipEnd(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
