/** Goals run by `ralph worker` processes through BullMQ on a real Redis, the daemon's pipeline deciding. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { git } from '../helpers/repo.ts';
import { startQueue } from './queue-helpers.ts';

test('three goals queued, two workers: all three done, each branch on the remote, every log line in the daemon in order', async (t) => {
  const queue = await startQueue(t);
  await Promise.all([queue.startWorker('w1'), queue.startWorker('w2')]);
  const goals = [await queue.addGoal('First'), await queue.addGoal('Second'), await queue.addGoal('Third')];
  for (const goal of goals) await queue.waitForState(goal.id, 'done', 25_000);

  const workers = new Set<unknown>();
  for (const goal of goals) {
    // The iteration's commit is on the shared remote and in the daemon's own branch (landing takes it from there).
    assert.equal(git(queue.remote, 'show', `ralph/goal-${goal.id}:goal-${goal.id}.txt`), `goal ${goal.id}`);
    assert.equal(git(queue.repoRoot, 'show', `ralph/goal-${goal.id}:goal-${goal.id}.txt`), `goal ${goal.id}`);
    const done = queue.store.get(goal.id);
    assert.deepEqual(
      done?.attempts.at(-1)?.iterations?.map((iteration) => iteration.number),
      [1, 2],
    );

    const entries = await queue.logOf(goal.id);
    const relayed = entries.filter((entry) => typeof entry.streamId === 'string');
    const ids = relayed.map((entry) => entry.streamId as string);
    assert.equal(new Set(ids).size, ids.length, 'no line twice');
    assert.deepEqual(ids, [...ids].sort(compareStreamIds), 'in the order the worker wrote them');
    assert.ok(
      relayed.some((entry) => entry.kind === 'commit'),
      'the worker’s commit line reached the log',
    );
    assert.ok(relayed.some((entry) => entry.kind === 'tool' && String(entry.text).includes(`goal-${goal.id}.txt`)));
    for (const entry of relayed) workers.add(entry.worker);
  }
  assert.deepEqual([...workers].sort(), ['w1', 'w2'], 'both workers ran goals');
});

function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
