import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { researchRun, toolPart } from '../../../test/helpers/tui/chat-fixtures.ts';
import {
  MAX_ENDED_UNITS,
  progressFromSnapshot,
  reduceProgress,
  researchRunIdFor,
  researchView,
  runningIteration,
  type ProgressAction,
  type ProgressView,
} from './progress-state.ts';

const TIME = '2025-01-02T03:04:05.000Z';
const run = (view: ProgressView, ...actions: ProgressAction[]) => actions.reduce(reduceProgress, view);
const begin = (token: string, kind: string, title: string, extra: { total?: number; parent?: string } = {}): ProgressAction => ({
  kind: 'begin',
  data: { token, kind, title, ...extra },
  time: TIME,
});
const report = (token: string, data: Omit<Extract<ProgressAction, { kind: 'report' }>['data'], 'token'>): ProgressAction => ({
  kind: 'report',
  data: { token, ...data },
});
const end = (token: string, outcome: 'done' | 'failed' | 'cancelled', message?: string): ProgressAction => ({
  kind: 'end',
  data: { token, outcome, ...(message ? { message } : {}) },
});

/** A run of two agents, only known from its progress units (a terminal that attached during it). */
function twoAgents(): ProgressView {
  return run(
    progressFromSnapshot([]),
    begin('research:r-1', 'research', 'Research'),
    begin('research:r-1:a1', 'research-agent', 'What changed?', { total: 20, parent: 'research:r-1' }),
    begin('research:r-1:a2', 'research-agent', 'Which prices?', { total: 20, parent: 'research:r-1' }),
  );
}

describe('progress units', () => {
  test('begin, report (only what changed), end', () => {
    let view = run(
      progressFromSnapshot([]),
      begin('goal:3:2', 'iteration', 'Iteration 2'),
      report('goal:3:2', { message: 'running npm test', tokens: 100 }),
    );
    view = reduceProgress(view, report('goal:3:2', { tokens: 250 }));
    assert.deepEqual(
      { ...view.units.get('goal:3:2') },
      { token: 'goal:3:2', kind: 'iteration', title: 'Iteration 2', startedAt: TIME, message: 'running npm test', tokens: 250 },
    );
    assert.deepEqual(runningIteration(view, 3), { number: 2, message: 'running npm test' });
    view = reduceProgress(view, end('goal:3:2', 'done'));
    assert.equal(view.units.get('goal:3:2')?.outcome, 'done');
    assert.equal(runningIteration(view, 3), null, 'an ended iteration is not running');
  });

  test('a report or end for an unknown token changes nothing', () => {
    const view = progressFromSnapshot([]);
    assert.equal(reduceProgress(view, report('nope', { done: 1 })), view);
    assert.equal(reduceProgress(view, end('nope', 'done')), view);
  });

  test('ended units are kept up to a bound, the oldest go first', () => {
    let view = progressFromSnapshot([]);
    for (let i = 0; i < MAX_ENDED_UNITS + 10; i++) view = run(view, begin(`u${i}`, 'k', 't'), end(`u${i}`, 'done'));
    assert.equal(view.units.size, MAX_ENDED_UNITS);
    assert.ok(!view.units.has('u0') && view.units.has(`u${MAX_ENDED_UNITS + 9}`));
  });

  test('a snapshot replaces the units and keeps the research runs', () => {
    const view = reduceProgress(twoAgents(), { kind: 'research', run: researchRun('r-1', [{ id: 'a1', question: 'q' }]) });
    const next = progressFromSnapshot([{ token: 'x', kind: 'k', title: 't', startedAt: TIME }], view);
    assert.deepEqual([...next.units.keys()], ['x']);
    assert.ok(next.research.has('r-1'));
  });
});

describe('research runs as drawn', () => {
  test('from progress units alone: one bar per agent with step, total and what it does now', () => {
    const view = run(twoAgents(), report('research:r-1:a1', { done: 4, message: 'reading models.ts', tokens: 5400, costUsd: 0.01 }));
    const drawn = researchView(view, 'r-1');
    assert.equal(drawn?.status, 'running');
    assert.deepEqual(
      drawn?.agents.map((agent) => [agent.question, agent.status, agent.step, agent.maxSteps, agent.activity]),
      [
        ['What changed?', 'running', 4, 20, 'reading models.ts'],
        ['Which prices?', 'running', 0, 20, null],
      ],
    );
    assert.equal(drawn?.tokens, 5400);
    assert.equal(researchView(view, 'r-other'), null);
  });

  test('the run record gives statuses and reasons; live units give the running agents their activity', () => {
    let view = run(twoAgents(), report('research:r-1:a2', { done: 7, message: 'searching the web for prices' }));
    view = reduceProgress(view, {
      kind: 'research',
      run: researchRun('r-1', [
        { id: 'a1', question: 'What changed?', status: 'failed', step: 3, error: 'rate limited too often' },
        { id: 'a2', question: 'Which prices?', status: 'running', step: 2 },
      ]),
    });
    const drawn = researchView(view, 'r-1');
    assert.deepEqual(
      drawn?.agents.map((agent) => [agent.status, agent.step, agent.activity]),
      [
        ['failed', 3, 'rate limited too often'],
        ['running', 7, 'searching the web for prices'],
      ],
    );
  });

  test('when the run ends its record says so (what collapses it to a summary)', () => {
    let view = run(twoAgents(), end('research:r-1:a1', 'done'), end('research:r-1:a2', 'done'), end('research:r-1', 'done'));
    assert.equal(researchView(view, 'r-1')?.status, 'done', 'the run unit ended: done even before its record arrives');
    view = reduceProgress(view, {
      kind: 'research',
      run: researchRun(
        'r-1',
        [
          { id: 'a1', question: 'q1', status: 'done', sources: 2 },
          { id: 'a2', question: 'q2', status: 'cancelled' },
        ],
        'done',
      ),
    });
    const drawn = researchView(view, 'r-1');
    assert.equal(drawn?.status, 'done');
    assert.deepEqual(
      drawn?.agents.map((agent) => [agent.status, agent.sources]),
      [
        ['done', 2],
        ['cancelled', 0],
      ],
    );
    assert.equal(drawn?.costUsd, 0.05);
  });

  test('a research tool call finds its run: named in its result, else the running run of its session', () => {
    const view = reduceProgress(twoAgents(), {
      kind: 'research',
      run: researchRun('r-20250102-030405-ab12', [{ id: 'a', question: 'q' }]),
    });
    const named = toolPart('t', 'research', { questions: ['q'] }, 'done', 'run r-20250102-030405-ab12: 1 report');
    assert.equal(researchRunIdFor(view, named, '2025-01-02-1'), 'r-20250102-030405-ab12');
    assert.equal(
      researchRunIdFor(view, toolPart('t', 'research', {}, 'running', undefined, { researchRun: 'r-named' }), 's'),
      'r-named',
      'the part names its run',
    );
    const running = toolPart('t', 'research', { questions: ['q'] });
    assert.equal(researchRunIdFor(view, running, '2025-01-02-1'), 'r-20250102-030405-ab12');
    const onlyUnits = toolPart('t', 'research', { questions: ['q'] });
    assert.equal(researchRunIdFor(twoAgents(), onlyUnits, 'another-session'), 'r-1');
    const finishedUnknown = toolPart('t', 'research', { questions: ['q'] }, 'done', 'no id here');
    assert.equal(researchRunIdFor(progressFromSnapshot([]), finishedUnknown, 's'), null);
  });
});
