/** The pipeline's keys, the help, key bindings from the config, and the layout at 80×24 and wide. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { ErrorCode, RpcError, type Goal } from '../../protocol/index.ts';
import { terminalEditor } from './editor.ts';
import { appendingEditor } from '../../test/helpers/tui/editor-script.ts';
import { FakeConnection, type RequestHandler } from '../../test/helpers/tui/fake-connection.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';
import { defer } from '../../test/helpers/defer.ts';

const GOALS = [
  makeGoal(1, 'draft', 'Write the README'),
  makeGoal(2, 'running', 'Add a lock file'),
  makeGoal(3, 'stuck', 'Watch the repo'),
  makeGoal(4, 'done', 'Skeleton'),
];

/** Answers goal and pipeline requests as the daemon would (the goal as it is after the action). */
const daemonLike: RequestHandler = (method, params) => {
  const id = (params as { id?: number }).id ?? 0;
  switch (method) {
    case 'goal.queue':
      return { goal: makeGoal(id, 'queued') };
    case 'goal.pause':
      return { goal: makeGoal(id, 'paused') };
    case 'goal.cancel':
      return { goal: makeGoal(id, 'cancelled') };
    case 'goal.retry':
      return { goal: makeGoal(id, 'queued') };
    case 'goal.land':
      throw new RpcError(ErrorCode.Unavailable, 'not available in this daemon yet');
    case 'goal.create':
      return { goal: makeGoal(9, 'draft', (params as { title: string }).title) };
    case 'goal.update':
      return { goal: { ...makeGoal(id, 'draft'), spec: (params as { spec: string }).spec } };
    case 'pipeline.pause':
      return { paused: true };
    default:
      return undefined;
  }
};

/** `tuiKeys`: the config's key bindings, as the daemon's snapshot carries them. */
type PipelineAppOptions = Parameters<typeof renderApp>[2] & { tuiKeys?: Record<string, string> };

function pipelineApp(
  t: Parameters<typeof renderApp>[0],
  handler = daemonLike,
  goals: Goal[] = GOALS,
  { tuiKeys = {}, ...props }: PipelineAppOptions = {},
) {
  const connection = new FakeConnection(makeSnapshot({ goals, settings: { tuiKeys } }), handler);
  const app = renderApp(t, connection, props);
  app.resize(80, 24);
  return { connection, app };
}

