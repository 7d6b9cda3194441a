/**
 * The daemon's spend budget over the queue, on real parts (a real daemon, a private Redis, a
 * `ralph worker` process, test/fake-openai): the worker reports each call's usage, the call that
 * uses the budget up stops the worker's iteration (the command it started is killed) within 2 s,
 * and the pipeline is held as for a local goal.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connectionOptions, queueNameFor } from '../../daemon/queue/queue.ts';
import { type Turn, turnKey } from '../../daemon/queue/turns.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { alive } from '../pipeline/external-agent-helpers.ts';
import { iterationsOf, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startQueueDaemon } from './queue-daemon.ts';

/** 1,000 input tokens at the $3 a million the config gives the model: $0.003 a call; the second call uses the day's $0.005 up. */
const CALL_USAGE = { inputTokens: 1000, outputTokens: 0 };
const DAILY_USD = 0.005;

test("a remote goal's call that uses the spend budget up stops the worker's iteration within 2 s, and the pipeline is held", async (t) => {
  const dir = await makeTempDir(t, 'ralph-budget-');
  const pidFile = path.join(dir, 'command.pid');
  const queue = await startQueueDaemon(t, {
    config: {
      executor: { commands: { sandbox: 'off' } },
      budget: { dailyUsd: DAILY_USD },
      models: [{ id: UNPRICED_MODEL, pricing: { input: 3 } }],
    },
    // The daemon's key and a token in its provider's URL: neither may reach a worker.
    env: { OPENAI_API_KEY: 'sk-daemon-only', OPENAI_BASE_URL: 'http://ralph:s3cret-token@127.0.0.1:9/v1' },
  });
  // The first call writes a file; the second, which crosses the budget, starts a command that would run for good.
  queue.server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { toolCalls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'a\n' } }], usage: CALL_USAGE }
      : { toolCalls: [{ name: 'run_command', arguments: { command: `echo $$ > ${pidFile}; exec sleep 1000` } }], usage: CALL_USAGE },
  );
  await queue.startWorker('w1', undefined, ['--allow-sandbox-off']);
  const { goal } = await queue.client.request('goal.create', { title: 'Spend', queue: true });

  await waitFor(async () => (await queue.client.request('daemon.status', {})).spend?.level === 'spent', {
    timeoutMs: 20_000,
    message: 'the budget to be used up',
  });
  const spent = Date.now();
  // The worker's run stops (its command, if it started, killed): ~0.3 s here. How long is printed, not
  // asserted: on a loaded machine the daemon's record of it can take longer than the stop itself.
  await waitFor(
    async () => {
      const { entries } = await queue.client.request('logs.read', { id: goal.id });
      return entries.some((entry) => entry.kind === 'decision' && /spend budget is used up/.test(entry.text));
    },
    { timeoutMs: 15_000, message: "the daemon to say the budget stopped the goal's iteration" },
  );
  t.diagnostic(`the iteration ended ${Date.now() - spent} ms after the budget was seen used up`);
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  t.after(() => {
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.ok(!(pid > 0 && alive(pid)), "the worker's command is gone");
  t.diagnostic(pid > 0 ? `the command started (pid ${pid}) and was killed` : 'the bound reached the worker before the command started');

  const status = await queue.client.request('daemon.status', {});
  assert.equal(status.pipeline?.hold?.reason, 'budget');
  assert.ok(status.spend!.today.usd >= DAILY_USD, `today: ${status.spend!.today.usd}`);
  // The iteration is recorded as the budget stopped it: its work committed, its spend the worker's figures.
  const iteration = iterationsOf(await queue.goal(goal.id)).at(-1);
  assert.equal(iteration?.interrupted, 'the spend budget is used up');
  assert.ok(iteration?.commit, 'the file it wrote is committed');
  assert.deepEqual(iteration?.usage, { inputTokens: 2000, cachedInputTokens: 0, outputTokens: 0, calls: 2, costUsd: 0.006 });
  // What the worker was sent: the model settings and table, never the daemon's key or the URL's token.
  const redis = new Redis(connectionOptions(queue.redis.url));
  t.after(() => redis.disconnect());
  const turn = (await redis.get(turnKey(await queueNameFor(queue.repo), goal.id))) ?? '';
  assert.equal((JSON.parse(turn) as Turn).baseURL, 'http://127.0.0.1:9/v1');
  assert.ok((JSON.parse(turn) as Turn).models?.some((row) => row.id === UNPRICED_MODEL && row.pricing.input === 3));
  assert.doesNotMatch(turn, /s3cret-token|sk-daemon-only/);
  assert.equal(queue.server.modelRequests().length, 2, 'no model call after the one that used the budget up');
});
