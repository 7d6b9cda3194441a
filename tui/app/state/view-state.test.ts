import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENT_TYPES, type ChatMessage, type EventType, type SpendStatus } from '../../../protocol/index.ts';
import { DEFAULT_SETTINGS, makeClient, makeEvent, makeGoal, makeSnapshot } from '../../../test/helpers/tui/fixtures.ts';
import {
  changedFileCount,
  goalGroups,
  initialViewState,
  invalidGoals,
  orderedGoalIds,
  reduce,
  reduceAll,
  selectedGoal,
  type ViewAction,
  type ViewState,
  workerOf,
} from './view-state.ts';

const event = (...args: Parameters<typeof makeEvent>): ViewAction => ({ kind: 'event', event: makeEvent(...args) });

const SPEND: SpendStatus = {
  day: '2026-12-03',
  month: '2026-12',
  today: { usd: 0.5, tokens: 1000, calls: 2, unpricedCalls: 0 },
  thisMonth: { usd: 3.25, tokens: 9000, calls: 20, unpricedCalls: 1 },
  budget: { dailyUsd: 1 },
  level: 'ok',
  message: '$0.50 of the daily $1.00 spent',
};

function stateWith(...goals: ReturnType<typeof makeGoal>[]): ViewState {
  return initialViewState(makeSnapshot({ seq: 10, goals }), 'open');
}

const groupSummary = (state: ViewState) =>
  goalGroups(state).map((group) => `${group.state}:${group.goals.map((goal) => goal.id).join(',')}`);

describe('snapshot', () => {
  test('the initial state holds the snapshot', () => {
    const state = initialViewState(
      makeSnapshot({ seq: 7, goals: [makeGoal(1), makeGoal(2, 'running')], clients: [makeClient('a'), makeClient('b')], branch: 'dev' }),
      'connecting',
    );
    assert.equal(state.lastSeq, 7);
    assert.equal(state.epoch, 'epoch-1');
    assert.equal(state.connection, 'connecting');
    assert.deepEqual(state.repo, { root: '/work/demo-repo', name: 'demo-repo', branch: 'dev' });
    assert.deepEqual([...state.goals.keys()], [1, 2]);
    assert.equal(state.clients.length, 2);
    assert.equal(state.selectedId, 2, 'the first goal in pipeline order (running first) is selected');
  });

  test('a new snapshot replaces goals, invalid goals, clients, repo, settings and seq; keeps changed files', () => {
    let state = stateWith(makeGoal(1), makeGoal(2));
    state = reduceAll(state, [
      event(11, 'goal.invalid', { id: 2, file: '.ralph/goals/2.json', error: 'bad JSON' }),
      event(12, 'repo.changed', { paths: ['a.ts'], omitted: 0, branch: 'main' }),
      event(13, 'daemon.stopping', { reason: 'restart' }),
    ]);
    const settings = { chatModel: 'other-model', tuiKeys: { quit: 'x' }, maxIterations: 9 };
    const fresh = makeSnapshot({ seq: 3, epoch: 'epoch-2', goals: [makeGoal(5, 'queued')], clients: [], repoName: 'other', settings });
    state = reduce(state, { kind: 'snapshot', snapshot: fresh });
    assert.equal(state.lastSeq, 3, 'a new daemon run restarts the seq');
    assert.equal(state.epoch, 'epoch-2');
    assert.deepEqual([...state.goals.keys()], [5]);
    assert.equal(state.invalid.size, 0);
    assert.deepEqual(state.clients, []);
    assert.equal(state.repo?.name, 'other');
    assert.deepEqual(state.settings, settings);
    assert.equal(state.daemonStopping, null);
    assert.equal(changedFileCount(state), 1);
    assert.equal(state.selectedId, 5);
  });

  test('events after a snapshot apply from its seq on, even when lower than before', () => {
    let state = stateWith(makeGoal(1));
    state = reduce(state, { kind: 'snapshot', snapshot: makeSnapshot({ seq: 2, epoch: 'epoch-2' }) });
    state = reduce(state, event(3, 'goal.created', { goal: makeGoal(9) }));
    assert.deepEqual([...state.goals.keys()], [9]);
    assert.equal(state.lastSeq, 3);
  });
});

