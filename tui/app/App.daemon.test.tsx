/** The TUI attached to a real daemon over real sockets: several terminals stay in sync. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../../test/helpers/daemon.ts';
import { KEYS, renderApp } from './testing/render-app.tsx';
import { eventually } from './testing/wait-for.ts';

test('two TUIs on one daemon show the same pipeline live, and a key in one queues for both', async (t) => {
  const { connect } = await startTestDaemon(t);
  const left = renderApp(t, await connect('tui'));
  const right = renderApp(t, await connect('tui'));
  const cli = await connect('cli');

  for (const app of [left, right]) await eventually(() => assert.match(app.frame(), /● connected\s+3 clients/));

  const { goal } = await cli.request('goal.create', { title: 'Made from the command line' });
  for (const app of [left, right]) await eventually(() => assert.match(app.frame(), new RegExp(`› #${goal.id}\\s+Made from the command line\\s+draft`)));

  await left.press(KEYS.enter);
  for (const app of [left, right]) {
    await eventually(() => {
      assert.match(app.frame(), /Queued \(1\)/);
      assert.match(app.frame(), new RegExp(`#${goal.id}\\s+Made from the command line\\s+queued`));
    });
  }
  assert.equal((await cli.request('goal.get', { id: goal.id })).goal.state, 'queued');
});
