import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RpcError, ErrorCode, type MethodName } from '../../protocol/index.ts';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { makeClient, makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';
import { buildKeymap } from './keys/keymap.ts';
import { footerText } from './views/help-lines.ts';

/** The frame's lines with trailing padding removed. */
const linesOf = (frame: string) => frame.split('\n').map((line) => line.trimEnd());

function pipelineConnection() {
  return new FakeConnection(
    makeSnapshot({
      seq: 5,
      goals: [
        makeGoal(1, 'draft', 'Write the README'),
        makeGoal(2, 'running', 'Add a lock file'),
        makeGoal(3, 'queued', 'Watch the repo'),
        makeGoal(4, 'done', 'Skeleton'),
      ],
      clients: [makeClient('a'), makeClient('b')],
      repoName: 'ralph',
      branch: 'main',
    }),
  );
}

describe('App', () => {
  test('renders the pipeline grouped by state, in pipeline order', (t) => {
    const app = renderApp(t, pipelineConnection());
    const lines = linesOf(app.frame());
    const headers = lines.filter((line) => /^\w+ \(\d+\)$/.test(line));
    assert.deepEqual(headers, ['Running (1)', 'Queued (1)', 'Draft (1)', 'Done (1)']);
    const row = (id: number) => lines.find((line) => line.includes(`#${id} `)) ?? '';
    assert.match(row(2), /^› #2\s+Add a lock file\s+\S+ running$/, 'the running goal is selected first and has a spinner');
    assert.match(row(3), /^ {2}#3\s+Watch the repo\s+queued$/);
    assert.match(row(1), /^ {2}#1\s+Write the README\s+draft$/);
    assert.ok(lines.indexOf(row(2)) > lines.indexOf('Running (1)') && lines.indexOf(row(2)) < lines.indexOf('Queued (1)'));
  });

  test('an empty pipeline says how to add a goal', (t) => {
    const app = renderApp(t, new FakeConnection(makeSnapshot({ goals: [] })));
    assert.match(app.frame(), /No goals yet\. n adds a draft, the chat can propose one, or: ralph goal add --title/);
  });

  test('a new event updates the frame', async (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    connection.pushEvent(makeEvent(6, 'goal.created', { goal: makeGoal(7, 'draft', 'Brand new goal') }));
    await eventually(() => assert.match(app.frame(), /#7\s+Brand new goal\s+draft/));
    connection.pushEvent(makeEvent(7, 'goal.updated', { goal: makeGoal(7, 'queued', 'Brand new goal'), source: 'daemon' }));
    await eventually(() => assert.match(app.frame(), /Queued \(2\)/));
    assert.match(app.frame(), /#7\s+Brand new goal\s+queued/);
  });

  test('an invalid goal is shown with its error, and back in the pipeline once fixed', async (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    connection.pushEvent(
      makeEvent(6, 'goal.invalid', { id: 3, file: '.ralph/goals/3.json', error: 'Unexpected token } in JSON\nat position 12' }),
    );
    await eventually(() => assert.ok(app.frame().includes('✗ #3 invalid: Unexpected token } in JSON at position 12')));
    assert.ok(!/#3\s+Watch the repo/.test(app.frame()), 'no longer a row of the pipeline');
    assert.ok(linesOf(app.frame()).includes('Invalid (1)'));
    connection.pushEvent(makeEvent(7, 'goal.updated', { goal: makeGoal(3, 'queued', 'Watch the repo'), source: 'file' }));
    await eventually(() => assert.match(app.frame(), /#3\s+Watch the repo\s+queued/));
    assert.ok(!app.frame().includes('invalid:'));
  });

  test('the status bar shows the repository, the connection and the clients', async (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    const statusLine = () => linesOf(app.frame()).at(-2) ?? '';
    assert.match(
      statusLine(),
      /^ralph \(main\)\s+● connected\s+2 clients\s+no files changed\s+gpt-5\.4-mini$/,
      "the chat's model from the snapshot's settings",
    );
    assert.equal(linesOf(app.frame()).at(-1), `${footerText(buildKeymap(), 'pipeline').slice(0, 99)}…`);

    connection.setStatus('reconnecting');
    await eventually(() => assert.match(statusLine(), /◌ reconnecting…/));
    connection.setStatus('closed');
    await eventually(() => assert.match(statusLine(), /✗ disconnected/));
    connection.setStatus('open');
    connection.pushEvent(makeEvent(6, 'clients.changed', { clients: [makeClient('a'), makeClient('b'), makeClient('c', 'cli')] }));
    connection.pushEvent(makeEvent(7, 'repo.changed', { paths: ['src/a.ts', 'src/b.ts'], omitted: 0, branch: 'feature' }));
    await eventually(() => assert.match(statusLine(), /^ralph \(feature\)\s+● connected\s+3 clients\s+2 files changed\s+gpt-5\.4-mini$/));
  });

  test('the daemon stopping and connection errors are shown', async (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    connection.pushEvent(makeEvent(6, 'daemon.stopping', { reason: 'shutdown requested' }));
    await eventually(() => assert.ok(app.frame().includes('✗ the daemon is stopping: shutdown requested')));
    connection.setStatus('closed');
    connection.pushError(new Error('the daemon speaks protocol 2; this client speaks 1'));
    await eventually(() => assert.ok(app.frame().includes('✗ the daemon speaks protocol 2; this client speaks 1')));
    connection.setStatus('open');
    await eventually(() => assert.ok(!app.frame().includes('✗')));
  });

  test('j/k and the arrows move the selection', async (t) => {
    const app = renderApp(t, pipelineConnection());
    await app.press('j', KEYS.down);
    await eventually(() => assert.match(app.frame(), /› #1\s+Write the README/));
    await app.press('k');
    await eventually(() => assert.match(app.frame(), /› #3\s+Watch the repo/));
    await app.press(KEYS.up, KEYS.up);
    await eventually(() => assert.match(app.frame(), /› #2\s+Add a lock file/));
  });

  test('keys typed faster than they are read (one chunk: "jjk") each count', async (t) => {
    const app = renderApp(t, pipelineConnection());
    await app.press('jjjk');
    await eventually(() => assert.match(app.frame(), /› #1\s+Write the README/));
  });

  test('Enter and Q send goal.queue for the selected goal', async (t) => {
    const sent: { method: MethodName; params: unknown }[] = [];
    const snapshot = pipelineConnection().snapshot;
    const connection = new FakeConnection(snapshot, (method, params) => {
      if (!method.startsWith('goal.')) return undefined;
      sent.push({ method, params });
      return { goal: makeGoal(1, 'queued', 'Write the README') };
    });
    const app = renderApp(t, connection);
    await app.press('j', 'j'); // running #2 → queued #3 → draft #1
    await eventually(() => assert.match(app.frame(), /› #1/));
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(sent, [{ method: 'goal.queue', params: { id: 1 } }]));
    await app.press('k', 'Q');
    await eventually(() => assert.deepEqual(sent.at(-1), { method: 'goal.queue', params: { id: 3 } }));
  });

  test('a refused queue request shows an error line, cleared by the next request', async (t) => {
    let refuse = true;
    const connection = new FakeConnection(pipelineConnection().snapshot, (method) => {
      if (method !== 'goal.queue') return undefined;
      if (refuse) throw new RpcError(ErrorCode.InvalidTransition, 'goal #2 is running: cannot queue (only from draft, paused)');
      return { goal: makeGoal(1, 'queued') };
    });
    const app = renderApp(t, connection);
    await app.press('Q');
    await eventually(() =>
      assert.ok(app.frame().includes('✗ could not queue #2: goal #2 is running: cannot queue (only from draft, paused)')),
    );
    refuse = false;
    await app.press('j', 'j', KEYS.enter);
    await eventually(() => assert.equal(connection.actions().length, 2));
    await eventually(() => assert.ok(!app.frame().includes('could not queue')));
  });

  test('fits an 80×24 terminal: long titles, names and errors are cut, long pipelines scroll', async (t) => {
    const longTitle = 'A very long goal title that goes on and on about everything the goal should do '.repeat(2).trim();
    const goals = Array.from({ length: 40 }, (_, i) =>
      makeGoal(i + 1, i === 0 ? 'running' : i < 20 ? 'queued' : 'draft', `${longTitle} ${i + 1}`),
    );
    const connection = new FakeConnection(
      makeSnapshot({ goals, repoName: 'a-repository-with-a-rather-long-name-indeed', branch: 'feature/some-long-branch-name' }),
    );
    const app = renderApp(t, connection);
    app.resize(80, 24);
    connection.pushEvent(makeEvent(1, 'repo.changed', { paths: ['a'], omitted: 12345, branch: 'feature/some-long-branch-name' }));
    await eventually(() => assert.ok(app.frame().includes('12346 files changed')));

    const fits = () => {
      const lines = linesOf(app.frame());
      for (const line of lines) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
      assert.ok(lines.length <= 23, `${lines.length} rows`);
      return lines;
    };
    let lines = fits();
    assert.ok(
      lines.some((line) => /^› #1 .*…\s+\S running$/.test(line)),
      'the title is cut, the state stays',
    );
    assert.ok(lines.some((line) => /↓ \d+ more/.test(line)));

    await app.press('j', 'j');
    await eventually(() => assert.match(app.frame(), /› #3 /));
    fits();

    connection.pushEvent(makeEvent(2, 'goal.invalid', { id: 3, file: '.ralph/goals/3.json', error: `bad ${'x'.repeat(200)}` }));
    connection.pushEvent(makeEvent(3, 'daemon.stopping', { reason: `restarting ${'y'.repeat(100)}` }));
    await eventually(() => assert.ok(app.frame().includes('daemon is stopping')));
    lines = fits();
    assert.ok(
      lines.some((line) => line.startsWith('› #4 ')),
      'the selection moved on to the next goal',
    );
  });

  test('an invalid goal with a long error fits the width', async (t) => {
    const connection = new FakeConnection(
      makeSnapshot({ goals: [makeGoal(1)], invalid: [{ id: 2, file: '.ralph/goals/2.json', error: `bad ${'x'.repeat(200)}` }] }),
    );
    const app = renderApp(t, connection);
    app.resize(80, 24);
    await eventually(() => {
      const lines = linesOf(app.frame());
      assert.ok(
        lines.some((line) => /^ {2}✗ #2 invalid: bad x+…$/.test(line) && line.length === 80),
        lines.join('\n'),
      );
    });
  });

  test('a flood of events is drawn in a few frames, not one per event', async (t) => {
    const connection = new FakeConnection(makeSnapshot({ seq: 0, goals: [makeGoal(1, 'draft', 'title 0')] }));
    const app = renderApp(t, connection);
    const framesBefore = app.frames.length;
    for (let seq = 1; seq <= 500; seq++) {
      connection.pushEvent(makeEvent(seq, 'goal.updated', { goal: makeGoal(1, 'draft', `title ${seq}`), source: 'file' }));
    }
    await eventually(() => assert.match(app.frame(), /#1\s+title 500\s+draft/));
    assert.ok(app.frames.length - framesBefore < 10, `${app.frames.length - framesBefore} frames for 500 events`);
  });

  test('events the TUI missed before it listened are recovered from the daemon', async (t) => {
    const snapshot = makeSnapshot({ seq: 5, goals: [makeGoal(1, 'draft', 'Old title')] });
    const connection = new FakeConnection(snapshot, (method) => {
      if (method === 'daemon.status') {
        return {
          daemon: snapshot.daemon,
          url: 'ws://127.0.0.1:1',
          repo: snapshot.repo,
          clients: [makeClient('a'), makeClient('b')],
          goals: { draft: 1, queued: 1, running: 0, paused: 0, waiting: 0, done: 0, stuck: 0, cancelled: 0 },
          invalidGoals: 0,
          seq: 9,
        };
      }
      if (method === 'goal.list')
        return { goals: [makeGoal(1, 'queued', 'New title'), makeGoal(2, 'draft', 'Made meanwhile')], invalid: [] };
      if (method === 'chat.history') throw new Error('chat.history: not available');
      return undefined;
    });
    connection.lastSeq = 9; // events 6..9 were delivered before the App subscribed
    const app = renderApp(t, connection);
    // An event after the resync began is applied on top of the fetched state.
    connection.pushEvent(makeEvent(10, 'goal.created', { goal: makeGoal(3, 'draft', 'Made just now') }));
    await eventually(() => {
      assert.match(app.frame(), /#1\s+New title\s+queued/);
      assert.match(app.frame(), /#2\s+Made meanwhile/);
      assert.match(app.frame(), /#3\s+Made just now/);
      assert.match(app.frame(), /2 clients/);
    });
    const resync = connection.requests
      .map((request) => request.method)
      .filter((method) => method !== 'logs.read' && method !== 'models.list');
    assert.deepEqual(resync, ['daemon.status', 'goal.list', 'chat.history', 'inbox.list']);
  });

  test('when the missed events cannot be recovered, the TUI says its list may be out of date', async (t) => {
    const connection = new FakeConnection(makeSnapshot({ seq: 5, goals: [makeGoal(1)] }), () => {
      throw new Error('daemon.status: not connected to the daemon (reconnecting)');
    });
    connection.lastSeq = 7;
    const app = renderApp(t, connection);
    await eventually(() =>
      assert.ok(app.frame().includes('✗ could not refresh the goals (the list may be out of date): daemon.status: not connected')),
    );
    assert.match(app.frame(), /#1\s+Goal number 1\s+draft/, 'what it had is still shown');
  });

  test('a fresh snapshot after a reconnect replaces what is shown', async (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    connection.setStatus('reconnecting');
    connection.pushSnapshot(makeSnapshot({ seq: 1, epoch: 'epoch-2', goals: [makeGoal(8, 'queued', 'From the new daemon')] }));
    connection.setStatus('open');
    await eventually(() => assert.match(app.frame(), /› #8\s+From the new daemon\s+queued/));
    assert.ok(!app.frame().includes('Write the README'));
  });

  test('unmounting lets go of the connection', (t) => {
    const connection = pipelineConnection();
    const app = renderApp(t, connection);
    assert.equal(connection.listenerCount('event'), 1);
    app.unmount();
    const names = ['event', 'snapshot', 'status', 'error'] as const;
    assert.equal(
      names.reduce((sum, name) => sum + connection.listenerCount(name), 0),
      0,
    );
  });
});