describe('events', () => {
  test('goal.created adds the goal', () => {
    const state = reduce(stateWith(), event(11, 'goal.created', { goal: makeGoal(3, 'draft', 'Write docs') }));
    assert.equal(state.goals.get(3)?.title, 'Write docs');
    assert.equal(state.lastSeq, 11);
    assert.equal(state.selectedId, 3, 'the first goal to appear is selected');
  });

  test('goal.updated replaces the goal, moving it to its new group', () => {
    let state = stateWith(makeGoal(1), makeGoal(2));
    state = reduce(state, event(11, 'goal.updated', { goal: makeGoal(2, 'queued'), source: 'daemon' }));
    assert.deepEqual(groupSummary(state), ['queued:2', 'draft:1']);
  });

  test('goal.removed removes a valid or an invalid goal', () => {
    let state = stateWith(makeGoal(1), makeGoal(2));
    state = reduceAll(state, [
      event(11, 'goal.invalid', { id: 2, file: '.ralph/goals/2.json', error: 'bad' }),
      event(12, 'goal.removed', { id: 2 }),
      event(13, 'goal.removed', { id: 1 }),
    ]);
    assert.equal(state.goals.size, 0);
    assert.equal(state.invalid.size, 0);
    assert.equal(state.selectedId, null);
  });

  test('goal.invalid takes the goal out of the pipeline; a later valid update brings it back', () => {
    let state = stateWith(makeGoal(1), makeGoal(2, 'queued'));
    state = reduce(state, event(11, 'goal.invalid', { id: 2, file: '.ralph/goals/2.json', error: 'Unexpected token }' }));
    assert.deepEqual(orderedGoalIds(state), [1]);
    assert.deepEqual(invalidGoals(state), [{ id: 2, file: '.ralph/goals/2.json', error: 'Unexpected token }' }]);

    state = reduce(state, event(12, 'goal.updated', { goal: makeGoal(2, 'queued'), source: 'file' }));
    assert.deepEqual(orderedGoalIds(state), [2, 1]);
    assert.deepEqual(invalidGoals(state), []);
  });

  test('a snapshot never shows a goal both valid and invalid', () => {
    const state = initialViewState(
      makeSnapshot({
        goals: [makeGoal(1)],
        invalid: [
          { id: 1, file: '.ralph/goals/1.json', error: 'x' },
          { id: 2, file: '.ralph/goals/2.json', error: 'y' },
        ],
      }),
      'open',
    );
    assert.deepEqual(
      invalidGoals(state).map((bad) => bad.id),
      [2],
    );
  });

  test('clients.changed replaces the client list', () => {
    const state = reduce(
      stateWith(),
      event(11, 'clients.changed', { clients: [makeClient('a'), makeClient('b', 'cli'), makeClient('c')] }),
    );
    assert.deepEqual(
      state.clients.map((client) => client.id),
      ['a', 'b', 'c'],
    );
  });

  test('repo.changed counts distinct files plus omitted ones, and follows the branch', () => {
    const state = reduceAll(stateWith(), [
      event(11, 'repo.changed', { paths: ['src/a.ts', 'src/b.ts'], omitted: 0, branch: 'main' }),
      event(12, 'repo.changed', { paths: ['src/a.ts'], omitted: 5, branch: 'feature' }),
    ]);
    assert.equal(changedFileCount(state), 7);
    assert.equal(state.repo?.branch, 'feature');
  });

  test('daemon.stopping is shown until the connection opens again', () => {
    let state = reduce(stateWith(), event(11, 'daemon.stopping', { reason: 'shutdown requested' }));
    assert.equal(state.daemonStopping, 'shutdown requested');
    state = reduce(state, { kind: 'connection', status: 'reconnecting' });
    assert.equal(state.daemonStopping, 'shutdown requested');
    state = reduce(state, { kind: 'connection', status: 'open' });
    assert.equal(state.daemonStopping, null);
    assert.equal(state.connection, 'open');
  });

  test('a connection error is shown until the connection opens again', () => {
    let state = reduce(stateWith(), { kind: 'connection', status: 'closed' });
    state = reduce(state, { kind: 'connection-error', message: 'the daemon speaks protocol 2' });
    assert.equal(state.connectionError, 'the daemon speaks protocol 2');
    state = reduce(state, { kind: 'connection', status: 'reconnecting' });
    assert.equal(state.connectionError, 'the daemon speaks protocol 2');
    state = reduce(state, { kind: 'connection', status: 'open' });
    assert.equal(state.connectionError, null);
  });

  test('log and progress events advance the seq and change nothing shown', () => {
    const before = stateWith(makeGoal(1, 'running'));
    const after = reduceAll(before, [
      event(11, 'log.appended', {
        goalId: 1,
        entries: [{ goalId: 1, index: 0, time: '2025-01-01T00:00:00.000Z', kind: 'note', text: 'hi' }],
      }),
      event(12, 'progress.begin', { token: 't', kind: 'iteration', title: 'Iteration 1' }),
      event(13, 'progress.report', { token: 't', message: 'working' }),
      event(14, 'progress.end', { token: 't', outcome: 'done' }),
    ]);
    assert.equal(after.lastSeq, 14);
    assert.equal(after.goals, before.goals);
  });

  test('every event type is handled', () => {
    const chatMessage: ChatMessage = { id: 'm', session: 's', role: 'user', parts: [], time: '2025-01-01T00:00:00.000Z', status: 'done' };
    // Guards against a new row in protocol/events.ts silently falling through: each type has a case here.
    const samples: Record<EventType, ViewAction> = {
      'goal.created': event(11, 'goal.created', { goal: makeGoal(2) }),
      'goal.updated': event(11, 'goal.updated', { goal: makeGoal(1, 'queued'), source: 'daemon' }),
      'goal.removed': event(11, 'goal.removed', { id: 1 }),
      'goal.invalid': event(11, 'goal.invalid', { id: 1, file: 'f', error: 'e' }),
      'clients.changed': event(11, 'clients.changed', { clients: [] }),
      'repo.changed': event(11, 'repo.changed', { paths: ['x'], omitted: 0, branch: null }),
      'log.appended': event(11, 'log.appended', { goalId: 1, entries: [] }),
      'progress.begin': event(11, 'progress.begin', { token: 't', kind: 'k', title: 't' }),
      'progress.report': event(11, 'progress.report', { token: 't' }),
      'progress.end': event(11, 'progress.end', { token: 't', outcome: 'failed' }),
      'daemon.stopping': event(11, 'daemon.stopping', { reason: 'r' }),
      'question.asked': event(11, 'question.asked', {
        question: { id: 1, createdAt: '2025-01-01T00:00:00.000Z', from: { goalId: 1, iteration: 1 }, question: 'q?' },
      }),
      'question.answered': event(11, 'question.answered', {
        question: {
          id: 1,
          createdAt: '2025-01-01T00:00:00.000Z',
          from: { goalId: 1, iteration: 1 },
          question: 'q?',
          answer: { text: 'a', at: '2025-01-01T00:00:01.000Z', by: 'tui' },
        },
      }),
      'question.withdrawn': event(11, 'question.withdrawn', {
        question: {
          id: 1,
          createdAt: '2025-01-01T00:00:00.000Z',
          from: { goalId: 1, iteration: 1 },
          question: 'q?',
          withdrawn: { at: '2025-01-01T00:00:01.000Z', reason: 'goal #1 is cancelled' },
        },
      }),
      notification: event(11, 'notification', { kind: 'done', goalId: 1, title: '#1 done: t', body: '', bell: true, desktop: true }),
      'chat.message': event(11, 'chat.message', { message: chatMessage }),
      'chat.delta': event(11, 'chat.delta', { session: 's', messageId: 'm', partId: 'p', delta: 'x' }),
      'chat.part': event(11, 'chat.part', { session: 's', messageId: 'm', part: { id: 'p', type: 'text', text: 'x' } }),
      'chat.message.done': event(11, 'chat.message.done', { message: chatMessage }),
      'chat.session': event(11, 'chat.session', { session: 's2' }),
      'landing.changed': event(11, 'landing.changed', { queue: [], goals: [] }),
      'queue.changed': event(11, 'queue.changed', { url: 'redis://q:6379', reachable: false, workers: [] }),
      'config.changed': event(11, 'config.changed', {
        provider: { model: 'm', api: 'chat', baseURL: null, apiKeySet: false, configured: false },
        settings: DEFAULT_SETTINGS,
        error: null,
      }),
      'research.updated': event(11, 'research.updated', {
        run: {
          id: 'r1',
          questions: ['q'],
          status: 'running',
          agents: [],
          createdAt: '2025-01-01T00:00:00.000Z',
          usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
          costUsd: 0,
        },
      }),
      'pipeline.changed': event(11, 'pipeline.changed', { paused: true, running: [] }),
      'goal.warning': event(11, 'goal.warning', { goalId: 1, kind: 'conflict', message: 'm', paths: ['a'] }),
      'provider.wait': event(11, 'provider.wait', { scope: { session: 's' }, reason: 'rate-limit', seconds: 20, attempt: 1 }),
      'spend.changed': event(11, 'spend.changed', SPEND),
      'budget.warning': event(11, 'budget.warning', { message: '85 % of the budget', spend: SPEND }),
    };
    assert.deepEqual(Object.keys(samples).sort(), [...EVENT_TYPES].sort());
    for (const action of Object.values(samples)) assert.equal(reduce(stateWith(makeGoal(1)), action).lastSeq, 11);
  });
});

