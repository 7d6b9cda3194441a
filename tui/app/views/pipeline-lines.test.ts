import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LandingState } from '../../../protocol/index.ts';
import { initialViewState, reduce } from '../state/view-state.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../../test/helpers/tui/fixtures.ts';
import { goalDetail, goalMeta, pipelineLines, scrollWindow } from './pipeline-lines.ts';

describe('pipelineLines', () => {
  test('a header per group, then its goals; invalid goals last under their own header', () => {
    const lines = pipelineLines(
      [
        { state: 'running', goals: [makeGoal(2, 'running')] },
        { state: 'draft', goals: [makeGoal(1), makeGoal(3)] },
      ],
      [{ id: 4, file: '.ralph/goals/4.json', error: 'bad' }],
      3,
    );
    assert.deepEqual(
      lines.map((line) =>
        line.kind === 'header'
          ? `${line.label} (${line.count})`
          : line.kind === 'goal'
            ? `#${line.goal.id}${line.selected ? '*' : ''}`
            : `!${line.invalid.id}`,
      ),
      ['Running (1)', '#2', 'Draft (2)', '#1', '#3*', 'Invalid (1)', '!4'],
    );
  });
});

describe('scrollWindow', () => {
  const shownLines = (w: ReturnType<typeof scrollWindow>) => w.end - w.start + (w.above > 0 ? 1 : 0) + (w.below > 0 ? 1 : 0);

  test('everything shows when it fits', () => {
    assert.deepEqual(scrollWindow(5, 4, 5), { start: 0, end: 5, above: 0, below: 0 });
  });

  test('at the top: no marker above, one below', () => {
    const w = scrollWindow(100, 0, 10);
    assert.deepEqual(w, { start: 0, end: 9, above: 0, below: 91 });
    assert.equal(shownLines(w), 10);
  });

  test('at the bottom: one marker above, none below', () => {
    const w = scrollWindow(100, 99, 10);
    assert.deepEqual(w, { start: 91, end: 100, above: 91, below: 0 });
    assert.equal(shownLines(w), 10);
  });

  test('in the middle the focus is visible and the rows are exactly filled', () => {
    for (let focus = 0; focus < 50; focus++) {
      for (const height of [1, 2, 3, 4, 10]) {
        const w = scrollWindow(50, focus, height);
        assert.ok(w.start <= focus && focus < w.end, `focus ${focus} in [${w.start}, ${w.end}) at height ${height}`);
        assert.equal(shownLines(w), height, `height ${height}, focus ${focus}`);
      }
    }
  });
});

describe('goal meta and detail', () => {
  const withState = (goals: ReturnType<typeof makeGoal>[]) => initialViewState(makeSnapshot({ goals }), 'open');

  test("the goal's own agent, the iteration (k, or k/max when the bound is known) and the cost or tokens", () => {
    const running = makeGoal(2, 'running');
    let state = withState([running]);
    assert.deepEqual(
      goalMeta(running, state, 50),
      { agent: null, iteration: null, usage: null, warning: false },
      'nothing yet: nothing shown',
    );
    assert.equal(goalMeta({ ...running, agent: 'claude' }, state, 50).agent, 'claude');
    state = reduce(state, {
      kind: 'event',
      event: makeEvent(1, 'progress.begin', { token: 'goal:2:3', kind: 'iteration', title: 'Iteration 3' }),
    });
    const spent = { ...running, usage: { inputTokens: 9000, cachedInputTokens: 0, outputTokens: 1000, calls: 4, costUsd: 0.1234 } };
    assert.deepEqual(goalMeta(spent, state, 50), { agent: null, iteration: 'it 3/50', usage: '$0.12', warning: false });
    assert.equal(goalMeta({ ...spent, usage: { ...spent.usage, costUsd: null } }, state, null).usage, '10k tok', 'unknown prices: tokens');
    assert.equal(goalMeta(spent, state, null).iteration, 'it 3');
  });

  test('the detail line: a warning first, else what the iteration does, why it is stuck, where it landed', () => {
    const stuck = makeGoal(3, 'stuck');
    const withReason = {
      ...stuck,
      attempts: stuck.attempts.map((attempt) => ({ ...attempt, reason: 'the check failed 3 times the same way' })),
    };
    let state = withState([withReason]);
    assert.deepEqual(goalDetail(withReason, state), { tone: 'error', text: 'stuck: the check failed 3 times the same way' });
    state = reduce(state, {
      kind: 'event',
      event: makeEvent(1, 'goal.warning', { goalId: 3, kind: 'conflict', message: 'you edited a.ts too', paths: ['a.ts'] }),
    });
    assert.deepEqual(goalDetail(withReason, state), { tone: 'warning', text: '⚠ you edited a.ts too' });
    const landed = { ...makeGoal(4, 'done'), landed: { commit: '0123456789abcdef', branch: 'main', at: '2025-01-02T03:04:05.000Z' } };
    assert.deepEqual(goalDetail(landed, withState([landed])), { tone: 'info', text: 'landed on main as 0123456789' });
  });
});

