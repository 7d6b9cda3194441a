/**
 * The Ralph loop end to end on real parts: a temporary repository, goal worktrees, the real
 * provider against scripted answers of test/fake-openai, real commands and checks.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Goal } from '../../protocol/index.ts';
import { git } from '../helpers/repo.ts';
import { pause, waitFor } from '../helpers/wait.ts';
import { MAX_CONTINUATIONS } from '../../daemon/agent/agent-loop.ts';
import { iterationsOf, promptOf, reply, startExecutor, toolResultsOf } from './executor-helpers.ts';

test('a full goal: the agent writes a file and calls goal_done, the check passes, the branch holds the commit, the developer’s edits are untouched', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'test -f hello.txt' }, tuning: { paused: true } });
  // The developer is editing beside the goal: a changed tracked file and a new one, uncommitted.
  await writeFile(path.join(h.repoRoot, 'README.md'), '# test repo\n\nwork in progress\n');
  await writeFile(path.join(h.repoRoot, 'scratch.txt'), 'mine\n');
  const statusBefore = git(h.repoRoot, 'status', '--porcelain');
  const headBefore = git(h.repoRoot, 'rev-parse', 'HEAD');

  h.server.script(reply.write('hello.txt', 'hello\n'), reply.done('Wrote hello.txt.'));
  const created = await h.addGoal();
  h.pipeline.resume();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);

  assert.equal(goal.state, 'done', `the goal is done (history: ${JSON.stringify(goal.history.at(-1))})`);
  assert.equal(goal.branch, 'ralph/goal-1');
  const [iteration, ...more] = iterationsOf(goal);
  assert.ok(iteration);
  assert.equal(more.length, 0, 'one iteration');
  assert.equal(iteration.number, 1);
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'Wrote hello.txt.');
  assert.deepEqual(
    { command: iteration.check?.command, ok: iteration.check?.ok, exitCode: iteration.check?.exitCode },
    { command: 'test -f hello.txt', ok: true, exitCode: 0 },
  );
  assert.equal(goal.usage.calls, 2, 'two model calls: write_file, then goal_done');
  assert.equal(goal.attempts[0]?.notes.length, 1);
  assert.match(goal.attempts[0]!.notes[0]!, /^Iteration 1: Wrote hello\.txt\. \(committed [0-9a-f]{7}; claimed done; check passed\)$/);

  // The branch holds the iteration's commit, with its trailer; the developer's branch and files are as they were.
  assert.equal(iteration.commit, git(h.repoRoot, 'rev-parse', 'ralph/goal-1'));
  assert.equal(git(h.repoRoot, 'show', 'ralph/goal-1:hello.txt'), 'hello');
  assert.match(git(h.repoRoot, 'log', '-1', '--format=%B', 'ralph/goal-1'), /Ralph-Iteration: 1\/1/);
  assert.equal(git(h.repoRoot, 'rev-parse', 'HEAD'), headBefore);
  assert.equal(git(h.repoRoot, 'status', '--porcelain'), statusBefore);
  assert.equal(await readFile(path.join(h.repoRoot, 'README.md'), 'utf8'), '# test repo\n\nwork in progress\n');
  assert.equal(await readFile(path.join(h.repoRoot, 'scratch.txt'), 'utf8'), 'mine\n');
  await assert.rejects(readFile(path.join(h.repoRoot, 'hello.txt')), { code: 'ENOENT' });

  // The goal file parses; the log tells the story; every iteration had a progress unit.
  Goal.parse(JSON.parse(await readFile(h.store.fileOf(created.id), 'utf8')));
  const kinds = new Set((await h.logOf(created.id)).map((entry) => entry.kind));
  for (const kind of ['model', 'tool', 'commit', 'check', 'note', 'decision']) assert.ok(kinds.has(kind), `a ${kind} entry in the log`);
  const progress = h.events.filter(
    (event) => event.type.startsWith('progress.') && 'token' in event.data && event.data.token === 'goal:1:1',
  );
  assert.equal(progress[0]?.type, 'progress.begin');
  assert.deepEqual(progress.at(-1)?.data, { token: 'goal:1:1', outcome: 'done', message: 'check passed' });
  // The system prompt and the goal reached the model.
  const first = h.server.requests.find((request) => request.api === 'chat');
  assert.ok(JSON.stringify(first?.body).includes('Take ONE step toward the goal'));
});

test('the check fails first, the next iteration receives its output, and the goal is done when it passes', async (t) => {
  const check = 'test "$(cat hello.txt)" = world || { echo "expected world, got: $(cat hello.txt)"; exit 1; }';
  const h = await startExecutor(t, { executor: { verify: check } });
  let secondIterationPrompt = '';
  h.server.script(
    reply.write('hello.txt', 'hi'),
    reply.done('Wrote hello.txt.'),
    (request) => {
      secondIterationPrompt = promptOf(request);
      return reply.write('hello.txt', 'world');
    },
    reply.done('Fixed hello.txt to say world.'),
  );
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);

  assert.equal(goal.state, 'done');
  const iterations = iterationsOf(goal);
  assert.deepEqual(
    iterations.map((iteration) => [iteration.number, iteration.doneClaimed, iteration.check?.ok]),
    [
      [1, true, false],
      [2, true, true],
    ],
    'goal_done with a failing check is not done: a second iteration ran',
  );
  assert.match(iterations[0]!.check!.output, /expected world, got: hi/);
  assert.match(secondIterationPrompt, /expected world, got: hi/, 'the second iteration was shown the failing output');
  assert.match(secondIterationPrompt, /Iteration 1: Wrote hello\.txt\./, 'and the first iteration’s note');
  assert.equal(git(h.repoRoot, 'rev-list', '--count', 'main..ralph/goal-1'), '2', 'one commit per iteration');
  const decisions = (await h.logOf(created.id)).filter((entry) => entry.kind === 'decision').map((entry) => entry.text);
  assert.ok(decisions.some((text) => /goal_done was called but the check failed/.test(text)));
});

test('a denied command is refused with the rule that denied it: in the tool result the model sees, and in the log', async (t) => {
  const h = await startExecutor(t);
  let refusal = '';
  h.server.script(reply.run('git commit -am x'), (request) => {
    refusal = toolResultsOf(request).join('\n');
    return reply.done('Nothing to commit myself.');
  });
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);

  assert.match(refusal, /refused by the command policy \(deny: git commit\): git commit -am x/);
  const command = (await h.logOf(created.id)).find((entry) => entry.kind === 'command');
  assert.ok(command, 'the command is in the log');
  assert.match(command.text, /refused git commit -am x \(deny: git commit\)/);
  assert.equal(git(h.repoRoot, 'rev-list', '--count', 'main..ralph/goal-1'), '0', 'the agent made no commit');
  // No check configured: done on the agent's word, with a warning in the log.
  assert.equal(goal.state, 'done');
  assert.ok((await h.logOf(created.id)).some((entry) => entry.kind === 'warning' && /no check is configured/.test(entry.text)));
});

test('without a model provider a goal that starts ends stuck saying so, and nothing spins', async (t) => {
  const h = await startExecutor(t, { provider: { apiKey: null, baseURL: null, configured: false } });
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['stuck', 'done']);
  assert.equal(goal.state, 'stuck');
  assert.match(goal.attempts[0]?.reason ?? '', /no model provider is configured: set OPENAI_API_KEY/);
  const historyLength = goal.history.length;
  await pause(300);
  assert.equal(h.store.get(created.id)?.history.length, historyLength, 'no further transitions');
  assert.deepEqual(h.pipeline.state(), { paused: false, running: [] });
  assert.equal(h.server.requests.length, 0);
});

test('queued goals run in order: open attempts first, then never-tried goals, then retries, one at a time', async (t) => {
  const h = await startExecutor(t, { tuning: { paused: true } });
  h.server.setScenario(() => reply.done('Done at once.'));
  // #1 was tried and got stuck, then retried; #2 and #3 were never tried.
  const retried = await h.addGoal('Retried');
  await h.store.transition(retried.id, 'start');
  await h.store.transition(retried.id, 'fail', { note: 'it went wrong' });
  await h.store.transition(retried.id, 'retry');
  const second = await h.addGoal('Second');
  const third = await h.addGoal('Third');

  h.pipeline.resume();
  for (const id of [retried.id, second.id, third.id]) await h.waitForState(id, 'done');
  const started = h.events.flatMap((event) =>
    event.type === 'goal.updated' && event.data.transition?.action === 'start' ? [event.data.goal.id] : [],
  );
  // The first start is the one made by hand above.
  assert.deepEqual(started.slice(1), [second.id, third.id, retried.id], 'never-tried goals before the retry');

  // The retried goal's prompt carried its earlier attempt.
  const retriedPrompt = h.server.requests.filter((request) => request.api === 'chat').at(-1);
  assert.match(JSON.stringify(retriedPrompt?.body), /Attempt 1 ended stuck: it went wrong/);
  // Never more than one at a time (executor.concurrency 1).
  const running = h.events.flatMap((event) => (event.type === 'pipeline.changed' ? [event.data.running.length] : []));
  assert.ok(Math.max(...running) <= 1);
});

test('concurrency 2 runs two goals at once, each in its own worktree', async (t) => {
  const h = await startExecutor(t, { executor: { concurrency: 2 } });
  let arrived = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  h.server.setScenario(async (request) => {
    if (request.pendingToolResults.length > 0) return reply.done('Done.');
    arrived++;
    await released;
    return reply.write('mine.txt', `${request.requestIndex}`);
  });
  const a = await h.addGoal('A');
  const b = await h.addGoal('B');
  await waitFor(() => arrived === 2, { message: 'both goals calling the model at once' });
  assert.deepEqual(h.pipeline.state().running, [a.id, b.id]);
  release();
  await h.waitForState(a.id, 'done');
  await h.waitForState(b.id, 'done');
  assert.notEqual(git(h.repoRoot, 'rev-parse', 'ralph/goal-1'), git(h.repoRoot, 'rev-parse', 'ralph/goal-2'));
});

test('an iteration whose answer stays cut at the output-token limit is recorded as cut, never as a clean summary', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'false', maxIterations: 1 } });
  h.server.script(...Array.from({ length: MAX_CONTINUATIONS + 1 }, (_, i) => ({ text: `I am still expl${i}`, stop: 'length' as const })));
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);
  const [iteration] = iterationsOf(goal);
  assert.match(iteration?.summary ?? '', /^\(cut short\) I am still expl0I am still expl1/);
  const warnings = (await h.logOf(created.id)).filter((entry) => entry.kind === 'warning').map((entry) => entry.text);
  assert.ok(warnings.includes('the reply was cut at the output-token limit: the model continues it'), warnings.join('\n'));
  assert.ok(warnings.includes('the reply was cut at the output-token limit: the answer stays cut'), warnings.join('\n'));
});
