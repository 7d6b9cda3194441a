import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  transition as applyTransition,
  createGoal,
  NOTIFICATION_BODY_MAX,
  NOTIFICATION_TITLE_MAX,
  type EventEnvelope,
  type Goal,
  type GoalAction,
} from '../../protocol/index.ts';
import { notificationsOf } from './notifications.ts';

const now = new Date('2026-01-01T10:00:00.000Z');

function envelope(event: Pick<EventEnvelope, 'type' | 'data'>): EventEnvelope {
  return { seq: 1, time: now.toISOString(), ...event } as EventEnvelope;
}

/** The `goal.updated` the store publishes for each action, in turn. */
function transitions(goal: Goal, ...actions: [GoalAction, string?][]): EventEnvelope[] {
  return actions.map(([action, note]) => {
    goal = applyTransition(goal, action, note === undefined ? { now } : { now, note });
    return envelope({ type: 'goal.updated', data: { goal, transition: goal.history.at(-1)!, source: 'daemon' } });
  });
}

const noTitles = () => undefined;

describe('notifications of the event stream', () => {
  it('a goal that becomes done or stuck is one notification, in words; the states on the way are none', () => {
    const goal = createGoal({ id: 3, title: 'Fix the parser', now });
    const events = transitions(
      goal,
      ['queue'],
      ['start'],
      ['fail', 'no progress in 3 iterations'],
      ['retry'],
      ['start'],
      ['complete', 'the parser takes\nnested lists'],
    );
    assert.deepEqual(
      events.flatMap((event) => notificationsOf(event, noTitles)),
      [
        { kind: 'stuck', goalId: 3, title: '#3 stuck: Fix the parser', body: 'no progress in 3 iterations' },
        { kind: 'done', goalId: 3, title: '#3 done: Fix the parser', body: 'the parser takes nested lists' },
      ],
    );
  });

  it('a landing is told by its log line, with the goal title found by its id', () => {
    const entry = { goalId: 3, index: 7, time: now.toISOString(), kind: 'landed', text: 'landed as abc1234 on main (2 files)' };
    const other = { ...entry, index: 6, kind: 'note', text: 'not this' };
    const event = envelope({ type: 'log.appended', data: { goalId: 3, entries: [other, entry] } });
    assert.deepEqual(
      notificationsOf(event, (id) => (id === 3 ? 'Fix the parser' : undefined)),
      [{ kind: 'landed', goalId: 3, title: '#3 landed: Fix the parser', body: 'landed as abc1234 on main (2 files)' }],
    );
  });

  it('an edit of a goal, a goal file changed by hand, and other events are no notification', () => {
    const goal = createGoal({ id: 1, title: 'T', now });
    assert.deepEqual(notificationsOf(envelope({ type: 'goal.updated', data: { goal, source: 'file' } }), noTitles), []);
    assert.deepEqual(notificationsOf(envelope({ type: 'goal.created', data: { goal } }), noTitles), []);
    assert.deepEqual(notificationsOf(envelope({ type: 'pipeline.changed', data: { paused: true, running: [] } }), noTitles), []);
  });

  it('puts a hostile or huge title on one clipped line (the terminal cleans it again before writing it)', () => {
    const title = `evil\u001b]52;c;aGFjaw==\u0007\r\n${'x'.repeat(176)}`;
    const goal = createGoal({ id: 9, title, now });
    const [stuck] = transitions(goal, ['queue'], ['start'], ['fail', `${'why '.repeat(400)}\u001b[2J`]).flatMap((event) =>
      notificationsOf(event, noTitles),
    );
    assert.ok(stuck);
    assert.doesNotMatch(stuck.title + stuck.body, /[\u0000-\u001f]/);
    assert.ok(stuck.title.length <= NOTIFICATION_TITLE_MAX && stuck.title.endsWith('…'));
    assert.ok(stuck.body.length <= NOTIFICATION_BODY_MAX && stuck.body.endsWith('…'));
  });
});