describe('spend and the budget', () => {
  test('spend comes with the snapshot and each spend.changed; an 80 % warning is a notice; a hold is the pipeline’s', () => {
    let state = stateWith();
    assert.equal(state.spend, null, 'a snapshot without spend');
    state = reduce(state, event(11, 'spend.changed', SPEND));
    assert.deepEqual(state.spend, SPEND);
    const warned = { ...SPEND, level: 'warning' as const };
    state = reduce(state, event(12, 'budget.warning', { message: '85 % of the budget: $0.85 of the daily $1.00 spent', spend: warned }));
    assert.equal(state.spend?.level, 'warning');
    assert.deepEqual(state.ui.notice, { tone: 'info', text: '85 % of the budget: $0.85 of the daily $1.00 spent' });
    const hold = { reason: 'budget' as const, message: 'the spend budget is used up', until: '2026-12-04T00:00:00.000Z' };
    state = reduce(state, event(13, 'pipeline.changed', { paused: true, running: [], hold }));
    assert.deepEqual(state.pipeline.hold, hold);
  });
});

describe('the queue of workers', () => {
  test('the queue comes with the snapshot and each queue.changed; a running goal names its worker, no other goal does', () => {
    const running = makeGoal(1, 'running');
    const queued = makeGoal(2, 'queued');
    assert.equal(stateWith(running).queue, null, 'goals run on the daemon’s machine: no queue');
    const queue = { url: 'redis://q:6379', reachable: true, workers: [{ goalId: 1, worker: 'far-away' }] };
    let state = initialViewState({ ...makeSnapshot({ seq: 10, goals: [running, queued] }), queue }, 'open');
    assert.deepEqual(state.queue, queue);
    assert.equal(workerOf(state, running), 'far-away');
    assert.equal(workerOf(state, queued), null);
    state = reduce(state, event(11, 'queue.changed', { ...queue, reachable: false }));
    assert.equal(state.queue?.reachable, false);
    state = reduce(state, event(12, 'queue.changed', { url: queue.url, reachable: true, workers: [{ goalId: 1, worker: 'next-one' }] }));
    assert.equal(workerOf(state, running), 'next-one', 'another worker took over');
    state = reduce(state, event(13, 'goal.updated', { goal: makeGoal(1, 'done'), source: 'daemon' }));
    assert.equal(workerOf(state, state.goals.get(1)!), null, 'a goal that no longer runs has no worker');
  });
});

