/** A question and the goal waiting on it survive kill -9 of the daemon (real processes, the real command line). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import type { Question } from '../../protocol/index.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';
import { reply } from '../pipeline/executor-helpers.ts';
import { answeredIteration, ASK, setup } from './helpers.ts';

test('a question and its waiting goal survive kill -9 of the daemon; answered afterwards, the goal completes', async (t) => {
  const { repo, server, env } = await setup(t);
  const daemonEnv = { ...cliEnv(env) };
  const first = spawnDaemon(t, repo, 'background', daemonEnv);
  await first.firstLine;
  const client = await RalphClient.connect({
    endpoint: endpointFromFile(repo),
    name: 'crash-test',
    requestTimeoutMs: 10_000,
    reconnect: false,
  });
  server.script(ASK);
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'waiting', {
    timeoutMs: 15_000,
    message: 'the goal to wait for an answer',
  });
  client.close();
  first.child.kill('SIGKILL');
  await first.exited;

  const second = spawnDaemon(t, repo, 'background', daemonEnv);
  await second.firstLine;
  const listed = JSON.parse(succeeded(await ralph(['inbox', '--json', '--repo', repo], { env: cliEnv() }))) as Question[];
  assert.deepEqual(
    listed.map((question) => [question.id, question.question, question.answer]),
    [[1, 'Which greeting should hello.txt hold?', undefined]],
    'the question is still open after kill -9',
  );
  const again = await RalphClient.connect({
    endpoint: endpointFromFile(repo),
    name: 'crash-test',
    requestTimeoutMs: 10_000,
    reconnect: false,
  });
  defer(t, () => again.close());
  assert.equal((await again.request('goal.get', { id: goal.id })).goal.state, 'waiting', 'a waiting goal stays waiting at start');
  assert.equal(again.snapshot?.questions.length, 1, 'the snapshot carries the open question');

  const prompts: string[] = [];
  server.script(answeredIteration(prompts), reply.done('Done.'));
  succeeded(await ralph(['answer', '1', 'hello', '--repo', repo], { env: cliEnv() }));
  await waitFor(async () => (await again.request('goal.get', { id: goal.id })).goal.state === 'done', {
    timeoutMs: 15_000,
    message: 'the goal to complete after the answer',
  });
  assert.match(prompts[0] ?? '', /The developer answered:\n> hello/);
  await again.request('daemon.shutdown', {});
  await second.exited;
});
