/**
 * Stopping running goals through the store, as any client (or a hand edit) does: cancel kills the
 * running command's whole process group and aborts the model request; pause keeps the worktree and
 * the goal continues where it was when queued again; pausing the whole pipeline lets the iteration
 * in progress finish, then holds.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { defaultConfig } from '../../daemon/config/schema.ts';
import { SHUTDOWN_NOTE } from '../../daemon/pipeline/goal-run.ts';
import { isGroupAlive } from '../../daemon/tools/process-group.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, iterationsOf, reply, startExecutor } from './executor-helpers.ts';
import { defer } from '../helpers/defer.ts';

/** A running goal whose model request is held open until the test ends. */
async function goalWaitingOnTheModel(t: TestContext) {
  const h = await startExecutor(t);
  const held = gate();
  defer(t, () => held.open());
  let asked = false;
  h.server.script(async () => {
    asked = true;
    await held.promise;
    return reply.text('too late');
  });
  const created = await h.addGoal();
  await waitFor(() => asked, { message: 'the model request' });
  return { h, created };
}

test('cancel during run_command {sleep 100}: the process group is gone within 2 s and the goal is cancelled', async (t) => {
  // The plain process-group runner: the sandbox's own /tmp and PID namespace would hide the pgid file
  // (its kill on cancel is tested in daemon/tools/sandbox.test.ts).
  const h = await startExecutor(t, { executor: { commands: { ...defaultConfig().executor.commands, sandbox: 'off' } } });
  const scratch = await makeTempDir(t, 'ralph-pgid-');
  const pgidFile = path.join(scratch, 'pgid');
  // `$$` is the command's shell: the leader of its process group.
  h.server.script(reply.run(`echo $$ > ${pgidFile}; sleep 100 & sleep 100`));
  const created = await h.addGoal();
  const pgid = await waitFor(async () => Number((await readFile(pgidFile, 'utf8')).trim()), { message: 'the command to start' });
  await waitFor(() => isGroupAlive(pgid), { message: 'the sleeps to run' });

  const cancelledAt = performance.now();
  await h.store.transition(created.id, 'cancel', { note: 'changed my mind' });
  await waitFor(() => !isGroupAlive(pgid), { timeoutMs: 5000, intervalMs: 10, message: 'the process group to be gone' });
  const tookMs = performance.now() - cancelledAt;
  assert.ok(tookMs <= 2000, `the process group was gone ${Math.round(tookMs)} ms after the cancel`);

  await h.pipeline.idle();
  const goal = h.store.get(created.id)!;
  assert.equal(goal.state, 'cancelled');
  assert.equal(iterationsOf(goal).length, 0, 'a cancelled iteration is not recorded');
  const decisions = (await h.logOf(created.id)).filter((entry) => entry.kind === 'decision').map((entry) => entry.text);
  assert.ok(decisions.includes('stopped: the goal was cancelled'));
  assert.deepEqual(h.pipeline.state().running, []);
});

test('cancel aborts the model request in flight', async (t) => {
  const { h, created } = await goalWaitingOnTheModel(t);
  await h.store.transition(created.id, 'cancel');
  const request = await waitFor(() => h.server.modelRequests().find((record) => record.aborted), {
    timeoutMs: 2000,
    message: 'the request to be aborted',
  });
  assert.equal(request.aborted, true);
  await h.pipeline.idle();
  assert.equal(h.store.get(created.id)?.state, 'cancelled');
});