describe('ordering and duplicates', () => {
  test('events at or below the last seq are ignored', () => {
    let state = stateWith(makeGoal(1));
    state = reduce(state, event(11, 'goal.updated', { goal: makeGoal(1, 'queued'), source: 'daemon' }));
    const replayed = reduceAll(state, [
      event(11, 'goal.updated', { goal: makeGoal(1, 'queued'), source: 'daemon' }),
      event(5, 'goal.removed', { id: 1 }),
      event(10, 'goal.created', { goal: makeGoal(4) }),
    ]);
    assert.equal(replayed, state, 'the very same state object: nothing changed');
  });

  test('groups come in pipeline order, ids ascending within each', () => {
    const state = stateWith(
      makeGoal(9, 'draft'),
      makeGoal(3, 'queued'),
      makeGoal(8, 'done'),
      makeGoal(2, 'queued'),
      makeGoal(7, 'cancelled'),
      makeGoal(6, 'stuck'),
      makeGoal(5, 'paused'),
      makeGoal(4, 'running'),
      makeGoal(1, 'draft'),
    );
    assert.deepEqual(groupSummary(state), ['running:4', 'queued:2,3', 'paused:5', 'stuck:6', 'draft:1,9', 'done:8', 'cancelled:7']);
    assert.deepEqual(orderedGoalIds(state), [4, 2, 3, 5, 6, 1, 9, 8, 7]);
  });
});

