/**
 * The worktree side of a conflict resolution on a real repository and worktree: the set-up (the
 * target's head with the goal's change and its markers on top, uncommitted), done again when a stop
 * cut it short, never twice over work; the prompt's section; the markers found; the branch put back.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { git, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { conflictContext, markersLeft, restoreBranch, setUpResolution } from './conflict-resolution.ts';
import { GoalWorkspace } from './workspace.ts';

const BASE = 'one\ntwo\nthree\n';

test('set up with the conflict, again after a cut-short set-up, never over work; described; put back', async (t) => {
  const repo = await makeTempRepo(t, { 'shared.txt': BASE });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 1, worktreesRoot });
  await writeFile(path.join(workspace.path, 'shared.txt'), 'one by the goal\ntwo\nthree\n');
  await writeFile(path.join(workspace.path, 'new.txt'), 'added by the goal\n');
  await workspace.commitIteration({ iteration: 1, summary: 'goal work' });
  const goalHead = await workspace.head();
  await writeFile(path.join(repo, 'shared.txt'), 'one by the developer\ntwo\nthree\n');
  git(repo, 'commit', '-qam', 'Developer signs line one');
  const targetHead = git(repo, 'rev-parse', 'HEAD');
  const resolving = { files: ['shared.txt'], branch: 'main', targetHead, goalHead };

  assert.deepEqual(await setUpResolution(workspace, resolving, true), ['shared.txt']);
  assert.equal(await workspace.head(), targetHead);
  const text = await readFile(path.join(workspace.path, 'shared.txt'), 'utf8');
  assert.match(text, /^<<<<<<< .*\none by the developer\n=======\none by the goal\n>>>>>>> /m);
  assert.equal(await readFile(path.join(workspace.path, 'new.txt'), 'utf8'), 'added by the goal\n');
  assert.deepEqual(await markersLeft(workspace, resolving.files), ['shared.txt']);
  assert.deepEqual((await workspace.uncommittedFiles()).sort(), ['new.txt', 'shared.txt'], 'all of it uncommitted, nothing staged half');

  // Set up already (work in the worktree): left alone.
  assert.equal(await setUpResolution(workspace, resolving, true), null);
  // A set-up a stop cut short before the merge: done again while no iteration ran, never after one.
  git(workspace.path, 'reset', '--quiet', '--hard', targetHead);
  git(workspace.path, 'clean', '-fdq');
  assert.equal(await setUpResolution(workspace, resolving, false), null);
  assert.deepEqual(await setUpResolution(workspace, resolving, true), ['shared.txt']);

  const context = await conflictContext(workspace, resolving);
  assert.match(context, /^- shared\.txt$/m);
  assert.match(context, /Developer signs line one/);
  assert.match(context, /\+one by the developer/);
  assert.match(context, /\+one by the goal/);

  await writeFile(path.join(workspace.path, 'shared.txt'), 'one by both\ntwo\nthree\n');
  assert.deepEqual(await markersLeft(workspace, resolving.files), []);
  await restoreBranch(workspace, resolving);
  assert.equal(await workspace.head(), goalHead);
  assert.deepEqual(await workspace.uncommittedFiles(), []);
  assert.equal(await readFile(path.join(workspace.path, 'shared.txt'), 'utf8'), 'one by the goal\ntwo\nthree\n');
});
