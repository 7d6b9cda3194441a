/**
 * An agent asks a person, on real parts: the executor (the real provider against test/fake-openai,
 * scripted to call ask_human) asks; the goal is `waiting`; the question is in `ralph inbox --json`;
 * `ralph answer` answers it, a second answer is refused; the next iteration's request carries the
 * answer and the goal completes. Then the same across a daemon killed with -9.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RalphClient, RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode, type Question } from '../../protocol/index.ts';
import { startFakeOpenAI, type ScenarioRequest } from '../fake-openai/index.ts';
import { cliEnv, failedWith, ralph, succeeded } from '../helpers/cli.ts';
import { defer, endpointFromFile, spawnDaemon, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { promptOf, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';

const ASK = {
  toolCalls: [{ name: 'ask_human', arguments: { question: 'Which greeting should hello.txt hold?', options: ['hello', 'hi'] } }],
};

async function setup(t: import('node:test').TestContext) {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: UNPRICED_MODEL };
  return { repo, worktreesRoot, server, env };
}

/** The second iteration: it must have been told the answer; it writes the file and says done. */
function answeredIteration(seen: string[]) {
  return (request: ScenarioRequest) => {
    seen.push(promptOf(request));
    return reply.write('hello.txt', 'Howdy\n');
  };
}

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
