/**
 * Conflict warnings with the real repository watcher: the developer edits a file a goal's branch
 * also changes → one goal.warning naming it (and a log line); unrelated files and repeated saves → none.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EventBus } from '../../daemon/events/bus.ts';
import { ConflictWatch, overlappingFiles } from '../../daemon/pipeline/conflict-watch.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import { RepoWatcher } from '../../daemon/watch/repo-watcher.ts';
import type { EventData } from '../../protocol/index.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { driveGoal, writeFiles } from './land-helpers.ts';
import { defer } from '../helpers/defer.ts';

test('a changed folder touches the goal files under it, and only those', () => {
  assert.deepEqual(overlappingFiles(['src/a.ts', 'src/b/c.ts', 'srcx/d.ts', 'e.ts'], ['src/b', 'e.ts']), ['src/b/c.ts', 'e.ts']);
  assert.deepEqual(overlappingFiles(['a.ts'], ['b.ts']), []);
});

test("editing a file a goal's branch changed warns once per path per goal; other files never", async (t) => {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const bus = new EventBus();
  const warnings: EventData<'goal.warning'>[] = [];
  bus.subscribe(({ envelope }) => {
    if (envelope.type === 'goal.warning') warnings.push(envelope.data);
  });
  const store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
  defer(t, () => store.close());
  // Goal 1 runs and has committed a change to a.txt; goal 2 is done and its worktree holds an uncommitted c.txt too.
  const first = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Edit a', files: { 'a.txt': 'goal a\n' }, running: true });
  const second = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Edit d', files: { 'd.txt': 'goal d\n' } });
  await writeFiles(second.workspace.path, { 'c.txt': 'goal c\n' });

  const logs: string[] = [];
  const watch = new ConflictWatch({ repoRoot: repo, store, bus, log: (line) => logs.push(line), worktreesRoot });
  watch.start();
  defer(t, () => watch.close());
  const watcher = await RepoWatcher.start({ repoRoot: repo, debounceMs: 50, onChange: (batch) => bus.publish('repo.changed', batch) });
  defer(t, () => watcher.close());

  await writeFile(path.join(repo, 'b.txt'), 'unrelated edit\n');
  await writeFile(path.join(repo, 'a.txt'), 'my edit\n');
  await waitFor(() => warnings.length > 0, { timeoutMs: 10_000, message: 'a conflict warning' });
  assert.deepEqual(warnings, [
    {
      goalId: first.goal.id,
      kind: 'conflict',
      paths: ['a.txt'],
      message: `you changed a.txt, which goal #${first.goal.id} also changes on ralph/goal-${first.goal.id}: landing it may conflict`,
    },
  ]);
  const { entries } = await store.log.read(first.goal.id);
  assert.ok(
    entries.some((entry) => entry.kind === 'warning' && /a\.txt/.test(entry.text)),
    'logged in the goal log',
  );

  // Saving a.txt again says nothing new; c.txt (in goal 2's iteration in progress) warns goal 2. Goals are
  // checked in id order within a batch, so goal 2's warning means goal 1 was checked too.
  await writeFile(path.join(repo, 'a.txt'), 'my edit, saved again\n');
  await writeFile(path.join(repo, 'b.txt'), 'unrelated again\n');
  await writeFile(path.join(repo, 'c.txt'), 'my c\n');
  await waitFor(() => warnings.length > 1, { timeoutMs: 10_000, message: "goal 2's warning" });
  assert.deepEqual(
    warnings.slice(1).map(({ goalId, paths }) => ({ goalId, paths })),
    [{ goalId: second.goal.id, paths: ['c.txt'] }],
  );
  assert.deepEqual(logs, []);
});
