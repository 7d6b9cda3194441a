/** The pipeline in a real daemon, driven by a real client: pipeline.pause/resume, the snapshot, goal.pause of a running goal. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { pause, waitFor } from '../helpers/wait.ts';
import { gate, reply, UNPRICED_MODEL } from './executor-helpers.ts';
import { recordEvents } from '../helpers/events.ts';

test('pipeline.pause and pipeline.resume through the daemon; a client pauses a running goal', async (t) => {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: 'paused',
  };
  // `pipeline: {}`: not the test helper's paused default, so RALPH_PIPELINE decides.
  const { connect } = await startTestDaemon(t, repo, { env, worktreesRoot, configWatch: false, pipeline: {} });

  const client = await connect('pipeline-test');
  const events = recordEvents(client);
  assert.deepEqual(client.snapshot?.pipeline, { paused: true, running: [] }, 'RALPH_PIPELINE=paused: the daemon starts paused');

  const { goal } = await client.request('goal.create', { title: 'Say hello', queue: true });
  await pause(300);
  assert.equal((await client.request('goal.get', { id: goal.id })).goal.state, 'queued', 'a paused pipeline starts nothing');

  const held = gate();
  t.after(() => held.open());
  let asked = false;
  server.script(async () => {
    asked = true;
    await held.promise;
    return reply.text('too late');
  });
  assert.deepEqual(await client.request('pipeline.resume', {}), { paused: false });
  await waitFor(() => asked, { message: 'the goal to call the model' });
  const resumed = events.find((event) => event.type === 'pipeline.changed' && !event.data.paused);
  assert.ok(resumed?.cause, 'pipeline.changed names the request that caused it');
  await waitFor(() => events.some((event) => event.type === 'pipeline.changed' && event.data.running.includes(goal.id)), {
    message: 'pipeline.changed listing the running goal',
  });

  // A client pauses the goal itself: the run stops at once, the goal is paused, the pipeline runs nothing.
  assert.equal((await client.request('goal.pause', { id: goal.id })).goal.state, 'paused');
  await waitFor(() => server.modelRequests().some((request) => request.aborted), { message: 'the model request to be aborted' });
  await waitFor(() => events.some((event) => event.type === 'pipeline.changed' && event.data.running.length === 0), {
    message: 'the run to end',
  });
  assert.deepEqual(await client.request('pipeline.pause', {}), { paused: true });
  assert.deepEqual((await client.request('daemon.status', {})).goals.paused, 1);

  // Queued again and resumed, it finishes.
  server.script(reply.done('Said hello.'));
  await client.request('goal.queue', { id: goal.id });
  await client.request('pipeline.resume', {});
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'done', {
    timeoutMs: 10_000,
    message: 'the goal to be done',
  });
});