test('pause stops a goal mid-iteration and keeps its worktree; queued again, it continues with the same iteration number', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'test -f a.txt && test -f b.txt' } });
  const held = gate();
  defer(t, () => held.open());
  let asked = false;
  h.server.script(reply.write('a.txt', 'a'), async () => {
    asked = true;
    await held.promise;
    return reply.text('too late');
  });
  const created = await h.addGoal();
  await waitFor(() => asked, { message: 'the second model call of the iteration' });
  await h.store.transition(created.id, 'pause');
  await h.pipeline.idle();

  const paused = h.store.get(created.id)!;
  assert.equal(paused.state, 'paused');
  assert.equal(iterationsOf(paused).length, 0, 'the interrupted iteration is not recorded');
  const workspace = await h.workspace(created.id);
  assert.equal(await readFile(path.join(workspace.path, 'a.txt'), 'utf8'), 'a', 'its work so far is kept in the worktree');
  assert.equal(git(h.repoRoot, 'rev-list', '--count', 'main..ralph/goal-1'), '0', 'and not committed yet');

  h.server.script(reply.write('b.txt', 'b'), reply.done('Wrote a.txt and b.txt.'));
  await h.store.transition(created.id, 'queue');
  const goal = await h.waitForState(created.id, ['done', 'stuck']);
  assert.equal(goal.state, 'done');
  assert.equal(goal.attempts.length, 1, 'the same attempt continued');
  assert.deepEqual(
    iterationsOf(goal).map((iteration) => iteration.number),
    [1],
  );
  assert.equal(git(h.repoRoot, 'show', '--name-only', '--format=', 'ralph/goal-1'), 'a.txt\nb.txt', 'one commit with both files');
});

test('pausing the pipeline lets the running iteration finish, then holds; nothing new starts until it resumes', async (t) => {
  const h = await startExecutor(t, { executor: { verify: 'test -f b.txt' } });
  const held = gate();
  defer(t, () => held.open());
  let asked = false;
  h.server.script(async () => {
    asked = true;
    await held.promise;
    return reply.write('a.txt', 'a');
  }, reply.text('Wrote a.txt; b.txt next.'));
  const first = await h.addGoal('First');
  await waitFor(() => asked, { message: 'the first iteration to call the model' });
  assert.deepEqual(h.pipeline.pause(), { paused: true, running: [first.id] });
  const second = await h.addGoal('Second');
  held.open();

  // The iteration in progress is committed and checked; then the goal waits, still running.
  await waitFor(() => iterationsOf(h.store.get(first.id)!).length === 1, { message: 'the first iteration to be recorded' });
  await waitFor(async () => (await h.logOf(first.id)).some((entry) => /the pipeline is paused/.test(entry.text)), {
    message: 'the goal to wait',
  });
  assert.equal(h.store.get(first.id)?.state, 'running');
  assert.equal(h.store.get(second.id)?.state, 'queued', 'nothing new starts while paused');
  const requestsWhilePaused = h.server.modelRequests().length;

  h.server.script(reply.write('b.txt', 'b'), reply.done('Both files written.'));
  h.server.setScenario((request) => (request.pendingToolResults.length > 0 ? reply.done('Second goal done.') : reply.write('b.txt', 'b')));
  assert.deepEqual(h.pipeline.resume(), { paused: false, running: [first.id] });
  assert.equal((await h.waitForState(first.id, ['done', 'stuck'])).state, 'done');
  assert.equal((await h.waitForState(second.id, ['done', 'stuck'])).state, 'done');
  assert.ok(h.server.modelRequests().length > requestsWhilePaused);

  const changes = h.events.flatMap((event) => (event.type === 'pipeline.changed' ? [event.data] : []));
  assert.ok(
    changes.some((change) => change.paused && change.running.includes(first.id)),
    'pipeline.changed when paused',
  );
  assert.ok(
    changes.some((change) => !change.paused && change.running.includes(first.id)),
    'and when resumed',
  );
});

test('closing the pipeline (the daemon stopping) stops a running goal and puts it back in the queue for the next daemon', async (t) => {
  const { h, created } = await goalWaitingOnTheModel(t);
  await h.pipeline.close();
  const goal = h.store.get(created.id)!;
  assert.equal(goal.state, 'queued');
  assert.equal(goal.history.at(-1)?.note, SHUTDOWN_NOTE);
  assert.equal(goal.attempts[0]?.endedAt, undefined, 'the attempt stays open: the next daemon continues it');
  assert.ok(h.server.modelRequests().some((request) => request.aborted));
});