describe('selection', () => {
  const three = () => stateWith(makeGoal(1), makeGoal(2), makeGoal(3));

  test('next and previous walk the pipeline order and stop at the ends', () => {
    let state = three();
    assert.equal(state.selectedId, 1);
    state = reduce(state, { kind: 'select', direction: 'previous' });
    assert.equal(state.selectedId, 1);
    state = reduceAll(state, [
      { kind: 'select', direction: 'next' },
      { kind: 'select', direction: 'next' },
      { kind: 'select', direction: 'next' },
    ]);
    assert.equal(state.selectedId, 3);
    state = reduce(state, { kind: 'select', direction: 'previous' });
    assert.equal(selectedGoal(state)?.id, 2);
  });

  test('the selection follows its goal to another group', () => {
    let state = reduce(three(), { kind: 'select', direction: 'next' });
    state = reduce(state, event(11, 'goal.updated', { goal: makeGoal(2, 'running'), source: 'daemon' }));
    assert.equal(state.selectedId, 2);
    assert.deepEqual(orderedGoalIds(state), [2, 1, 3]);
  });

  test('when the selected goal is removed, the next one takes its place', () => {
    let state = reduce(three(), { kind: 'select', direction: 'next' });
    state = reduce(state, event(11, 'goal.removed', { id: 2 }));
    assert.equal(state.selectedId, 3);
  });

  test('when the last goal goes, the one before it is selected', () => {
    let state = reduceAll(three(), [
      { kind: 'select', direction: 'next' },
      { kind: 'select', direction: 'next' },
    ]);
    state = reduce(state, event(11, 'goal.invalid', { id: 3, file: '.ralph/goals/3.json', error: 'bad' }));
    assert.equal(state.selectedId, 2);
  });

  test('when a snapshot drops the selected goal, a remaining one is selected; none left → null', () => {
    let state = reduce(three(), { kind: 'select', direction: 'next' });
    state = reduce(state, { kind: 'snapshot', snapshot: makeSnapshot({ seq: 20, goals: [makeGoal(1), makeGoal(7)] }) });
    assert.equal(state.selectedId, 1, 'the neighbour before it, the ones after are gone');
    state = reduce(state, { kind: 'snapshot', snapshot: makeSnapshot({ seq: 21, goals: [] }) });
    assert.equal(state.selectedId, null);
    assert.equal(reduce(state, { kind: 'select', direction: 'next' }), state);
  });
});

describe('the rest of the daemon state', () => {
  test('pipeline.changed, config.changed and goal.warning are kept; a warning goes when its goal is done', () => {
    let state = stateWith(makeGoal(1, 'running'));
    assert.deepEqual(state.settings, DEFAULT_SETTINGS, 'the settings come with the snapshot');
    const settings = { chatModel: 'gpt-x', tuiKeys: { goalNew: 'a' }, maxIterations: 7 };
    state = reduceAll(state, [
      event(11, 'pipeline.changed', { paused: true, running: [1] }),
      event(12, 'config.changed', {
        provider: { model: 'gpt-x', api: 'chat', baseURL: null, apiKeySet: true, configured: true },
        settings,
        error: 'executor.verfy: unknown key',
      }),
      event(13, 'goal.warning', { goalId: 1, kind: 'conflict', message: 'you edited a.ts, which the goal also changed', paths: ['a.ts'] }),
    ]);
    assert.deepEqual(state.pipeline, { paused: true, running: [1] });
    assert.deepEqual(state.settings, settings);
    assert.equal(state.configError, 'executor.verfy: unknown key');
    assert.equal(state.chat.providerConfigured, true);
    assert.equal(state.warnings.get(1)?.paths[0], 'a.ts');
    state = reduce(state, event(14, 'goal.updated', { goal: makeGoal(1, 'done'), source: 'daemon' }));
    assert.equal(state.warnings.size, 0);
  });

  test('the log pane follows the selection: moving it opens the other goal’s log', () => {
    let state = stateWith(makeGoal(1), makeGoal(2));
    assert.equal(state.log.goalId, 1);
    assert.equal(state.log.want?.goalId, 1, 'the first read is asked for');
    state = reduce(state, { kind: 'select', direction: 'next' });
    assert.equal(state.log.goalId, 2);
    assert.equal(state.log.want?.goalId, 2);
  });

  test('a fresh snapshot reads the selected goal’s log again (a restarted daemon)', () => {
    let state = stateWith(makeGoal(1));
    const want = state.log.want!;
    state = reduce(state, {
      kind: 'log',
      action: {
        kind: 'page',
        want,
        page: { entries: [{ goalId: 1, index: 0, time: '2025-01-01T00:00:00.000Z', kind: 'note', text: 'x' }], next: 1, total: 1 },
      },
    });
    assert.equal(state.log.entries.length, 1);
    state = reduce(state, { kind: 'snapshot', snapshot: makeSnapshot({ seq: 1, epoch: 'epoch-2', goals: [makeGoal(1)] }) });
    assert.equal(state.log.entries.length, 0);
    assert.equal(state.log.want?.placement, 'tail');
  });

  test('a goal this terminal created is selected when its event arrives', () => {
    let state = stateWith(makeGoal(1));
    state = reduce(state, { kind: 'select-goal', id: 5 });
    assert.equal(state.selectedId, 1);
    state = reduce(state, event(11, 'goal.created', { goal: makeGoal(5) }));
    assert.equal(state.selectedId, 5);
    assert.equal(state.ui.selectWhenSeen, null);
  });

  test('chat, progress and research events reach their parts of the state', () => {
    const state = reduceAll(stateWith(), [
      event(11, 'chat.message', {
        message: { id: 'm', session: '2025-01-02-1', role: 'assistant', parts: [], time: '2025-01-01T00:00:00.000Z', status: 'streaming' },
      }),
      event(12, 'chat.delta', { session: '2025-01-02-1', messageId: 'm', partId: 'p', delta: 'hi' }),
      event(13, 'progress.begin', { token: 'research:r:a', kind: 'research-agent', title: 'q', parent: 'research:r' }),
    ]);
    assert.deepEqual(state.chat.messages[0]?.parts, [{ id: 'p', type: 'text', text: 'hi' }]);
    assert.ok(state.progress.units.has('research:r:a'));
  });
});

