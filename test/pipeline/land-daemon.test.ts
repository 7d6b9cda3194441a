/**
 * Landing through a real daemon: goal.land from a real client (the answer, the events, a refusal as a
 * Conflict error), and automatic landing of a goal the real pipeline runs against the fake model.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode, type EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { prepareDoneGoal } from './land-helpers.ts';
import { recordEvents } from '../helpers/events.ts';

test('goal.land answers {goal, commit, files}, every client sees the goal landed, and a refusal is a Conflict naming the file', async (t) => {
  const repo = await makeTempRepo(undefined, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const clean = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Change b', files: { 'b.txt': 'B\n' } });
  const blocked = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Change a', files: { 'a.txt': 'A\n' } });
  const { connect } = await startTestDaemon(t, repo, { worktreesRoot });
  const client = await connect();
  const events = recordEvents(client);

  const result = await client.request('goal.land', { id: clean.goal.id });
  assert.equal(result.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.deepEqual(result.files, ['b.txt']);
  assert.equal(result.goal.landed?.commit, result.commit);
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${clean.goal.id}: Change b`);
  await waitFor(() => events.some((event) => event.type === 'goal.updated' && event.data.goal.landed?.commit === result.commit), {
    message: 'the goal.updated event with landed',
  });
  // The landing queue reached every client: the goal queued, then gone once landed.
  assert.ok(client.snapshot.landing, 'the snapshot carries the landing queue');
  const queues = events.flatMap((event) => (event.type === 'landing.changed' ? [event.data.queue.map((entry) => entry.goalId)] : []));
  assert.ok(queues.some((queue) => queue.includes(clean.goal.id)));
  await waitFor(async () => (await client.request('land.status', {})).queue.length === 0, { message: 'the queue empty' });

  await writeFile(path.join(repo, 'a.txt'), 'my edit\n');
  const refusal = await client.request('goal.land', { id: blocked.goal.id }).then(
    () => assert.fail('expected a refusal'),
    (error: unknown) => error,
  );
  assert.ok(refusal instanceof RpcRequestError);
  assert.equal(refusal.code, ErrorCode.Conflict);
  assert.match(refusal.message, /uncommitted changes to a\.txt/);
  assert.deepEqual(refusal.data, { reason: 'uncommitted-changes', files: ['a.txt'] });
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${clean.goal.id}: Change b`, 'nothing landed');
});

test("with executor.land 'auto', a goal the pipeline finishes is landed as soon as its run lets go of it", async (t) => {
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': "export default { executor: { land: 'auto' } };\n" });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  // One step: the agent writes a file and calls goal_done in the same answer (no check configured).
  server.script({
    toolCalls: [
      { name: 'write_file', arguments: { path: 'hello.txt', content: 'hello\n' } },
      { name: 'goal_done', arguments: { summary: 'wrote hello.txt' } },
    ],
  });
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: 'fake-model' };
  const { daemon, connect } = await startTestDaemon(t, repo, { worktreesRoot, env, pipeline: { paused: false } });
  const client = await connect();
  const warnings: EventEnvelope[] = [];
  client.on('event', (event) => {
    if (event.type === 'goal.warning') warnings.push(event);
  });

  const { goal } = await client.request('goal.create', { title: 'Say hello', queue: true });
  const landed = await waitFor(() => daemon.store.get(goal.id)?.landed, { timeoutMs: 20_000, message: 'the goal to be landed' });

  assert.equal(landed.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${goal.id}: Say hello`);
  assert.equal(await readFile(path.join(repo, 'hello.txt'), 'utf8'), 'hello\n');
  assert.deepEqual(warnings, []);
});
