/**
 * An agent asks a person, on real parts: the executor (the real provider against test/fake-openai,
 * scripted to call ask_human) asks; the goal is `waiting`; the question is in `ralph inbox --json`;
 * `ralph answer` answers it, a second answer is refused; the next iteration's request carries the
 * answer and the goal completes; a hostile question file; a cancelled goal withdraws its question.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode, type Question } from '../../protocol/index.ts';
import { cliEnv, failedWith, ralph, succeeded } from '../helpers/cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { reply } from '../pipeline/executor-helpers.ts';
import { answeredIteration, ASK, setup } from './helpers.ts';

test('the executor asks: the goal waits, the inbox has it, the first answer wins and reaches the next iteration, the goal completes', async (t) => {
  const { repo, worktreesRoot, server, env } = await setup(t);
  const { connect } = await startTestDaemon(t, repo, { env, worktreesRoot, configWatch: false, pipeline: { paused: false } });
  const client = await connect('inbox-test');

  const prompts: string[] = [];
  server.script(ASK, answeredIteration(prompts), reply.done('hello.txt holds the greeting.'));
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });

  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'waiting', {
    message: 'the goal to wait for an answer',
  });
  const waiting = (await client.request('goal.get', { id: goal.id })).goal;
  assert.equal(waiting.attempts[0]?.iterations.length, 1, 'the asking iteration is recorded');
  assert.equal(server.modelRequests().length, 1, 'nothing more runs while the goal waits');

  const listed = JSON.parse(succeeded(await ralph(['inbox', '--json', '--repo', repo], { env: cliEnv() }))) as Question[];
  assert.equal(listed.length, 1);
  assert.deepEqual(
    { id: listed[0]!.id, from: listed[0]!.from, question: listed[0]!.question, options: listed[0]!.options, answer: listed[0]!.answer },
    {
      id: 1,
      from: { goalId: goal.id, iteration: 1 },
      question: 'Which greeting should hello.txt hold?',
      options: ['hello', 'hi'],
      answer: undefined,
    },
  );
  assert.match(succeeded(await ralph(['inbox', '--repo', repo], { env: cliEnv() })), /Which greeting should hello\.txt hold\?/);

  const answered = JSON.parse(
    succeeded(await ralph(['answer', '1', 'Neither: write "Howdy"\non its own line.', '--json', '--repo', repo], { env: cliEnv() })),
  ) as Question;
  assert.equal(answered.answer?.text, 'Neither: write "Howdy"\non its own line.');
  assert.equal(answered.answer?.by, 'cli');

  // The first answer wins: a second, from a client or the command line, is refused saying so.
  await assert.rejects(client.request('inbox.answer', { id: 1, text: 'hi' }), (error: unknown) => {
    assert.ok(error instanceof RpcRequestError);
    assert.equal(error.code, ErrorCode.Conflict);
    assert.match(error.message, /question 1 was already answered by cli/);
    return true;
  });
  failedWith(await ralph(['answer', '1', 'hi', '--repo', repo], { env: cliEnv() }), 1, /already answered/);
  failedWith(await ralph(['answer', '99', 'hi', '--repo', repo], { env: cliEnv() }), 1, /no question 99/);
  failedWith(await ralph(['answer', 'x', 'hi', '--repo', repo], { env: cliEnv() }), 2, /a question ID is a positive integer/);

  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'done', {
    timeoutMs: 15_000,
    message: 'the goal to complete after the answer',
  });
  assert.equal(prompts.length, 1);
  assert.match(prompts[0]!, /## Your question and the answer/);
  assert.match(prompts[0]!, /Which greeting should hello\.txt hold\?/);
  assert.match(prompts[0]!, /> Neither: write "Howdy"\n> on its own line\./);
  assert.deepEqual(JSON.parse(succeeded(await ralph(['inbox', '--json', '--repo', repo], { env: cliEnv() }))), [], 'the inbox is empty');

  const { entries } = await client.request('logs.read', { id: goal.id });
  const texts = entries.map((entry) => `${entry.kind}: ${entry.text}`);
  assert.ok(
    texts.some((text) => /^decision: ask_human: Which greeting/.test(text)),
    texts.join('\n'),
  );
  assert.ok(
    texts.some((text) => /^note: question 1 answered by cli: Neither/.test(text)),
    texts.join('\n'),
  );
  assert.ok(
    texts.some((text) => /^transition: running → waiting: Which greeting/.test(text)),
    texts.join('\n'),
  );
  assert.ok(
    texts.some((text) => /^transition: waiting → queued: question 1 answered/.test(text)),
    texts.join('\n'),
  );
});

test('a hostile question file is reported and the daemon serves on', async (t) => {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  await mkdir(path.join(repo, '.ralph/questions'), { recursive: true });
  await writeFile(path.join(repo, '.ralph/questions/1.json'), '{"id": 1, "question": ');
  const fine = { id: 2, createdAt: '2026-01-01T00:00:00.000Z', from: { chat: 's' }, question: 'Fine?' };
  await writeFile(path.join(repo, '.ralph/questions/2.json'), JSON.stringify(fine));
  const { connect, logs } = await startTestDaemon(t, repo, { configWatch: false });
  const client = await connect('hostile');
  const { questions, invalid } = await client.request('inbox.list', {});
  assert.deepEqual(
    questions.map((question) => question.id),
    [2],
  );
  assert.deepEqual(invalid, [
    { file: '.ralph/questions/1.json', error: 'it is not valid JSON: the text ends too early at line 1, column 23' },
  ]);
  assert.ok(
    logs.some((line) => line.includes('.ralph/questions/1.json is not read')),
    logs.join('\n'),
  );
  const run = await ralph(['inbox', '--repo', repo], { env: cliEnv() });
  assert.equal(run.code, 0);
  assert.match(run.stderr, /^ralph: \.ralph\/questions\/1\.json is not read: it is not valid JSON/);
  assert.match(run.stdout, /Fine\?/);
  assert.equal((await client.request('daemon.status', {})).daemon.pid, process.pid, 'the daemon serves on');
});

test('a waiting goal cancelled: its question is withdrawn, out of the inbox, and an answer to it is refused', async (t) => {
  const { repo, worktreesRoot, server, env } = await setup(t);
  const { connect } = await startTestDaemon(t, repo, { env, worktreesRoot, configWatch: false, pipeline: { paused: false } });
  const client = await connect('inbox-test');
  server.script(ASK);
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'waiting', {
    message: 'the goal to wait for an answer',
  });
  assert.equal((await client.request('inbox.list', {})).questions.length, 1);
  await client.request('goal.cancel', { id: goal.id });
  await waitFor(async () => (await client.request('inbox.list', {})).questions.length === 0, {
    message: 'the question to leave the inbox',
  });
  const [withdrawn] = (await client.request('inbox.list', { all: true })).questions;
  assert.equal(withdrawn?.withdrawn?.reason, `goal #${goal.id} is cancelled`);
  failedWith(
    await ralph(['answer', '1', 'hello', '--repo', repo], { env: cliEnv() }),
    1,
    /question 1 was withdrawn at .*: goal #\d+ is cancelled/,
  );
});
