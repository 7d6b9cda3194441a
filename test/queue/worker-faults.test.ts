/** A queue worker killed mid-iteration, and a remote goal cancelled while its agent's command runs. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connectionOptions, jobIdFor, queueNameFor } from '../../daemon/queue/queue.ts';
import { resumeKey } from '../../daemon/queue/turns.ts';
import { gate, reply } from '../pipeline/executor-helpers.ts';
import { git } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { startQueue } from './queue-helpers.ts';

test('kill -9 a worker mid-iteration: another worker takes the attempt over and finishes it, one commit per iteration', async (t) => {
  const queue = await startQueue(t);
  const held = gate();
  t.after(() => held.open());
  let asked = false;
  queue.server.script(async () => {
    asked = true;
    await held.promise;
    return { text: 'too late' };
  });
  const first = await queue.startWorker('w1');
  const goal = await queue.addGoal('Survive a dead worker');
  await waitFor(() => asked, { timeoutMs: 15_000, message: 'the first worker to call the model' });
  first.signal('SIGKILL');
  await first.done;

  await queue.startWorker('w2');
  await queue.waitForState(goal.id, 'done', 25_000);
  const trailers = git(queue.remote, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `ralph/goal-${goal.id}`)
    .split('\n')
    .filter(Boolean);
  // Iteration 1 wrote the file; iteration 2 changed nothing (no commit).
  assert.deepEqual(trailers, [`${goal.id}/1`], 'the iteration committed once');
  assert.deepEqual(
    queue.store
      .get(goal.id)
      ?.attempts.at(-1)
      ?.iterations?.map((iteration) => iteration.number),
    [1, 2],
  );
  const texts = (await queue.logOf(goal.id)).map((entry) => `${entry.worker ?? ''}: ${entry.text}`);
  const tookOver = texts.indexOf('w2: worker w2 runs attempt 1 (taken over: the worker before stopped answering)');
  assert.ok(texts.indexOf('w1: worker w1 runs attempt 1') >= 0, 'the first worker’s start is in the log');
  assert.ok(tookOver > texts.indexOf('w1: worker w1 runs attempt 1'), 'then the second worker says it runs the attempt');
  // Every client is told who runs it (queue.changed): w1, then w2 once it took over, then no one.
  const workersSeen = () => {
    const named = queue.events.flatMap((event) =>
      event.type === 'queue.changed' ? [event.data.workers.find((entry) => entry.goalId === goal.id)?.worker ?? null] : [],
    );
    const changes = named.filter((worker, i) => i === 0 || worker !== named[i - 1]);
    return changes.slice(changes.findIndex((worker) => worker !== null));
  };
  await waitFor(() => workersSeen().at(-1) === null, { message: 'the attempt’s end to clear its worker' });
  assert.deepEqual(workersSeen(), ['w1', 'w2', null]);
});

test("cancelling a remote goal stops its worker's command at once, and the worker takes the next goal", async (t) => {
  const queue = await startQueue(t, { executor: { commands: { ...defaultCommands(), sandbox: 'off' } } });
  queue.server.script(reply.run('echo $$ > agent.pid; exec sleep 60'));
  await queue.startWorker('w1', ['--allow-sandbox-off']);
  const goal = await queue.addGoal('Run forever');
  const pidFile = await waitFor(() => findFile(path.join(queue.scratch, 'worker-w1'), 'agent.pid'), {
    timeoutMs: 15_000,
    message: "the agent's command to start on the worker",
  });
  const pid = Number((await waitFor(async () => (await readFile(pidFile, 'utf8')).trim())) || 0);
  assert.ok(pid > 0 && alive(pid));

  await queue.store.transition(goal.id, 'cancel');
  // The bound: a cancel reaches the worker's agent within 2 s.
  await waitFor(() => !alive(pid), { timeoutMs: 2000, message: "the agent's command to be killed" });

  const next = await queue.addGoal('Then this one');
  await queue.waitForState(next.id, 'done', 20_000);
  assert.equal(queue.store.get(goal.id)?.state, 'cancelled');
});

function defaultCommands() {
  return { allow: [], deny: [], timeoutSeconds: 300, outputLimitBytes: 65_536, sandbox: 'auto' as const };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function findFile(dir: string, name: string): Promise<string | null> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const found = entries.find((entry) => entry.isFile() && entry.name === name);
  return found ? path.join(found.parentPath, found.name) : null;
}

test('a remote goal paused mid-iteration and queued again runs on, as a new job of the same attempt', async (t) => {
  const queue = await startQueue(t);
  const held = gate();
  t.after(() => held.open());
  let asked = false;
  queue.server.script(async () => {
    asked = true;
    await held.promise;
    return { text: 'too late' };
  });
  await queue.startWorker('w1');
  const goal = await queue.addGoal('Pause me');
  await waitFor(() => asked, { timeoutMs: 15_000, message: 'the worker to call the model' });
  await queue.store.transition(goal.id, 'pause');
  await waitFor(() => queue.server.modelRequests().some((request) => request.aborted), { message: 'the model call aborted on the worker' });
  await waitFor(() => queue.pipeline.state().running.length === 0, { message: 'the run to end' });

  await queue.store.transition(goal.id, 'queue');
  const done = await queue.waitForState(goal.id, 'done', 20_000);
  assert.deepEqual(
    done.attempts.map((attempt) => attempt.iterations?.map((iteration) => iteration.number)),
    [[1, 2]],
  );
  const redis = new Redis(connectionOptions(queue.redis.url));
  t.after(() => redis.disconnect());
  const name = await queueNameFor(queue.repoRoot);
  // The attempt ran as two jobs (before the pause, and after): the counter says which is next; a finished job goes.
  await waitFor(async () => (await redis.get(resumeKey(name, goal.id, 1))) === '2', {
    message: 'the attempt ended twice: r0 before the pause, r1 after',
  });
  await waitFor(
    async () => (await Promise.all([0, 1].map((resume) => redis.exists(`ralph:${name}:${jobIdFor(goal.id, 1, resume)}`)))).join() === '0,0',
    {
      message: 'both finished jobs removed',
    },
  );
});
