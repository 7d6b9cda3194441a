/** The log pane: the selected goal's log, live, paged from the daemon, searched; and across a reconnect. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogEntry } from '../../protocol/index.ts';
import { LOG_PAGE } from './state/log-state.ts';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

/** A goal's log as the daemon holds it: read in pages (logs.read), grown with log.appended events. */
class GoalLogSource {
  readonly entries: LogEntry[] = [];
  readonly reads: ({ from: number; limit: number } | { tail: number })[] = [];
  constructor(count: number) {
    this.add(count);
  }
  add(count: number): LogEntry[] {
    const added = Array.from({ length: count }, (_, i) => {
      const index = this.entries.length + i;
      return { goalId: 2, index, time: '2025-01-02T03:04:05.000Z', kind: index % 5 === 0 ? 'check' : 'tool', text: `step ${index}` };
    });
    this.entries.push(...added);
    return added;
  }
  read(params: { id: number; from?: number; limit?: number; tail?: number }) {
    const all = params.id === 2 ? this.entries : [];
    if (params.tail !== undefined) {
      this.reads.push({ tail: params.tail });
      return { entries: all.slice(Math.max(0, all.length - params.tail)), next: all.length, total: all.length };
    }
    const from = params.from ?? 0;
    const limit = params.limit ?? 1000;
    this.reads.push({ from, limit });
    const entries = all.slice(from, from + limit);
    return { entries, next: from + entries.length, total: all.length };
  }
}

function logApp(t: Parameters<typeof renderApp>[0], log: GoalLogSource) {
  const connection = new FakeConnection(
    makeSnapshot({ seq: 0, goals: [makeGoal(2, 'running', 'Add a lock file'), makeGoal(3, 'queued', 'Watch the repo')] }),
    (method, params) => (method === 'logs.read' ? log.read(params as { id: number }) : undefined),
  );
  const app = renderApp(t, connection);
  app.resize(80, 24);
  return { connection, app };
}

/** The `step N` lines shown, in order. */
const steps = (frame: string) => [...frame.matchAll(/step (\d+)/g)].map((match) => Number(match[1]));

describe('log pane', () => {
  test('Enter on a running goal opens its log, following new lines as they come', async (t) => {
    const log = new GoalLogSource(30);
    const { connection, app } = logApp(t, log);
    await app.press(KEYS.enter);
    await eventually(() => {
      assert.match(app.lines()[0] ?? '', /Log {3}#2 Add a lock file · following · 30 lines/);
      assert.deepEqual(steps(app.frame()).at(-1), 29);
    });
    let seq = 0;
    connection.pushEvent(makeEvent(++seq, 'log.appended', { goalId: 2, entries: log.add(2) }));
    connection.pushEvent(
      makeEvent(++seq, 'log.appended', {
        goalId: 3,
        entries: [{ goalId: 3, index: 0, time: '2025-01-02T03:04:05.000Z', kind: 'note', text: 'other goal' }],
      }),
    );
    await eventually(() => assert.deepEqual(steps(app.frame()).slice(-3), [29, 30, 31]));
    assert.ok(!app.frame().includes('other goal'));
    const shown = steps(app.frame());
    assert.equal(new Set(shown).size, shown.length, 'no line twice');
  });

  test('a flood of log lines is drawn in a few frames, following its end', async (t) => {
    const log = new GoalLogSource(0);
    const { connection, app } = logApp(t, log);
    await app.press('o');
    await eventually(() => assert.match(app.frame(), /No log entries yet/));
    const framesBefore = app.frames.length;
    for (let seq = 1; seq <= 100; seq++) connection.pushEvent(makeEvent(seq, 'log.appended', { goalId: 2, entries: log.add(50) }));
    await eventually(() => assert.equal(steps(app.frame()).at(-1), 4999));
    assert.ok(app.frames.length - framesBefore < 10, `${app.frames.length - framesBefore} frames for 5,000 lines`);
    assert.match(app.lines()[0] ?? '', /following · 5,000 lines/);
  });

  test('scrolling back past the lines held reads older ones from the daemon', async (t) => {
    const log = new GoalLogSource(3000);
    const { app } = logApp(t, log);
    await app.press('o');
    await eventually(() => assert.deepEqual(steps(app.frame()).at(-1), 2999));
    assert.deepEqual(log.reads, [{ tail: LOG_PAGE }], 'one request opens the log: its tail');
    for (let i = 0; i < 30; i++) await app.press(KEYS.pageUp);
    await eventually(() => {
      assert.ok(
        log.reads.some((read) => 'from' in read && read.from === 3000 - 2 * LOG_PAGE),
        JSON.stringify(log.reads),
      );
      assert.match(app.lines()[0] ?? '', /lines \d/);
    });
    const top = steps(app.frame())[0] ?? Infinity;
    assert.ok(top < 3000 - LOG_PAGE, `shows line ${top}, older than the first page read`);
    await app.press('G');
    await eventually(() => assert.deepEqual(steps(app.frame()).at(-1), 2999));
  });

  test('/ searches the log; n and N move between matches; Esc clears', async (t) => {
    const log = new GoalLogSource(200);
    const { app } = logApp(t, log);
    await app.press('o');
    await eventually(() => assert.deepEqual(steps(app.frame()).at(-1), 199));
    await app.press('/');
    await app.type('step 42');
    await eventually(() => assert.match(app.frame(), /\/step 42/));
    await app.press(KEYS.enter);
    await eventually(() => {
      assert.ok(
        app.lines().some((line) => /^› \S+ tool\s+step 42$/.test(line)),
        app.frame(),
      );
      assert.match(app.frame(), /\/step 42 {2}1 match · n next/);
    });
    await app.press(KEYS.escape);
    await eventually(() => assert.ok(!app.frame().includes('/step 42')));
  });

  test('a daemon restart: "reconnecting…", then the log is read again, with no line twice and none missing', async (t) => {
    const log = new GoalLogSource(10);
    const { connection, app } = logApp(t, log);
    await app.press('o');
    await eventually(() => assert.deepEqual(steps(app.frame()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].slice(-steps(app.frame()).length)));
    connection.setStatus('reconnecting');
    await eventually(() => assert.match(app.frame(), /◌ reconnecting…/));
    const readsBefore = log.reads.length;
    log.add(5); // written while this terminal was away
    connection.pushSnapshot(makeSnapshot({ seq: 1, epoch: 'epoch-2', goals: [makeGoal(2, 'running', 'Add a lock file')] }));
    connection.setStatus('open');
    connection.pushEvent(makeEvent(2, 'log.appended', { goalId: 2, entries: log.add(1) }));
    await eventually(() => {
      assert.match(app.frame(), /● connected/);
      const shown = steps(app.frame());
      assert.equal(shown.at(-1), 15);
      assert.deepEqual(
        shown,
        Array.from({ length: shown.length }, (_, i) => 16 - shown.length + i),
        'consecutive: none missing, none twice',
      );
    });
    assert.ok(log.reads.length > readsBefore, 'the log was read afresh after the snapshot');
  });
});
