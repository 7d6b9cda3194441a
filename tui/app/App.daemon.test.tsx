/** The TUI attached to a real daemon over real sockets: several terminals stay in sync. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../../test/helpers/daemon.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

test('two TUIs on one daemon show the same pipeline live, and a key in one queues for both', async (t) => {
  const { connect } = await startTestDaemon(t);
  const left = renderApp(t, await connect('tui'));
  const right = renderApp(t, await connect('tui'));
  const cli = await connect('cli');

  for (const app of [left, right]) await eventually(() => assert.match(app.frame(), /● connected\s+3 clients/));

  const { goal } = await cli.request('goal.create', { title: 'Made from the command line' });
  for (const app of [left, right])
    await eventually(() => assert.match(app.frame(), new RegExp(`› #${goal.id}\\s+Made from the command line\\s+draft`)));

  await left.press(KEYS.enter);
  for (const app of [left, right]) {
    await eventually(() => {
      assert.match(app.frame(), /Queued \(1\)/);
      assert.match(app.frame(), new RegExp(`#${goal.id}\\s+Made from the command line\\s+queued`));
    });
  }
  assert.equal((await cli.request('goal.get', { id: goal.id })).goal.state, 'queued');
});

test('a goal’s log is live in the TUI; a daemon restart shows "reconnecting…", then resumes with no line twice and none missing', async (t) => {
  const first = await startTestDaemon(t);
  const app = renderApp(t, await first.connect('tui'));
  app.resize(80, 24);
  const cli = await first.connect('cli');
  const { goal } = await cli.request('goal.create', { title: 'Logged goal' });
  await cli.request('goal.queue', { id: goal.id });
  await eventually(() => assert.match(app.frame(), /› #1\s+Logged goal\s+queued/));
  await app.press('o');
  const logLines = () => app.lines().filter((line) => /created as draft|→/.test(line));
  await eventually(() => assert.equal(logLines().length, 2, app.frame()));

  await first.daemon.stop('restarting');
  await eventually(() => assert.match(app.frame(), /◌ reconnecting…|the daemon is stopping: restarting/));

  const second = await startTestDaemon(t, first.repoRoot);
  await eventually(() => assert.match(app.frame(), /● connected/), 10_000);
  const cli2 = await second.connect('cli');
  await cli2.request('goal.cancel', { id: goal.id, note: 'not needed' });
  await eventually(() => {
    const lines = logLines();
    assert.equal(lines.length, 3, app.frame());
    assert.match(lines[0] ?? '', /created\s+created as draft/);
    assert.match(lines[1] ?? '', /transition\s+draft → queued/);
    assert.match(lines[2] ?? '', /transition\s+queued → cancelled/);
  });
  assert.ok(!app.frame().includes('daemon is stopping'), 'the notice went with the old daemon');
});
