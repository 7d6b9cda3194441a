/**
 * Many goals starting at once in one repository: git's worktree bookkeeping is not safe against
 * itself (a `worktree list` dies on an entry another `worktree add` is still writing), so every
 * workspace must still open, and the worktree list stay readable meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { git as gitSync, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { listWorktrees } from '../git/git.ts';
import { GoalWorkspace } from './workspace.ts';

const GOALS = 16;

test('sixteen workspaces opened at once in one repository, the worktree list read meanwhile: every one opens on its own branch', async (t) => {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n' });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const ids = Array.from({ length: GOALS }, (_, index) => index + 1);
  const opening = ids.map((goalId) => GoalWorkspace.open({ repoRoot: repo, goalId, worktreesRoot }));
  // Readers of the list, as the landing watchers do while goals start.
  const listing = ids.map(() => listWorktrees(repo));
  const opened = await Promise.allSettled(opening);
  const listed = await Promise.allSettled(listing);
  const failures = [...opened, ...listed].filter((result) => result.status === 'rejected').map((result) => String(result.reason));
  assert.deepEqual(failures, []);
  const branches = gitSync(repo, 'branch', '--list', 'ralph/goal-*', '--format=%(refname:short)').split('\n').sort();
  assert.deepEqual(branches, ids.map((id) => `ralph/goal-${id}`).sort());
  assert.equal((await listWorktrees(repo)).length, GOALS + 1);
});
