/**
 * The config's rules on secrets hold on a queue worker as on the daemon's machine (a real daemon,
 * a private Redis, a `ralph worker` process, test/fake-openai): a secret-looking variable of the
 * worker's environment that `secrets.passEnv` names, and the worker passes (`--pass-env`), reaches the goal's commands and check (its
 * value still redacted from the log), and one `secrets.hideEnv` names never does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startQueueDaemon, untilDone } from './queue-daemon.ts';

test("a worker applies the config's secrets.passEnv and secrets.hideEnv to its own environment", async (t) => {
  const queue = await startQueueDaemon(t, {
    config: {
      executor: { verify: 'test "$WORKER_TOKEN" = from-the-worker && test -z "$PLAIN_SETTING"', commands: { sandbox: 'off' } },
      secrets: { passEnv: ['WORKER_TOKEN'], hideEnv: ['PLAIN_SETTING'] },
    },
  });
  queue.server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { toolCalls: [{ name: 'run_command', arguments: { command: 'echo "token=$WORKER_TOKEN plain=${PLAIN_SETTING:-unset}"' } }] }
      : { toolCalls: [{ name: 'goal_done', arguments: { summary: 'looked at the environment' } }] },
  );
  await queue.startWorker('w1', { WORKER_TOKEN: 'from-the-worker', PLAIN_SETTING: 'visible' }, [
    '--allow-sandbox-off',
    '--pass-env',
    'WORKER_TOKEN',
  ]);
  const { goal } = await queue.client.request('goal.create', { title: 'Read the environment', queue: true });
  await untilDone(queue, goal.id);

  const { entries } = await queue.client.request('logs.read', { id: goal.id });
  const output = entries.filter((entry) => entry.worker === 'w1').map((entry) => JSON.stringify(entry));
  assert.ok(
    output.some((line) => line.includes('token=[redacted WORKER_TOKEN] plain=unset')),
    `the command saw the passed token (redacted in the log) and not the hidden setting: ${output.join('\n')}`,
  );
  assert.ok(!output.some((line) => line.includes('from-the-worker')), 'the token is never in the log');
  assert.ok(entries.some((entry) => entry.kind === 'check' && entry.ok === true));
});
