/**
 * What a daemon killed in the middle of a landing leaves behind, and the next daemon's landing
 * service finishing the job (the defects the chaos run found): a done goal whose automatic landing
 * never happened, git's index lock and scratch index left by the dead landing, the goal's files
 * written into the developer's tree before the branch moved, and the branch moved before the index
 * was written. Each state is made with real git in a real repository, as the kill leaves it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigService } from '../../daemon/config/config-service.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { LandService } from '../../daemon/pipeline/land-service.ts';
import { landGoal } from '../../daemon/pipeline/landing.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import { defer } from '../helpers/defer.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { prepareDoneGoal, writeFiles } from '../pipeline/land-helpers.ts';

/** No process has this pid (above any pid_max). */
const DEAD_PID = 2_147_483_646;
const GOAL_FILES = { 'b.txt': 'B\n', 'c.txt': 'new\n' };

/** A repository (landing automatic) with one done goal that changes b.txt and adds c.txt, not landed. */
async function doneGoal(t: TestContext) {
  const repo = await makeTempRepo(t, {
    'a.txt': 'a\n',
    'b.txt': 'b\n',
    'ralph.config.ts': "export default { executor: { land: 'auto' } };\n",
  });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const { goal, workspace } = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Change b, add c', files: GOAL_FILES });
  return { repo, worktreesRoot, goal, workspace };
}

/** The next daemon's landing service (with its store and config), started on the repository as it is. */
async function startLanding(t: TestContext, repo: string, worktreesRoot: string) {
  const bus = new EventBus();
  const store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
  defer(t, () => store.close());
  const config = await ConfigService.start({ repoRoot: repo, env: {}, watch: false });
  defer(t, () => config.close());
  const logs: string[] = [];
  const service = new LandService({ repoRoot: repo, store, bus, config, log: (line) => logs.push(line), worktreesRoot });
  service.start();
  defer(t, () => service.close());
  return { store, service, logs };
}

function landingCommits(repo: string, goalId: number): string[] {
  return git(repo, 'log', '--format=%H %s', 'main')
    .split('\n')
    .filter((line) => line.includes(` Goal #${goalId}: `))
    .map((line) => line.split(' ')[0]!);
}

async function waitForLanded(store: GoalStore, id: number, logs: string[]) {
  return waitFor(() => store.get(id)?.landed, { timeoutMs: 15_000, message: `goal #${id} to land (log: ${logs.join(' | ')})` });
}

test('a done goal whose automatic landing the last daemon never made is landed when the service starts', async (t) => {
  const { repo, worktreesRoot, goal } = await doneGoal(t);
  const { store, logs } = await startLanding(t, repo, worktreesRoot);
  const landed = await waitForLanded(store, goal.id, logs);
  assert.deepEqual(landingCommits(repo, goal.id), [landed.commit]);
  assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=no'), '');
});

test("git's index lock and scratch index left by a landing whose process died are cleared; a live git's lock is respected", async (t) => {
  const { repo, worktreesRoot, goal } = await doneGoal(t);
  const gitDir = path.join(repo, '.git');
  // What a landing killed while it held the lock leaves.
  await writeFile(path.join(gitDir, 'index.lock'), `ralph-land pid=${DEAD_PID}\n`);
  await copyFile(path.join(gitDir, 'index'), path.join(gitDir, `index.ralph-land-${DEAD_PID}`));
  await writeFile(path.join(gitDir, `.index.lock.${DEAD_PID}.0a1b2c.tmp`), `ralph-land pid=${DEAD_PID}\n`);

  const { store, logs } = await startLanding(t, repo, worktreesRoot);
  const landed = await waitForLanded(store, goal.id, logs);
  assert.deepEqual(landingCommits(repo, goal.id), [landed.commit]);
  const left = (await readdir(gitDir)).filter((name) => name.includes('lock') || name.includes('ralph-land') || name.endsWith('.tmp'));
  assert.deepEqual(left, []);
  assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=no'), '');
});

test("an index lock that is not a dead landing's (a git command of the developer's) still refuses the landing", async (t) => {
  const { repo, goal, workspace } = await doneGoal(t);
  const lock = path.join(repo, '.git', 'index.lock');
  await writeFile(lock, 'DIRC some index git is writing');
  await assert.rejects(
    landGoal({ repoRoot: repo, goalId: goal.id, title: goal.title, workspace }),
    (error: Error & { reason?: string }) => error.reason === 'index-locked',
  );
  assert.equal(await readFile(lock, 'utf8'), 'DIRC some index git is writing');
});