/** Moves the selection to goal `id` with j. */
async function select(app: ReturnType<typeof renderApp>, id: number) {
  for (let i = 0; i < 10 && !new RegExp(`› #${id} `).test(app.frame()); i++) {
    await app.press('j');
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  assert.match(app.frame(), new RegExp(`› #${id} `));
}

describe('pipeline keys', () => {
  test('p pauses, r retries, P pauses the pipeline; a refused land shows why', async (t) => {
    const { connection, app } = pipelineApp(t);
    await app.press('p'); // the running goal is selected first
    await select(app, 3);
    await app.press('r');
    await app.press('P');
    await select(app, 4);
    await app.press('L');
    await eventually(() =>
      assert.deepEqual(connection.actions(), [
        { method: 'goal.pause', params: { id: 2 } },
        { method: 'goal.retry', params: { id: 3 } },
        { method: 'pipeline.pause', params: {} },
        { method: 'goal.land', params: { id: 4 } },
      ]),
    );
    await eventually(() => assert.match(app.frame(), /✗ could not land #4: not available in this daemon yet/));
    connection.pushEvent(makeEvent(1, 'pipeline.changed', { paused: true, running: [2] }));
    await eventually(() => assert.match(app.frame(), /⏸ pipeline paused/));
  });

  test('c asks before cancelling: n leaves the goal alone, y cancels it', async (t) => {
    const { connection, app } = pipelineApp(t);
    await app.press('c');
    await eventually(() => assert.match(app.frame(), /Cancel #2 “Add a lock file”\? This is final\. y\/n/));
    await app.press('n');
    await eventually(() => assert.ok(!app.frame().includes('This is final')));
    await app.press('c', 'y');
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.cancel', params: { id: 2 } }]));
  });

  test('n asks for a title and creates a draft, selected when it arrives', async (t) => {
    const { connection, app } = pipelineApp(t);
    await app.press('n');
    await eventually(() => assert.match(app.frame(), /New goal title:/));
    await app.type('Support Ollama');
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.create', params: { title: 'Support Ollama' } }]));
    connection.pushEvent(makeEvent(1, 'goal.created', { goal: makeGoal(9, 'draft', 'Support Ollama') }));
    await eventually(() => {
      assert.match(app.frame(), /› #9\s+Support Ollama\s+draft/);
      assert.match(app.frame(), /• created draft #9/);
    });
  });

  test('e opens the spec in $EDITOR and saves what was written there with goal.update', async (t) => {
    const dir = await makeTempDir(t);
    const { command } = await appendingEditor(dir, '- works with Ollama');
    const editor = terminalEditor({ env: { EDITOR: command }, stdio: 'ignore' });
    const { connection, app } = pipelineApp(t, daemonLike, GOALS, { editor });
    await select(app, 1);
    await app.press('e');
    const spec = `${makeGoal(1).spec}- works with Ollama\n`;
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.update', params: { id: 1, spec } }]));
    await eventually(() => assert.match(app.frame(), /• saved the spec of #1/));
  });

  test('a spec the daemon refuses to save is kept in a file, and the notice says where', async (t) => {
    const dir = await makeTempDir(t);
    const { command } = await appendingEditor(dir, 'my precious words');
    const editor = terminalEditor({ env: { EDITOR: command }, stdio: 'ignore' });
    const refuse: RequestHandler = (method) => {
      if (method === 'goal.update') throw new RpcError(ErrorCode.InvalidTransition, 'goal #3 is running: its spec cannot change');
      return undefined;
    };
    const { app } = pipelineApp(t, refuse, GOALS, { editor });
    await select(app, 3);
    app.resize(200, 24); // wide enough for the whole notice
    await app.press('e');
    const notice = await eventually(() => {
      const line = app.lines().find((l) => l.includes('could not save it')) ?? '';
      assert.match(line, /^✗ the spec of #3 is kept in (\S+): could not save it: goal #3 is running/);
      return line;
    });
    const file = /kept in (\S+):/.exec(notice)?.[1] ?? '';
    defer(t, () => rmSync(path.dirname(file), { recursive: true, force: true }));
    assert.match(readFileSync(file, 'utf8'), /my precious words/);
  });
});

describe('help and bindings', () => {
  test('? shows every binding by pane; Esc closes it', async (t) => {
    const { app } = pipelineApp(t);
    await app.press('?');
    await eventually(() => {
      const frame = app.frame();
      for (const text of ['Everywhere', 'Pipeline', 'queue the goal', 'land a done goal', 'edit the spec in $EDITOR'])
        assert.ok(frame.includes(text), text);
    });
    assert.ok(app.lines().length <= 23);
    for (let i = 0; i < 40; i++) await app.press('j'); // the help scrolls at 80×24
    await eventually(() => assert.match(app.frame(), /previous match/));
    await app.press(KEYS.escape);
    await eventually(() => assert.match(app.frame(), /› #2\s+Add a lock file/));
  });

  test('tui.keys rebinds a key: it works, the help and footer show it; a bad entry is reported', async (t) => {
    const { connection, app } = pipelineApp(t, daemonLike, GOALS, { tuiKeys: { goalQueue: 'a', goalNew: 'q' } });
    await select(app, 1);
    await app.press('Q', 'a');
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.queue', params: { id: 1 } }]));
    assert.match(app.frame(), /⚠ tui\.keys\.goalNew: "q" is already quit's key/);
    assert.match(app.lines().at(-1) ?? '', /a queue/);
    await app.press('?');
    await eventually(() => assert.match(app.frame(), /a {2,}queue the goal/));
  });
});

describe('layout', () => {
  const fits = (lines: string[], columns: number, rows: number) => {
    for (const line of lines) assert.ok(line.length <= columns, `${line.length} columns: ${line}`);
    assert.ok(lines.length <= rows - 1, `${lines.length} rows`);
  };

  test('at 80×24 Tab switches between the panes, each fitting the terminal', async (t) => {
    const { app } = pipelineApp(t);
    for (const tab of ['Pipeline', 'Chat', 'Log', 'Pipeline']) {
      await eventually(() => {
        const lines = app.lines();
        fits(lines, 80, 24);
        assert.match(lines[0] ?? '', new RegExp(`^ ${tab} |  ${tab} `));
      });
      await app.press(KEYS.tab);
    }
    await app.press(KEYS.shiftTab, KEYS.shiftTab); // chat → pipeline → log
    await eventually(() => assert.match(app.lines()[0] ?? '', /Log {3}#2 Add a lock file/));
  });

  test('on a wide terminal the three panes are side by side; a resize back stacks them again', async (t) => {
    const { app } = pipelineApp(t);
    app.resize(140, 40);
    await eventually(() => {
      const lines = app.lines();
      fits(lines, 140, 40);
      assert.match(lines[0] ?? '', /▸ Pipeline .*│ {3}Chat/);
      assert.ok(lines.some((line) => /^ {2}Log/.test(line)));
    });
    app.resize(80, 24);
    await eventually(() => {
      fits(app.lines(), 80, 24);
      assert.ok(!app.frame().includes('│   Chat'));
    });
  });
});
