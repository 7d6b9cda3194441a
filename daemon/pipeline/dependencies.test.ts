import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { git, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { placeOnDependencies } from './dependencies.ts';
import { GoalWorkspace } from './workspace.ts';

/** A repository, goal 5's worktree made from its first commit, and then "goal 2's landing": a commit on main writing `file`. */
async function worktreeBeforeLanding(t: TestContext, file = 'a.txt') {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n' });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 5, worktreesRoot });
  const land = async () => {
    await writeFile(path.join(repo, file), 'landed by goal 2\n');
    git(repo, 'commit', '-q', '-am', 'Goal #2: the dependency');
    return git(repo, 'rev-parse', 'HEAD');
  };
  return { repo, workspace, land };
}

async function commitIn(workspace: GoalWorkspace, file: string, content: string): Promise<string> {
  await writeFile(path.join(workspace.path, file), content);
  return workspace.commitIteration({ iteration: 1, summary: `wrote ${file}` }).then((sha) => sha ?? assert.fail('nothing committed'));
}

test('a worktree with no work yet is moved onto the landing; one made after it is on top already', async (t) => {
  const { workspace, land } = await worktreeBeforeLanding(t);
  const before = await workspace.head();
  const landing = await land();
  assert.deepEqual(await placeOnDependencies(workspace, [{ id: 2, commit: landing }]), { kind: 'moved', from: before, to: landing });
  assert.equal(await workspace.head(), landing);
  assert.equal(await readFile(path.join(workspace.path, 'a.txt'), 'utf8'), 'landed by goal 2\n');
  assert.deepEqual(await placeOnDependencies(workspace, [{ id: 2, commit: landing }]), { kind: 'on-top' });
});

test('committed work is rebased onto the landing and kept', async (t) => {
  const { workspace, land } = await worktreeBeforeLanding(t);
  const own = await commitIn(workspace, 'b.txt', 'mine\n');
  const landing = await land();
  const placed = await placeOnDependencies(workspace, [{ id: 2, commit: landing }]);
  assert.deepEqual(placed, { kind: 'rebased', from: own, to: landing });
  assert.equal(git(workspace.path, 'rev-parse', 'HEAD^'), landing);
  assert.equal(git(workspace.path, 'log', '-1', '--format=%s'), 'Ralph iteration 1 of goal #5: wrote b.txt');
  assert.equal(await readFile(path.join(workspace.path, 'b.txt'), 'utf8'), 'mine\n');
});

test('work that conflicts with the landing, or is not committed, is left exactly as it was, saying why', async (t) => {
  const { workspace, land } = await worktreeBeforeLanding(t);
  const own = await commitIn(workspace, 'a.txt', 'my a\n');
  const landing = await land();
  const placed = await placeOnDependencies(workspace, [{ id: 2, commit: landing }]);
  assert.equal(placed.kind, 'kept');
  assert.match(placed.kind === 'kept' ? placed.reason : '', /its work conflicts with #2 in a\.txt; it goes on from where it was/);
  assert.equal(await workspace.head(), own, 'the branch as it was');
  assert.deepEqual(await workspace.uncommittedFiles(), [], 'no rebase left behind');

  await writeFile(path.join(workspace.path, 'c.txt'), 'half done\n');
  const dirty = await placeOnDependencies(workspace, [{ id: 2, commit: landing }]);
  assert.match(dirty.kind === 'kept' ? dirty.reason : '', /uncommitted work \(c\.txt\)/);
  assert.equal(await workspace.head(), own);
});