test("the goal's files written into the developer's tree before the branch moved do not block its landing", async (t) => {
  const { repo, worktreesRoot, goal } = await doneGoal(t);
  // Killed after `checkout-index` wrote the goal's files, before `update-ref`: they look like edits of the developer's.
  await writeFiles(repo, GOAL_FILES);
  assert.notEqual(git(repo, 'status', '--porcelain'), '');

  const { store, logs } = await startLanding(t, repo, worktreesRoot);
  const landed = await waitForLanded(store, goal.id, logs);
  assert.deepEqual(landingCommits(repo, goal.id), [landed.commit]);
  assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=all', '--', 'a.txt', 'b.txt', 'c.txt'), '');
  assert.equal(await readFile(path.join(repo, 'b.txt'), 'utf8'), 'B\n');
});

test("a file of the developer's that differs from the goal's version still refuses the landing", async (t) => {
  const { repo, worktreesRoot, goal } = await doneGoal(t);
  await writeFiles(repo, { 'b.txt': 'my own b\n' });
  const { store, logs } = await startLanding(t, repo, worktreesRoot);
  await waitFor(() => logs.some((line) => /automatic landing refused.*uncommitted changes to b\.txt/.test(line)), {
    timeoutMs: 15_000,
    message: `the refusal (log: ${logs.join(' | ')})`,
  });
  assert.equal(store.get(goal.id)?.landed, undefined);
  assert.equal(await readFile(path.join(repo, 'b.txt'), 'utf8'), 'my own b\n');
});

test('the branch moved but the index not written (killed in between): the landing is recorded once and the index repaired', async (t) => {
  const { repo, worktreesRoot, goal, workspace } = await doneGoal(t);
  const indexFile = path.join(repo, '.git', 'index');
  const indexBefore = path.join(repo, '.git', 'index-before');
  await copyFile(indexFile, indexBefore);
  const result = await landGoal({ repoRoot: repo, goalId: goal.id, title: goal.title, workspace });
  // As if the process died before renaming its new index into place: the old one is still there.
  await copyFile(indexBefore, indexFile);
  await writeFile(path.join(repo, '.git', 'index.lock'), `ralph-land pid=${DEAD_PID}\n`);
  await rm(indexBefore);
  assert.notEqual(git(repo, 'status', '--porcelain', '--untracked-files=no'), '', 'the stale index shows the landing reversed');

  const { store, logs } = await startLanding(t, repo, worktreesRoot);
  const landed = await waitForLanded(store, goal.id, logs);
  assert.equal(landed.commit, result.commit);
  assert.deepEqual(landingCommits(repo, goal.id), [result.commit]);
  assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=no'), '', 'index and tree agree with the landing');
  assert.ok(
    logs.some((line) => /the index still had b\.txt, c\.txt as before its landing/.test(line)),
    logs.join(' | '),
  );
});

test('a landing recorded but not cleaned up (killed in between): the next service removes the worktree and branch', async (t) => {
  const { repo, worktreesRoot, goal, workspace } = await doneGoal(t);
  const result = await landGoal({ repoRoot: repo, goalId: goal.id, title: goal.title, workspace });
  const recorder = await GoalStore.open({ repoRoot: repo, bus: new EventBus(), watch: false });
  await recorder.recordLanding(goal.id, { commit: result.commit, branch: result.branch, at: new Date().toISOString() });
  await recorder.close();
  assert.ok(existsSync(workspace.path));

  const { logs } = await startLanding(t, repo, worktreesRoot);
  await waitFor(() => git(repo, 'branch', '--list', `ralph/goal-${goal.id}`) === '' && !existsSync(workspace.path), {
    timeoutMs: 15_000,
    message: `the branch and worktree to go (log: ${logs.join(' | ')})`,
  });
  assert.equal(git(repo, 'worktree', 'list', '--porcelain').split('\n\n').length, 1, 'only the main worktree is left');
  assert.deepEqual(landingCommits(repo, goal.id), [result.commit]);
});
