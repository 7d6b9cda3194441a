/**
 * A daemon killed after filing a goal's question and before moving the goal to `waiting`: the next
 * daemon makes the goal wait on that question instead of running it again (which could ask a second
 * time, leaving a stale question open). Real processes: a first daemon runs the goal until it asks
 * and is killed with SIGKILL; its goal file is then put back as the crash window leaves it (the
 * question filed, the goal still `running`), and a second daemon starts on those files.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { Goal, type Question } from '../../protocol/index.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';
import { reply } from '../pipeline/executor-helpers.ts';
import { answeredIteration, ASK, setup } from './helpers.ts';

function connect(repo: string): Promise<RalphClient> {
  return RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'crash-window-test', requestTimeoutMs: 10_000, reconnect: false });
}

/** The goal file as a daemon killed just before the `ask` transition leaves it: still `running`. */
async function undoAsk(file: string): Promise<void> {
  const goal = Goal.parse(JSON.parse(await readFile(file, 'utf8')));
  const ask = goal.history.at(-1);
  assert.equal(ask?.action, 'ask', 'the last transition the first daemon made is the ask');
  const before = { ...goal, state: ask.from, updatedAt: goal.history.at(-2)?.at ?? goal.createdAt, history: goal.history.slice(0, -1) };
  assert.equal(before.state, 'running');
  await writeFile(file, `${JSON.stringify(Goal.parse(before), null, 2)}\n`);
}

test('a question filed just before kill -9, its goal not yet waiting: at start the goal waits on it, no second question; answered, it completes', async (t) => {
  const { repo, server, env } = await setup(t);
  const daemonEnv = { ...cliEnv(env) };
  const first = spawnDaemon(t, repo, 'background', daemonEnv);
  await first.firstLine;
  const client = await connect(repo);
  server.script(ASK);
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'waiting', {
    timeoutMs: 15_000,
    message: 'the goal to ask',
  });
  client.close();
  first.child.kill('SIGKILL');
  await first.exited;
  await undoAsk(path.join(repo, '.ralph', 'goals', `${goal.id}.json`));

  // The second daemon runs the goal again only if it is not made to wait: then its agent asks again.
  server.script(ASK);
  const second = spawnDaemon(t, repo, 'background', daemonEnv);
  await second.firstLine;
  const again = await connect(repo);
  defer(t, () => again.close());
  const { goal: started } = await again.request('goal.get', { id: goal.id });
  assert.equal(started.state, 'waiting', 'the goal waits on its open question');
  assert.deepEqual(
    started.history.slice(-2).map(({ action, from, to }) => [action, from, to]),
    [
      ['recover', 'running', 'queued'],
      ['ask', 'queued', 'waiting'],
    ],
  );
  assert.match(started.history.at(-1)?.note ?? '', /waits for its answer/);
  const listed = JSON.parse(succeeded(await ralph(['inbox', '--json', '--repo', repo], { env: cliEnv() }))) as Question[];
  assert.deepEqual(
    listed.map((question) => [question.id, question.question]),
    [[1, 'Which greeting should hello.txt hold?']],
    'one open question, the one filed before the crash',
  );
  assert.equal(server.modelRequests().length, 1, 'no model call since the first daemon asked');
  assert.equal(server.pendingScript, 1, 'the second ask is not used');

  server.reset();
  const prompts: string[] = [];
  server.script(answeredIteration(prompts), reply.done('Done.'));
  succeeded(await ralph(['answer', '1', 'hello', '--repo', repo], { env: cliEnv() }));
  await waitFor(async () => (await again.request('goal.get', { id: goal.id })).goal.state === 'done', {
    timeoutMs: 15_000,
    message: 'the goal to complete after the answer',
  });
  assert.match(prompts[0] ?? '', /The developer answered:\n> hello/);
  const { questions } = await again.request('inbox.list', { all: true });
  assert.deepEqual(
    questions.map((question) => [question.id, question.answer?.text]),
    [[1, 'hello']],
    'the only question the goal ever asked, answered',
  );
  await again.request('daemon.shutdown', {});
  await second.exited;
});
