/**
 * An external agent (a `stream-json` command script) that cannot work, or works too long or too
 * expensively: not logged in → stuck saying how to log in; rate limited → a wait, then the
 * iteration again, not counted; its reported cost → the cost bound stops it mid-turn; its
 * timeout → stopped, its work committed and checked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Iteration } from '../../protocol/index.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { alive, daemonWithAgent, ended, logOf, script } from './external-agent-helpers.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../helpers/wait.ts';

const line = (event: object) => `echo '${JSON.stringify(event)}'`;

test('an agent that is not logged in: stuck saying so, no iteration burned', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    ['cat > /dev/null', line({ type: 'error', kind: 'auth', message: 'Invalid API key · Please run /login' }), 'exit 1'].join('\n'),
  );
  const { client } = await daemonWithAgent(t, { command: [agent], output: 'stream-json' });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const stuck = await ended(client, goal.id);
  assert.equal(stuck.state, 'stuck');
  assert.match(stuck.history.at(-1)?.note ?? '', /^agent\.sh is not logged in: .*\(it said: Invalid API key · Please run \/login\)$/);
  assert.deepEqual(stuck.attempts[0]!.iterations, []);
});

test('a rate-limited agent: the iteration waits and runs again, not counted', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const once = `${dir}/limited-once`;
  const agent = await script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      `if [ ! -e '${once}' ]; then touch '${once}'; ${line({ type: 'error', kind: 'rate-limit', message: '429 Too Many Requests', retryAfterSeconds: 0.2 })}; exit 1; fi`,
      'echo hello > hello.txt',
      line({ type: 'result', text: 'RALPH_GOAL_DONE: hello.txt is written', ok: true }),
    ].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent], output: 'stream-json' });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const done = await ended(client, goal.id);
  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  assert.deepEqual(
    (done.attempts[0]!.iterations as Iteration[]).map((iteration) => iteration.number),
    [1],
  );
  const log = await logOf(repoRoot, goal.id);
  assert.ok(log.some((entry) => entry.kind === 'warning' && /rate limited: waiting 0 s, then iteration 1 starts again/.test(entry.text)));
});

test('the cost an agent reports counts against the bound: it is stopped mid-turn, its work committed, the goal stuck', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const pid = path.join(dir, 'pid');
  const agent = await script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      'echo hello > hello.txt',
      `echo $$ > '${pid}'`,
      line({ type: 'usage', model: 'scripted-model', usage: { inputTokens: 1000, outputTokens: 100 }, costUsd: 2.5 }),
      'sleep 1000',
    ].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent], output: 'stream-json' }, { maxCostUsd: 1 });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const stuck = await ended(client, goal.id);
  assert.equal(stuck.state, 'stuck');
  assert.match(stuck.history.at(-1)?.note ?? '', /^cost bound reached: \$2\.50 spent/);
  const [iteration] = stuck.attempts[0]!.iterations as Iteration[];
  assert.ok(iteration?.commit, 'the work so far is committed');
  assert.equal(iteration.check, null, 'the check is skipped after a bound');
  assert.deepEqual(stuck.usage, { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 100, calls: 1, costUsd: 2.5 });
  assert.equal(alive(Number(await readFile(pid, 'utf8'))), false);
  assert.ok((await logOf(repoRoot, goal.id)).some((entry) => entry.kind === 'commit' && entry.commit === iteration.commit));
});

test('an agent past executor.agentTimeoutMinutes: stopped, its work committed and checked', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    ['cat > /dev/null', 'echo hello > hello.txt', 'echo "thinking hard"', 'sleep 1000'].join('\n'),
  );
  // 0.01 minutes: 0.6 s.
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent] }, { agentTimeoutMinutes: 0.01, maxIterations: 1 });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const stuck = await ended(client, goal.id);
  const [iteration] = stuck.attempts[0]!.iterations as Iteration[];
  assert.ok(iteration?.commit);
  assert.equal(iteration.check?.ok, true, 'checked');
  assert.equal(iteration.summary, 'thinking hard');
  await waitFor(
    async () => (await logOf(repoRoot, goal.id)).some((entry) => entry.kind === 'warning' && /was stopped after/.test(entry.text)),
    {
      message: 'the timeout in the log',
    },
  );
});

test('an agent that fails without a word: its error is the iteration’s note', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(dir, 'agent.sh', ['cat > /dev/null', 'echo "agent: no model configured" >&2', 'exit 2'].join('\n'));
  const { client } = await daemonWithAgent(t, { command: [agent] }, { maxIterations: 1 });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const stuck = await ended(client, goal.id);
  const [iteration] = stuck.attempts[0]!.iterations as Iteration[];
  assert.equal(iteration?.summary, '(agent.sh exited with code 2: agent: no model configured)');
});
