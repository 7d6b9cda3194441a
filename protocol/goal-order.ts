/**
 * Goal dependencies (`after`) and priorities: which queued goals may start, in which order, and what
 * holds the others. Pure (goals in, answers out), shared by the daemon's pipeline and store and by
 * the clients, so the TUI and the CLI say exactly what the pipeline does.
 *
 * A goal that comes after others starts only once every one of them has landed (its `landed`
 * record: the commit is on the developer's branch). Until then it stays `queued`, held, and says
 * why: a dependency not landed yet (with its state), cancelled (it will never land: take it out of
 * `after` or cancel this goal too), missing, or a cycle of goals each waiting for the other (only a
 * hand edit can make one: the daemon refuses them). Nothing moves it to `stuck`: a person decides.
 *
 * Among the goals free to start: higher `priority` first, then the pipeline's own groups (open
 * attempts, then new goals, then retries), then the oldest (lowest id) first.
 */
import type { Goal, GoalState } from './goal.ts';

/** Why a goal may not start yet: one per dependency that holds it. */
export type Blocker =
  /** The dependency has not landed yet (it is in `state`). */
  | { kind: 'waiting'; id: number; state: GoalState }
  /** The dependency was cancelled: it will never land. */
  | { kind: 'cancelled'; id: number }
  /** No valid goal has this id (never was, removed, or its file is invalid). */
  | { kind: 'missing'; id: number }
  /** The goal comes, through its dependencies, after itself: `path` goes from it back to it. */
  | { kind: 'cycle'; path: number[] };

type GoalOf = (id: number) => Goal | undefined;

/** A goal's priority: its own, or 0. */
export function priorityOf(goal: Pick<Goal, 'priority'>): number {
  return goal.priority ?? 0;
}

/** The ids of `after`, each once, in the order given (what the store keeps). */
export function normalizeAfter(after: readonly number[]): number[] {
  return [...new Set(after)];
}

/**
 * The cycle the goal `id` would be in if it came after `after` (the goals' current `after` read
 * through `goalOf`), as the path from `id` back to `id`; null when there is none.
 */
export function dependencyCycle(id: number, after: readonly number[], goalOf: GoalOf): number[] | null {
  // Depth-first from each dependency, remembering the way back; every goal is visited once.
  const seen = new Set<number>();
  const walk = (current: number, path: number[]): number[] | null => {
    if (current === id) return [...path, current];
    if (seen.has(current)) return null;
    seen.add(current);
    for (const next of goalOf(current)?.after ?? []) {
      const found = walk(next, [...path, current]);
      if (found) return found;
    }
    return null;
  };
  for (const first of after) {
    const found = walk(first, [id]);
    if (found) return found;
  }
  return null;
}

/** What holds the goal back: an empty list when every goal it comes after has landed. */
export function blockersOf(goal: Goal, goalOf: GoalOf): Blocker[] {
  const after = normalizeAfter(goal.after ?? []);
  if (after.length === 0) return [];
  const cycle = dependencyCycle(goal.id, after, goalOf);
  if (cycle) return [{ kind: 'cycle', path: cycle }];
  const blockers: Blocker[] = [];
  for (const id of after) {
    const dependency = goalOf(id);
    if (!dependency) blockers.push({ kind: 'missing', id });
    else if (dependency.landed) continue;
    else if (dependency.state === 'cancelled') blockers.push({ kind: 'cancelled', id });
    else blockers.push({ kind: 'waiting', id, state: dependency.state });
  }
  return blockers;
}

/** Whether nothing holds the goal back (it comes after nothing, or after goals that have all landed). */
export function isUnblocked(goal: Goal, goalOf: GoalOf): boolean {
  return blockersOf(goal, goalOf).length === 0;
}

/** One blocker in words: `#3 (running) has not landed`. */
export function describeBlocker(blocker: Blocker): string {
  switch (blocker.kind) {
    case 'waiting':
      return `#${blocker.id} (${blocker.state === 'done' ? 'done, not landed yet' : blocker.state}) has not landed`;
    case 'cancelled':
      return `#${blocker.id} was cancelled and will never land (take it out of after, or cancel this goal)`;
    case 'missing':
      return `#${blocker.id} does not exist`;
    case 'cycle':
      return `its dependencies form a cycle: ${blocker.path.map((id) => `#${id}`).join(' → ')}`;
  }
}

/** What holds the goal, in one line (`waiting: #3 (running) has not landed; #4 …`); null when nothing does. */
export function describeBlockers(blockers: readonly Blocker[]): string | null {
  return blockers.length === 0 ? null : `waiting: ${blockers.map(describeBlocker).join('; ')}`;
}

/** `after #3, #5`; null when the goal comes after nothing. */
export function describeAfter(goal: Pick<Goal, 'after'>): string | null {
  const after = normalizeAfter(goal.after ?? []);
  return after.length === 0 ? null : `after ${after.map((id) => `#${id}`).join(', ')}`;
}

/**
 * The order queued goals start in: higher priority first, then `group` (lower first: the
 * pipeline's own grouping), then the oldest first.
 */
export function compareForStart(a: Goal, b: Goal, group: (goal: Goal) => number = () => 0): number {
  return priorityOf(b) - priorityOf(a) || group(a) - group(b) || a.id - b.id;
}