describe('a batch of log lines', () => {
  const line = (index: number, goalId = 1) => ({ goalId, index, time: '2025-01-01T00:00:00.000Z', kind: 'output', text: `line ${index}` });
  const appended = (seq: number, indexes: number[], goalId = 1) =>
    event(seq, 'log.appended', { goalId, entries: indexes.map((index) => line(index, goalId)) });

  /** Goal 1's log loaded (empty), then scrolled back when `follow` is false. */
  function loadedLog(follow: boolean): ViewState {
    let state = stateWith(makeGoal(1), makeGoal(2));
    state = reduce(state, {
      kind: 'log',
      action: { kind: 'page', want: state.log.want!, page: { entries: [line(0)], next: 1, total: 1 } },
    });
    return follow ? state : reduce(state, { kind: 'log', action: { kind: 'scroll', by: -1, rows: 1 } });
  }

  /** The batch reduced at once gives the state reduced action by action. */
  function assertSameAsOneByOne(state: ViewState, actions: ViewAction[]): ViewState {
    const batched = reduceAll(state, actions);
    const oneByOne = actions.reduce(reduce, state);
    assert.deepEqual(batched, oneByOne);
    return batched;
  }

  test('a followed log takes a flood of lines as one by one: its newest entries, the last seq', () => {
    const actions = Array.from({ length: 2500 }, (_, i) => appended(11 + i, [i + 1]));
    const state = assertSameAsOneByOne(loadedLog(true), actions);
    assert.equal(state.lastSeq, 2510);
    assert.equal(state.log.total, 2501);
    assert.equal(state.log.entries.length, 2000);
    assert.equal(state.log.start, 501);
    assert.equal(state.log.entries.at(-1)?.text, 'line 2500');
  });

  test('duplicates, a gap, other goals and other events in the batch come out as one by one', () => {
    const actions = [
      appended(11, [1]),
      appended(11, [1]), // a replayed seq
      appended(12, [2, 3]),
      appended(13, [5]), // 4 missed: read from the daemon
      appended(14, [6]),
      appended(15, [0], 2),
      appended(16, [1], 2),
      event(17, 'repo.changed', { paths: ['a.ts'], omitted: 0, branch: 'main' }),
      appended(18, [7]),
    ];
    const state = assertSameAsOneByOne(loadedLog(true), actions);
    assert.equal(state.log.entries.length, 4, 'lines 0–3, up to the gap');
    assert.equal(state.log.want?.placement, 'after');
    assert.equal(state.lastSeq, 18);
  });

  test('a log scrolled back fills its window and then holds still, as one by one', () => {
    const actions = Array.from({ length: 2100 }, (_, i) => appended(11 + i, [i + 1]));
    const state = assertSameAsOneByOne(loadedLog(false), actions);
    assert.equal(state.log.follow, false);
    assert.equal(state.log.entries.length, 2000);
    assert.equal(state.log.start, 0, 'the lines scrolled back to stay');
    assert.equal(state.log.total, 2101);
  });
});
