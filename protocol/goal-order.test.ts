import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GOAL_AFTER_MAX, GOAL_PRIORITY_MAX, GOAL_PRIORITY_MIN, Goal, createGoal, transition, type GoalState } from './goal.ts';
import { blockersOf, compareForStart, dependencyCycle, describeAfter, describeBlockers, normalizeAfter } from './goal-order.ts';

const now = new Date('2026-11-26T10:00:00.000Z');

function goal(id: number, fields: { after?: number[]; priority?: number; state?: GoalState; landed?: boolean } = {}): Goal {
  let made = createGoal({ id, title: `Goal ${id}`, now, after: fields.after, priority: fields.priority });
  const path: Record<GoalState, ('queue' | 'start' | 'complete' | 'fail' | 'cancel')[]> = {
    draft: [],
    queued: ['queue'],
    running: ['queue', 'start'],
    done: ['queue', 'start', 'complete'],
    stuck: ['queue', 'start', 'fail'],
    cancelled: ['cancel'],
    paused: [],
    waiting: [],
  };
  for (const action of path[fields.state ?? 'queued']) made = transition(made, action, { now });
  if (fields.landed) made = { ...made, landed: { commit: 'a'.repeat(40), branch: 'main', at: now.toISOString() } };
  return made;
}

function lookup(...goals: Goal[]) {
  const byId = new Map(goals.map((each) => [each.id, each]));
  return (id: number) => byId.get(id);
}

describe('the goal fields after and priority', () => {
  it('createGoal keeps them, leaving out an empty after and the default priority', () => {
    const made = createGoal({ id: 3, title: 'T', now, after: [1, 2], priority: 5 });
    assert.deepEqual(made.after, [1, 2]);
    assert.equal(made.priority, 5);
    const plain = createGoal({ id: 4, title: 'T', now, after: [], priority: 0 });
    assert.equal('after' in plain, false);
    assert.equal('priority' in plain, false);
  });

  it('the goal file holds them to their bounds: no self, ids, at most GOAL_AFTER_MAX, an integer priority in range', () => {
    const base = createGoal({ id: 3, title: 'T', now });
    assert.equal(Goal.safeParse({ ...base, after: [1, 2], priority: -7 }).success, true);
    const self = Goal.safeParse({ ...base, after: [1, 3] });
    assert.equal(self.success, false);
    assert.match(String(self.error), /cannot come after itself/);
    assert.equal(Goal.safeParse({ ...base, after: [0] }).success, false);
    assert.equal(Goal.safeParse({ ...base, after: ['1'] }).success, false);
    assert.equal(Goal.safeParse({ ...base, after: Array.from({ length: GOAL_AFTER_MAX + 1 }, (_, i) => i + 10) }).success, false);
    assert.equal(Goal.safeParse({ ...base, priority: GOAL_PRIORITY_MAX + 1 }).success, false);
    assert.equal(Goal.safeParse({ ...base, priority: GOAL_PRIORITY_MIN - 1 }).success, false);
    assert.equal(Goal.safeParse({ ...base, priority: 1.5 }).success, false);
    assert.throws(() => createGoal({ id: 3, title: 'T', now, after: [3] }), /cannot come after itself/);
  });

  it('normalizeAfter keeps each id once, in order', () => {
    assert.deepEqual(normalizeAfter([3, 1, 3, 2, 1]), [3, 1, 2]);
  });
});

describe('blockersOf: what holds a goal', () => {
  it('nothing when it comes after nothing, or after goals that have all landed', () => {
    assert.deepEqual(blockersOf(goal(1), lookup()), []);
    const landed = goal(1, { state: 'done', landed: true });
    assert.deepEqual(blockersOf(goal(2, { after: [1] }), lookup(landed)), []);
  });

  it('a dependency not landed (done is not enough), cancelled, or missing, each with why', () => {
    const running = goal(1, { state: 'running' });
    const done = goal(2, { state: 'done' });
    const cancelled = goal(3, { state: 'cancelled' });
    const blocked = goal(5, { after: [1, 2, 3, 4] });
    const blockers = blockersOf(blocked, lookup(running, done, cancelled, blocked));
    assert.deepEqual(blockers, [
      { kind: 'waiting', id: 1, state: 'running' },
      { kind: 'waiting', id: 2, state: 'done' },
      { kind: 'cancelled', id: 3 },
      { kind: 'missing', id: 4 },
    ]);
    assert.equal(
      describeBlockers(blockers),
      'waiting: #1 (running) has not landed; #2 (done, not landed yet) has not landed; ' +
        '#3 was cancelled and will never land (take it out of after, or cancel this goal); #4 does not exist',
    );
    assert.equal(describeBlockers([]), null);
  });

  it('a cycle (only a hand edit makes one) holds every goal in it, and says so', () => {
    const a = goal(1, { after: [2] });
    const b = goal(2, { after: [3] });
    const c = goal(3, { after: [1] });
    const goalOf = lookup(a, b, c);
    assert.deepEqual(blockersOf(a, goalOf), [{ kind: 'cycle', path: [1, 2, 3, 1] }]);
    assert.match(describeBlockers(blockersOf(b, goalOf)) ?? '', /cycle: #2 → #3 → #1 → #2/);
  });
});

describe('dependencyCycle', () => {
  it('finds the cycle a new after would make, through any depth, and none where there is none', () => {
    const a = goal(1);
    const b = goal(2, { after: [1] });
    const c = goal(3, { after: [2] });
    const goalOf = lookup(a, b, c);
    assert.deepEqual(dependencyCycle(1, [3], goalOf), [1, 3, 2, 1]);
    assert.deepEqual(dependencyCycle(1, [2], goalOf), [1, 2, 1]);
    assert.equal(dependencyCycle(3, [1], goalOf), null);
    assert.equal(dependencyCycle(4, [3, 2], goalOf), null);
    // A diamond is no cycle.
    const d = goal(4, { after: [2, 3] });
    assert.equal(dependencyCycle(5, [4, 2], lookup(a, b, c, d)), null);
  });
});

describe('compareForStart', () => {
  it('higher priority first, then the group, then the oldest', () => {
    const goals = [goal(1), goal(2, { priority: 5 }), goal(3, { priority: -1 }), goal(4, { priority: 5 }), goal(5)];
    assert.deepEqual(
      [...goals].sort((a, b) => compareForStart(a, b)).map((each) => each.id),
      [2, 4, 1, 5, 3],
    );
    const group = (each: Goal) => (each.id === 5 ? 0 : 1);
    assert.deepEqual(
      [...goals].sort((a, b) => compareForStart(a, b, group)).map((each) => each.id),
      [2, 4, 5, 1, 3],
    );
  });

  it('describeAfter names the goals', () => {
    assert.equal(describeAfter(goal(3, { after: [1, 2] })), 'after #1, #2');
    assert.equal(describeAfter(goal(3)), null);
  });
});
