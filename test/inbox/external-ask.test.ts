/**
 * An agent CLI asks through its output: a command agent (a script) ends its final message with
 * `RALPH_ASK_HUMAN: <question>`; the goal waits with the question in the inbox; answered, the next
 * run's prompt carries the answer and the goal completes.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { daemonWithAgent, ended, script } from '../pipeline/external-agent-helpers.ts';

test('a command agent that ends with RALPH_ASK_HUMAN: the goal waits, the answer reaches its next run, the goal completes', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    [
      'prompt=$(cat)',
      `if [ ! -e '${dir}/asked' ]; then`,
      `  touch '${dir}/asked'`,
      `  printf "%s" "$prompt" > '${dir}/prompt-1.txt'`,
      '  echo "I need one thing settled first."',
      '  echo "RALPH_ASK_HUMAN: Which greeting should hello.txt hold?"',
      '  exit 0',
      'fi',
      `printf "%s" "$prompt" > '${dir}/prompt-2.txt'`,
      'echo hello > hello.txt',
      'echo "RALPH_GOAL_DONE: wrote hello.txt"',
    ].join('\n'),
  );
  const { client } = await daemonWithAgent(t, { command: [agent] });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'waiting', {
    timeoutMs: 10_000,
    message: 'the goal to wait for an answer',
  });
  assert.match(
    await readFile(path.join(dir, 'prompt-1.txt'), 'utf8'),
    /RALPH_ASK_HUMAN: <the question, on one line>/,
    'the prompt says how to ask',
  );
  const { questions } = await client.request('inbox.list', {});
  assert.deepEqual(
    questions.map((question) => [question.from, question.question]),
    [[{ goalId: goal.id, iteration: 1 }, 'Which greeting should hello.txt hold?']],
  );
  const waiting = (await client.request('goal.get', { id: goal.id })).goal;
  assert.equal(waiting.attempts[0]?.iterations[0]?.summary, 'I need one thing settled first.', 'the marker line is not part of its note');

  await client.request('inbox.answer', { id: questions[0]!.id, text: 'Say hello.' });
  const done = await ended(client, goal.id);
  assert.equal(done.state, 'done');
  const second = await readFile(path.join(dir, 'prompt-2.txt'), 'utf8');
  assert.match(second, /## Your question and the answer/);
  assert.match(second, /The developer answered:\n> Say hello\./);
});
