import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILTIN_AGENTS,
  GOAL_ACTIONS,
  GOAL_STATES,
  Goal,
  InvalidTransitionError,
  allowedActions,
  canTransition,
  createGoal,
  isAgentName,
  isFinal,
  transition,
  type GoalAction,
  type GoalState,
} from './goal.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const later = new Date('2026-11-26T11:00:00.000Z');

/** DESIGN.md's transitions, written out independently of TRANSITIONS so the table is checked. */
const LEGAL: ReadonlyArray<[GoalState, GoalAction, GoalState]> = [
  ['draft', 'queue', 'queued'],
  ['paused', 'queue', 'queued'],
  ['queued', 'start', 'running'],
  ['running', 'complete', 'done'],
  ['running', 'fail', 'stuck'],
  ['running', 'pause', 'paused'],
  ['running', 'ask', 'waiting'],
  ['queued', 'ask', 'waiting'],
  ['waiting', 'answer', 'queued'],
  ['stuck', 'retry', 'queued'],
  ['running', 'recover', 'queued'],
  ['done', 'resolve', 'queued'],
  ['draft', 'cancel', 'cancelled'],
  ['queued', 'cancel', 'cancelled'],
  ['running', 'cancel', 'cancelled'],
  ['paused', 'cancel', 'cancelled'],
  ['waiting', 'cancel', 'cancelled'],
  ['stuck', 'cancel', 'cancelled'],
];

/** A landing conflict, which `resolve` needs. */
const conflict = { files: ['a.txt'], branch: 'main', targetHead: 'a'.repeat(40), goalHead: 'b'.repeat(40) };

function goalIn(state: GoalState): Goal {
  return { ...createGoal({ id: 7, title: 'Ship it', now }), state };
}

