/**
 * The TUI's settings come from the daemon (ralph.config.ts): key bindings, the chat's model and the
 * iteration limit arrive in the snapshot, and an edit of the file rebinds every attached TUI live.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defer, startTestDaemon } from '../../test/helpers/daemon.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { DEFAULT_SETTINGS, makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

test('an edit of ralph.config.ts rebinds the keys of every attached TUI; a bad binding is a notice, not a crash', async (t) => {
  const repoRoot = await makeTempRepo(undefined, { 'ralph.config.ts': "export default { chat: { model: 'gpt-5.5' } };\n" });
  defer(t, () => rm(repoRoot, { recursive: true, force: true }));
  const { connect } = await startTestDaemon(t, repoRoot, { env: {}, configWatch: true });
  const left = renderApp(t, await connect('tui'));
  const right = renderApp(t, await connect('tui'));
  const cli = await connect('cli');
  const { goal } = await cli.request('goal.create', { title: 'Rebound' });
  for (const app of [left, right]) {
    await eventually(() => {
      assert.match(app.frame(), /› #1\s+Rebound\s+draft/);
      assert.match(app.frame(), /gpt-5\.5/, "the chat's model from the snapshot");
    });
  }

  // `a` is no key of the TUI until the config binds it; `q` for a new goal clashes with quit.
  await writeFile(
    path.join(repoRoot, 'ralph.config.ts'),
    "export default { chat: { model: 'local-llama' }, tui: { keys: { goalQueue: 'a', goalNew: 'q' } } };\n",
  );
  for (const app of [left, right]) {
    await eventually(() => {
      assert.match(app.lines().at(-1) ?? '', /\ba queue\b/, 'the footer shows the new key');
      assert.match(app.frame(), /⚠ tui\.keys\.goalNew: "q" is already quit's key/);
      assert.match(app.frame(), /local-llama/);
    }, 10_000);
  }
  await left.press('a');
  for (const app of [left, right]) await eventually(() => assert.match(app.frame(), /#1\s+Rebound\s+queued/));
  assert.equal((await cli.request('goal.get', { id: goal.id })).goal.state, 'queued');
  // The TUI still draws and takes keys after the bad entry.
  await right.press(KEYS.tab);
  await eventually(() => assert.match(right.frame(), /Chat/));
});

test('the iteration limit beside a running goal is the config’s, and follows a reload', async (t) => {
  const running = makeGoal(1, 'running', 'Iterating');
  const attempts = running.attempts.map((attempt) => ({ ...attempt, iterations: [{}, {}, {}] }));
  const connection = new FakeConnection(makeSnapshot({ goals: [{ ...running, attempts }], settings: { maxIterations: 7 } }));
  const app = renderApp(t, connection);
  await eventually(() => assert.match(app.frame(), /#1\s+Iterating\s+.*it 3\/7/));
  const provider = { model: 'gpt-5.4-mini', api: 'responses', baseURL: null, apiKeySet: false, configured: false } as const;
  connection.pushEvent(makeEvent(1, 'config.changed', { provider, settings: { ...DEFAULT_SETTINGS, maxIterations: 12 }, error: null }));
  await eventually(() => assert.match(app.frame(), /#1\s+Iterating\s+.*it 3\/12/));
});
