/**
 * A TUI (in tmux, 80 columns) attached to a daemon whose goals run on queue workers: the running
 * goal's row and its live log name the worker; Redis stopped, the status bar says "queue unreachable";
 * started again, it no longer does, and the goal still finishes. The queue's URL that clients are
 * given hides its password.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { findTmux } from '../e2e/tmux.ts';
import { goalRow, openTui, startRepoWithDaemon, startTmux, statusBarOf } from '../e2e/setup.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer } from '../helpers/daemon.ts';
import { startRedis } from '../helpers/redis.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { gate, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startWorkerProcess, twoIterationScenario } from './queue-helpers.ts';

const PASSWORD = 'queue-s3cret';

test('the TUI names the worker running a remote goal, and says "queue unreachable" while Redis is down', {
  timeout: 120_000,
}, async (t) => {
  if (!findTmux()) {
    t.skip('tmux is not installed (.ci/run installs it)');
    return;
  }
  const redis = await startRedis({ appendOnly: true, password: PASSWORD });
  defer(t, () => redis.dispose());
  const scratch = await makeTempDir(undefined, 'ralph-queue-');
  defer(t, () => rm(scratch, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  server.setScenario(twoIterationScenario);
  const held = gate();
  t.after(() => held.open());
  // The first iteration's second call waits: the goal stays running through the outage.
  server.script(reply.write('remote.txt', 'from the worker\n'), async () => {
    await held.promise;
    return reply.text('Wrote remote.txt.');
  });
  const env = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: '',
    RALPH_QUEUE_URL: redis.url,
  };
  const { repo, ralph } = await startRepoWithDaemon(t, env, { 'ralph.config.ts': "export default { executor: { backend: 'queue' } };\n" });
  git(scratch, 'init', '--quiet', '--bare', path.join(scratch, 'remote.git'));
  git(repo, 'remote', 'add', 'origin', path.join(scratch, 'remote.git'));
  await startWorkerProcess(t, { name: 'far-away', url: redis.url, scratch, modelUrl: server.url });

  const tmux = await startTmux(t, env);
  const tui = await openTui(tmux, repo, 'watcher', { width: 80, height: 24 });
  assert.doesNotMatch(statusBarOf(await tui.screen()) ?? '', /queue/, 'the queue answers: nothing to say');
  const { id } = JSON.parse(await ralph('goal', 'add', '--title', 'Runs remotely', '--queue', '--json')) as { id: number };

  // The row names the worker once its first line is relayed; the log pane names it on its lines.
  await tui.waitForScreen((rows) => /on far-away/.test(goalRow(rows, id) ?? ''), 'the goal’s row to name its worker', {
    timeoutMs: 30_000,
  });
  await tui.press('Tab', 'Tab');
  await tui.waitForText(/\[far-away\] worker far-away runs attempt 1/, { timeoutMs: 20_000 });
  // The worker's lines arrive live, while its iteration still runs (its model's next answer is held).
  await tui.waitForText(/remote\.txt/, { timeoutMs: 20_000 });
  // Back to the pipeline (at 80 columns one pane shows at a time).
  await tui.press('Tab');
  await tui.waitForScreen((rows) => goalRow(rows, id), 'the pipeline again');

  const status = JSON.parse(await ralph('daemon', 'status', '--json')) as {
    queue?: { url: string; reachable: boolean; workers: { goalId: number; worker: string }[] };
  };
  assert.equal(status.queue?.reachable, true);
  assert.deepEqual(status.queue?.workers, [{ goalId: id, worker: 'far-away' }]);
  assert.ok(!status.queue?.url.includes(PASSWORD), status.queue?.url);
  assert.match(status.queue?.url ?? '', /^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);
  const shown = await ralph('daemon', 'status');
  assert.match(shown, /^workers +#\d+ on far-away$/m);
  assert.ok(!shown.includes(PASSWORD), shown);

  await redis.stop();
  const down = await tui.waitForScreen(
    (rows) => statusBarOf(rows)?.includes('⚠ queue unreachable') && rows,
    'the status bar to say the queue is unreachable',
    {
      timeoutMs: 15_000,
    },
  );
  const bar = statusBarOf(down) ?? '';
  assert.ok(bar.length <= 80, bar);
  assert.match(goalRow(down, id) ?? '', /on far-away.*running/, `the goal still runs on its worker meanwhile:\n${down.join('\n')}`);

  await redis.start();
  await tui.waitForScreen(
    (rows) => statusBarOf(rows) !== undefined && !statusBarOf(rows)?.includes('queue unreachable'),
    'the warning to go once Redis answers',
    {
      timeoutMs: 20_000,
    },
  );
  held.open();
  const done = await tui.waitForScreen((rows) => /done/.test(goalRow(rows, id) ?? '') && rows, 'the goal to be done', {
    timeoutMs: 60_000,
  });
  assert.doesNotMatch(goalRow(done, id) ?? '', /far-away/, 'a goal that no longer runs names no worker');
});