describe('goal state machine', () => {
  for (const [from, action, to] of LEGAL) {
    it(`${from} --${action}--> ${to}`, () => {
      assert.equal(canTransition(from, action), true);
      const next = transition(goalIn(from), action, { now: later, note: 'why', ...(action === 'resolve' ? { resolving: conflict } : {}) });
      assert.equal(next.state, to);
      assert.equal(next.updatedAt, later.toISOString());
      assert.deepEqual(next.history.at(-1), { action, from, to, at: later.toISOString(), note: 'why' });
      assert.doesNotThrow(() => Goal.parse(next));
    });
  }

  const legal = new Set(LEGAL.map(([from, action]) => `${from}:${action}`));
  for (const from of GOAL_STATES) {
    for (const action of GOAL_ACTIONS) {
      if (legal.has(`${from}:${action}`)) continue;
      it(`refuses ${action} from ${from}`, () => {
        assert.equal(canTransition(from, action), false);
        const goal = goalIn(from);
        assert.throws(
          () => transition(goal, action, { now: later }),
          (error: unknown) => {
            assert.ok(error instanceof InvalidTransitionError);
            assert.match(error.message, new RegExp(`goal #7 is ${from}: cannot ${action}`));
            return true;
          },
        );
        assert.equal(goal.state, from, 'the goal is not changed');
      });
    }
  }

  it('final states allow nothing but the daemon sending a done goal back to resolve a landing conflict', () => {
    for (const state of GOAL_STATES) {
      assert.deepEqual(isFinal(state) ? allowedActions(state) : [], state === 'done' ? ['resolve'] : []);
      if (!isFinal(state)) assert.notEqual(allowedActions(state).length, 0);
    }
    assert.deepEqual(GOAL_STATES.filter(isFinal), ['done', 'cancelled']);
  });

  it('resolve needs the conflict, carries it into the run and drops it when the run ends', () => {
    const done = goalIn('done');
    assert.throws(() => transition(done, 'resolve', { now }), InvalidTransitionError);
    assert.throws(
      () =>
        transition({ ...done, landed: { commit: 'c'.repeat(40), branch: 'main', at: now.toISOString() } }, 'resolve', {
          now,
          resolving: conflict,
        }),
      InvalidTransitionError,
    );
    const running = transition(transition(done, 'resolve', { now, resolving: conflict }), 'start', { now });
    assert.deepEqual(running.resolving, conflict);
    assert.doesNotThrow(() => Goal.parse(running));
    assert.equal(transition(running, 'complete', { now }).resolving, undefined);
    assert.equal(transition(running, 'fail', { now }).resolving, undefined);
    assert.deepEqual(transition(running, 'recover', { now }).resolving, conflict, 'a restart resolves on');
  });

  it('keeps attempts in step: pause, a question and recover continue an attempt, retry opens a new one', () => {
    let goal = createGoal({ id: 1, title: 'A', now });
    goal = transition(goal, 'queue', { now });
    goal = transition(goal, 'start', { now });
    assert.equal(goal.attempts.length, 1);
    goal = transition(goal, 'pause', { now });
    goal = transition(goal, 'queue', { now });
    goal = transition(goal, 'start', { now });
    goal = transition(goal, 'recover', { now, note: 'daemon restarted' });
    goal = transition(goal, 'start', { now });
    goal = transition(goal, 'ask', { now, note: 'which database?' });
    goal = transition(goal, 'answer', { now, note: 'sqlite' });
    goal = transition(goal, 'start', { now });
    assert.equal(goal.attempts.length, 1, 'one attempt across pause, a question and recovery');
    goal = transition(goal, 'fail', { now: later, note: 'max iterations' });
    assert.deepEqual(
      { outcome: goal.attempts[0]?.outcome, reason: goal.attempts[0]?.reason, endedAt: goal.attempts[0]?.endedAt },
      { outcome: 'stuck', reason: 'max iterations', endedAt: later.toISOString() },
    );
    goal = transition(goal, 'retry', { now });
    goal = transition(goal, 'start', { now });
    assert.equal(goal.attempts.length, 2);
    assert.equal(goal.attempts[1]?.number, 2);
    goal = transition(goal, 'complete', { now });
    assert.equal(goal.attempts[1]?.outcome, 'done');
    assert.equal(goal.history.length, 14);
  });

  it('does not mutate the goal it is given', () => {
    const goal = transition(transition(goalIn('draft'), 'queue', { now }), 'start', { now });
    const frozen = structuredClone(goal);
    transition(goal, 'complete', { now: later });
    assert.deepEqual(goal, frozen);
  });

  it('validates goals: keeps unknown keys, refuses bad ones with the path', () => {
    const goal = { ...createGoal({ id: 3, title: '  Trim me  ', now }), custom: { kept: true } };
    assert.equal(goal.title, 'Trim me');
    assert.deepEqual(Goal.parse(goal).custom, { kept: true });
    const bad = Goal.safeParse({ ...goal, state: 'flying' });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['state']);
    assert.equal(Goal.safeParse({ ...goal, id: 0 }).success, false);
    assert.equal(Goal.safeParse({ ...goal, title: '' }).success, false);
  });
});

describe('a goal names its agent backend', () => {
  it('carries an agent when given one, none otherwise (the config then chooses)', () => {
    const chosen = createGoal({ id: 4, title: 'Use Codex', now, agent: 'codex' });
    assert.equal(chosen.agent, 'codex');
    assert.equal(Goal.parse(JSON.parse(JSON.stringify(chosen))).agent, 'codex', 'the goal file keeps it');
    const plain = createGoal({ id: 5, title: 'Default', now });
    assert.equal('agent' in plain, false);
    assert.equal(Goal.parse(JSON.parse(JSON.stringify(plain))).agent, undefined);
  });

  it('takes every built-in backend and a name a config could define', () => {
    const goal = createGoal({ id: 6, title: 'Any', now });
    for (const agent of [...BUILTIN_AGENTS, 'my-agent', 'a', `a${'b'.repeat(31)}`]) {
      assert.equal(Goal.safeParse({ ...goal, agent }).success, true, agent);
      assert.equal(isAgentName(agent), true, agent);
    }
  });

  it('refuses a name that is no bounded lower-case name, with the path', () => {
    const goal = createGoal({ id: 8, title: 'Bad', now });
    for (const agent of ['', 'Claude', '1claude', '-x', 'claude code', 'claude;rm', '../codex', `a${'b'.repeat(32)}`, 7, null]) {
      const result = Goal.safeParse({ ...goal, agent });
      assert.equal(result.success, false, String(agent));
      assert.deepEqual(result.error?.issues[0]?.path, ['agent']);
      if (typeof agent === 'string') assert.equal(isAgentName(agent), false, agent);
    }
    assert.throws(() => createGoal({ id: 9, title: 'Bad', now, agent: 'Not Valid' }));
  });
});