describe('the queue worker running a remote goal', () => {
  const queueOf = (worker: string) => ({ url: 'redis://q:6379', reachable: true, workers: [{ goalId: 2, worker }] });

  test('the row and the detail line say which worker runs it; a goal run here says nothing of workers', () => {
    const running = makeGoal(2, 'running');
    let state = initialViewState({ ...makeSnapshot({ goals: [running] }), queue: queueOf('worker-a') }, 'open');
    assert.equal(goalMeta(running, state, 50).worker, 'on worker-a');
    assert.deepEqual(goalDetail(running, state), { tone: 'info', text: 'on worker-a' });
    state = reduce(state, {
      kind: 'event',
      event: makeEvent(1, 'progress.begin', { token: 'goal:2:3', kind: 'iteration', title: 'Iteration 3' }),
    });
    state = reduce(state, { kind: 'event', event: makeEvent(2, 'progress.report', { token: 'goal:2:3', message: 'running the check' }) });
    assert.deepEqual(goalDetail(running, state), { tone: 'info', text: 'on worker-a · iteration 3: running the check' });
    const local = initialViewState(makeSnapshot({ goals: [running] }), 'open');
    assert.equal(goalMeta(running, local, 50).worker, undefined);
    assert.equal(goalDetail(running, local), null);
  });

  test('a hostile worker name is one line without controls, short beside the title', () => {
    const running = makeGoal(2, 'running');
    const hostile = `evil\u001b]0;owned\u0007\nname${'x'.repeat(60)}`;
    const state = initialViewState({ ...makeSnapshot({ goals: [running] }), queue: queueOf(hostile.slice(0, 100)) }, 'open');
    const worker = goalMeta(running, state, 50).worker ?? '';
    assert.doesNotMatch(worker, /[\u0000-\u001f\u007f-\u009f]/);
    assert.match(worker, /^on evil \]0;owned namex*…$/);
    assert.ok(worker.length <= 'on '.length + 20, worker);
    assert.doesNotMatch(goalDetail(running, state)?.text ?? '', /[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('goal order: priority and the goals a goal comes after', () => {
  const withState = (goals: ReturnType<typeof makeGoal>[]) => initialViewState(makeSnapshot({ goals }), 'open');
  const landed = (goal: ReturnType<typeof makeGoal>) => ({ ...goal, landed: { commit: 'abcdef0123', branch: 'main', at: goal.updatedAt } });

  test('the row says "prio N" and "after #3", or "waits for #3" while a queued goal is held', () => {
    const first = makeGoal(3, 'running');
    const second = { ...makeGoal(4, 'queued'), after: [3], priority: 5 };
    assert.equal(goalMeta(second, withState([first, second]), 50).order, 'prio 5 · waits for #3');
    const done = landed(makeGoal(3, 'done'));
    assert.equal(goalMeta(second, withState([done, second]), 50).order, 'prio 5 · after #3');
    assert.equal(goalMeta({ ...second, state: 'running' }, withState([first, second]), 50).order, 'prio 5 · after #3');
    assert.equal('order' in goalMeta(makeGoal(5, 'queued'), withState([]), 50), false, 'neither: nothing shown');
  });

  test('the detail line of a held goal says what holds it: info while it waits, a warning when it never will start by itself', () => {
    const first = makeGoal(3, 'done');
    const second = { ...makeGoal(4, 'queued'), after: [3] };
    assert.deepEqual(goalDetail(second, withState([first, second])), {
      tone: 'info',
      text: 'waiting: #3 (done, not landed yet) has not landed',
    });
    const cancelled = makeGoal(3, 'cancelled');
    assert.deepEqual(goalDetail(second, withState([cancelled, second])), {
      tone: 'warning',
      text: 'waiting: #3 was cancelled and will never land (take it out of after, or cancel this goal)',
    });
    assert.equal(goalDetail(second, withState([landed(first), second])), null, 'landed: nothing holds it');
  });
});

describe('landing: the queue and each done goal’s landability', () => {
  const at = '2025-01-02T03:04:05.000Z';
  const withLanding = (goals: ReturnType<typeof makeGoal>[], landing: LandingState) =>
    reduce(initialViewState(makeSnapshot({ goals }), 'open'), { kind: 'event', event: makeEvent(1, 'landing.changed', landing) });

  test('a done goal’s row says its place in the queue, its landing step, or its landability', () => {
    const [one, two, three] = [makeGoal(1, 'done'), makeGoal(2, 'done'), makeGoal(3, 'done')];
    const state = withLanding([one, two, three], {
      queue: [
        { goalId: 1, queuedAt: at, by: 'manual', step: 'check' },
        { goalId: 2, queuedAt: at, by: 'auto', step: 'queued' },
      ],
      goals: [{ goalId: 3, status: 'conflicts', files: ['a.ts'], at }],
    });
    assert.equal(goalMeta(one, state, 50).landing, 'landing: check');
    assert.equal(goalMeta(two, state, 50).landing, 'to land 2/2');
    assert.equal(goalMeta(three, state, 50).landing, 'conflicts');
    assert.equal('landing' in goalMeta(makeGoal(4, 'queued'), state, 50), false, 'only done goals');
  });

  test('the detail line says why a done goal is not landable: the conflicting files, the failing check’s last line', () => {
    const goal = makeGoal(3, 'done');
    const conflicts = withLanding([goal], { queue: [], goals: [{ goalId: 3, status: 'conflicts', files: ['a.ts', 'b.ts'], at }] });
    assert.deepEqual(goalDetail(goal, conflicts), { tone: 'warning', text: 'conflicts: a.ts, b.ts' });
    const failing = withLanding([goal], {
      queue: [],
      goals: [{ goalId: 3, status: 'check-failing', files: [], reason: 'the check fails:\nnpm test\n1 failing', at }],
    });
    assert.deepEqual(goalDetail(goal, failing), { tone: 'warning', text: 'check failing after rebase: 1 failing' });
    const landable = withLanding([goal], { queue: [], goals: [{ goalId: 3, status: 'landable', files: [], at }] });
    assert.equal(goalMeta(goal, landable, 50).landing, 'landable');
  });
});
