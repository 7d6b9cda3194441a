/** A TUI (in tmux) shows a goal that runs on a queue worker, its live log lines named by the worker. */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { findTmux } from '../e2e/tmux.ts';
import { openTui, startRepoWithDaemon, startTmux } from '../e2e/setup.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer } from '../helpers/daemon.ts';
import { startRedis } from '../helpers/redis.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { gate, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startWorkerProcess, twoIterationScenario } from './queue-helpers.ts';

test("the TUI's log shows a remote goal's lines live, as its worker writes them", { timeout: 90_000 }, async (t) => {
  if (!findTmux()) {
    t.skip('tmux is not installed (.ci/run installs it)');
    return;
  }
  const redis = await startRedis();
  defer(t, () => redis.dispose());
  const scratch = await makeTempDir(undefined, 'ralph-queue-');
  defer(t, () => rm(scratch, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  server.setScenario(twoIterationScenario);
  const held = gate();
  t.after(() => held.open());
  // The iteration's second call waits: the goal stays running while the TUI shows its first lines.
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
  const tui = await openTui(tmux, repo, 'watcher');
  await ralph('goal', 'add', '--title', 'Runs remotely', '--queue');
  await tui.waitForText(/running/, { timeoutMs: 20_000 });
  await tui.press('Tab', 'Tab');
  await tui.waitForText('worker far-away runs attempt 1', { timeoutMs: 20_000 });
  await tui.waitForText(/remote\.txt/, { timeoutMs: 20_000 });
  held.open();
});
