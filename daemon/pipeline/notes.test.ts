import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGoal, emptyUsage, transition, type Goal, type Iteration } from '../../protocol/index.ts';
import { boundsFrom, spendOf, spendingBoundReached, stallDetected } from './bounds.ts';
import { defaultConfig } from '../config/schema.ts';
import { condenseNotes, iterationNote, lastCheck, nextIterationNumber, retryContext } from './notes.ts';
import { iterationPrompt } from './iteration.ts';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function iteration(number: number, extra: Partial<Iteration> = {}): Iteration {
  return {
    number,
    startedAt: NOW.toISOString(),
    summary: `did step ${number}`,
    commit: 'abcdef1234567890',
    check: null,
    doneClaimed: false,
    usage: emptyUsage(),
    ...extra,
  };
}

/** A goal started once (attempt 1 open) with these iterations recorded. */
function runningGoal(iterations: Iteration[]): Goal {
  const goal = transition(transition(createGoal({ id: 7, title: 'Seven', now: NOW }), 'queue', { now: NOW }), 'start', { now: NOW });
  goal.attempts[0]!.iterations = iterations;
  goal.attempts[0]!.notes = iterations.map((entry) => iterationNote(entry));
  return goal;
}

describe('progress notes', () => {
  it('a note says what the iteration did and what the harness saw', () => {
    const check = { command: 'npm test', ok: false, exitCode: 1, output: 'boom', durationMs: 5 };
    assert.equal(
      iterationNote(iteration(3, { summary: 'Added the parser.\nTests next.', check, doneClaimed: true })),
      'Iteration 3: Added the parser. Tests next. (committed abcdef1; claimed done; check failed with exit code 1)',
    );
    assert.equal(iterationNote(iteration(4, { commit: null })), 'Iteration 4: did step 4 (no changes)');
  });

  it('condensing keeps the latest notes whole, older ones by their first line, and counts what no longer fits', () => {
    const notes = Array.from({ length: 30 }, (_, index) => `Note ${index + 1} headline\n${'detail '.repeat(20)}`);
    const condensed = condenseNotes(notes, { keepWhole: 2, maxChars: 600 });
    assert.ok(condensed.length <= 600 + 40, `within the budget (${condensed.length})`);
    assert.match(condensed, /^\(\d+ earlier notes omitted\)\n/);
    assert.match(condensed, /Note 28 headline\n/, 'older notes keep their first line');
    assert.doesNotMatch(condensed, /Note 28 headline\ndetail/);
    assert.match(condensed, /Note 29 headline\ndetail/, 'the latest notes stay whole');
    assert.match(condensed, /Note 30 headline\ndetail/);
    assert.equal(condenseNotes(['a', 'b']), 'a\nb', 'short notes are left as they are');
  });

  it('iterations are numbered across attempts; the last check is the most recent one', () => {
    const failing = { command: 'npm test', ok: false, exitCode: 1, output: 'one failure', durationMs: 5 };
    const goal = runningGoal([iteration(1, { check: failing }), iteration(2)]);
    assert.equal(nextIterationNumber(goal), 3);
    assert.deepEqual(lastCheck(goal), { iteration: 1, check: failing });
    assert.equal(retryContext(goal), null, 'no earlier attempt');

    const retried = transition(transition(transition(goal, 'fail', { now: NOW, note: 'stalled' }), 'retry', { now: NOW }), 'start', {
      now: NOW,
    });
    assert.equal(nextIterationNumber(retried), 3, 'the second attempt goes on from 3');
    assert.match(retryContext(retried) ?? '', /^Attempt 1 ended stuck: stalled\.\nIteration 1: did step 1/);
  });

  it('the prompt holds the goal, the notes, the last check’s output and the rule', () => {
    const failing = { command: 'npm test', ok: false, exitCode: 1, output: 'expected 2, got 3', durationMs: 5 };
    const goal = runningGoal([iteration(1, { check: failing })]);
    const prompt = iterationPrompt({
      goal,
      number: 2,
      positionInAttempt: 2,
      notes: goal.attempts[0]!.notes,
      lastCheck: lastCheck(goal),
      retryContext: null,
      verify: 'npm test',
    });
    assert.match(prompt, /^# Goal #7: Seven\n\n## Objective/);
    assert.match(prompt, /Iteration 1: did step 1/);
    assert.match(
      prompt,
      /`npm test` after iteration 1: check failed with exit code 1\. The end of its output:\n\n```\nexpected 2, got 3\n```/,
    );
    assert.match(prompt, /Iteration 2 \(the 2nd of this attempt\)\. The check is `npm test`/);
    assert.match(prompt, /Take ONE step toward the goal, then stop\. Call goal_done \{summary\} only when/);
  });
});

describe('bounds', () => {
  const bounds = boundsFrom({ ...defaultConfig().executor, maxCostUsd: 1, maxTokens: 1000, maxMinutes: 1 });

  it('spending: time, then cost where it is known, tokens where it is not', () => {
    const usage = { ...emptyUsage(), inputTokens: 2000, costUsd: 0.5 };
    assert.equal(
      spendingBoundReached(spendOf([], { activeMs: 1000, usage }), bounds),
      null,
      'a known cost under the bound: tokens do not count',
    );
    assert.match(
      spendingBoundReached(spendOf([], { activeMs: 1000, usage: { ...usage, costUsd: null } }), bounds) ?? '',
      /^token bound reached: 2,000 tokens/,
    );
    assert.match(
      spendingBoundReached(spendOf([], { activeMs: 1000, usage: { ...usage, costUsd: 1.5 } }), bounds) ?? '',
      /^cost bound reached: \$1\.50/,
    );
    assert.match(spendingBoundReached(spendOf([], { activeMs: 60_000, usage: emptyUsage() }), bounds) ?? '', /^time bound reached: 1 min/);
  });

  it('time is active time: recorded iterations count their duration less their waits', () => {
    const recorded = [
      { ...iteration(1), durationMs: 50_000, waitedMs: 30_000 },
      { ...iteration(2), durationMs: 30_000, waitedMs: 0 },
    ];
    assert.equal(spendOf(recorded, { activeMs: 0, usage: emptyUsage() }).activeMs, 50_000);
  });

  it('stalls: no change three times, or the same failure three times (numbers masked)', () => {
    assert.equal(stallDetected([iteration(1, { commit: null }), iteration(2, { commit: null })], bounds), null);
    assert.match(
      stallDetected(
        [iteration(1), iteration(2, { commit: null }), iteration(3, { commit: null }), iteration(4, { commit: null })],
        bounds,
      ) ?? '',
      /changed nothing/,
    );
    const failed = (output: string) => ({ command: 't', ok: false, exitCode: 1, output, durationMs: 1 });
    const same = [1, 2, 3].map((n) => iteration(n, { check: failed(`1 failed in ${n * 17} ms`) }));
    assert.match(stallDetected(same, bounds) ?? '', /failed the same way 3 times/);
    const different = [1, 2, 3].map((n) => iteration(n, { check: failed(n === 3 ? 'another failure' : 'a failure') }));
    assert.equal(stallDetected(different, bounds), null);
  });
});
