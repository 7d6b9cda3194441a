import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { git as gitSync, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { status } from '../git/git.ts';
import { GoalWorkspace, defaultWorktreesRoot } from './workspace.ts';

async function openWorkspace(t: TestContext, files: Record<string, string> = {}, goalId = 3) {
  const repo = await makeTempRepo(t, files);
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId, worktreesRoot });
  return { repo, worktreesRoot, workspace };
}

function commitCount(cwd: string, range: string): number {
  return Number(gitSync(cwd, 'rev-list', '--count', range));
}

test('open creates the worktree outside the repository, on ralph/goal-<id> from HEAD, leaving the repository as it was', async (t) => {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n' });
  await writeFile(path.join(repo, 'a.txt'), 'developer edit\n');
  const statusBefore = gitSync(repo, 'status', '--porcelain=v1', '--untracked-files=all');
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');

  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot });

  assert.ok(workspace.path.startsWith(worktreesRoot + path.sep), workspace.path);
  assert.ok(!workspace.path.startsWith(repo + path.sep));
  assert.equal(path.basename(workspace.path), 'goal-3');
  assert.match(path.basename(path.dirname(workspace.path)), new RegExp(`^${path.basename(repo)}-[0-9a-f]{8}$`));
  assert.equal(gitSync(workspace.path, 'symbolic-ref', '--short', 'HEAD'), 'ralph/goal-3');
  assert.equal(gitSync(workspace.path, 'rev-parse', 'HEAD'), gitSync(repo, 'rev-parse', 'HEAD'));
  assert.equal(await readFile(path.join(workspace.path, 'a.txt'), 'utf8'), 'a\n', 'the committed file, not the edit');
  assert.equal(await workspace.baseCommit(), gitSync(repo, 'rev-parse', 'HEAD'));
  assert.equal(gitSync(repo, 'status', '--porcelain=v1', '--untracked-files=all'), statusBefore);
  assert.equal(gitSync(repo, 'symbolic-ref', '--short', 'HEAD'), 'main');
});

test('reopening reuses the workspace: its commits and uncommitted files are kept', async (t) => {
  const { repo, worktreesRoot, workspace } = await openWorkspace(t);
  await writeFile(path.join(workspace.path, 'done.txt'), 'iteration 1\n');
  const sha = await workspace.commitIteration({ iteration: 1, summary: 'first step' });
  await writeFile(path.join(workspace.path, 'wip.txt'), 'half done\n');

  const reopened = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot });

  assert.equal(reopened.path, workspace.path);
  assert.equal(await reopened.head(), sha);
  assert.equal(await readFile(path.join(reopened.path, 'wip.txt'), 'utf8'), 'half done\n');
});

test('a workspace whose folder vanished is made again on its branch, commits kept', async (t) => {
  const { repo, worktreesRoot, workspace } = await openWorkspace(t);
  await writeFile(path.join(workspace.path, 'done.txt'), 'kept\n');
  const sha = await workspace.commitIteration({ iteration: 1, summary: 'first step' });
  await rm(workspace.path, { recursive: true, force: true });

  const repaired = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot });

  assert.equal(repaired.path, workspace.path);
  assert.equal(gitSync(repaired.path, 'symbolic-ref', '--short', 'HEAD'), 'ralph/goal-3');
  assert.equal(await repaired.head(), sha);
  assert.equal(await readFile(path.join(repaired.path, 'done.txt'), 'utf8'), 'kept\n');
  assert.equal(
    gitSync(repo, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((line) => line.startsWith('worktree ')).length,
    2,
  );
});

test('a worktree whose creation was cut short is checked out again', async (t) => {
  const { repo, worktreesRoot, workspace } = await openWorkspace(t, { 'a.txt': 'a\n' });
  // What `git worktree add` leaves when killed mid-checkout: the lock and a partial checkout.
  const gitDir = gitSync(workspace.path, 'rev-parse', '--absolute-git-dir');
  await writeFile(path.join(gitDir, 'locked'), 'initializing');
  await rm(path.join(workspace.path, 'a.txt'));

  const repaired = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot });

  assert.equal(await readFile(path.join(repaired.path, 'a.txt'), 'utf8'), 'a\n');
  assert.deepEqual(await repaired.uncommittedFiles(), []);
});

test('open refuses a repository without any commit', async (t) => {
  const repo = await makeTempDir(t, 'ralph-repo-');
  gitSync(repo, 'init', '-q', '-b', 'main');
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  await assert.rejects(GoalWorkspace.open({ repoRoot: repo, goalId: 1, worktreesRoot }), /has no commit yet/);
});

test('open refuses when the goal branch is checked out in the developer tree', async (t) => {
  const repo = await makeTempRepo(t);
  gitSync(repo, 'checkout', '-q', '-b', 'ralph/goal-4');
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  await assert.rejects(GoalWorkspace.open({ repoRoot: repo, goalId: 4, worktreesRoot }), /checked out in .*own worktree/);
});

test('the default worktrees root follows XDG_STATE_HOME, ignoring a relative value', () => {
  assert.equal(defaultWorktreesRoot({ XDG_STATE_HOME: '/srv/state' }), path.join('/srv/state', 'ralph', 'worktrees'));
  const fallback = path.join(os.homedir(), '.local', 'state', 'ralph', 'worktrees');
  assert.equal(defaultWorktreesRoot({ XDG_STATE_HOME: 'relative/state' }), fallback);
  assert.equal(defaultWorktreesRoot({}), fallback);
});

test('commitIteration commits every change with the iteration trailer; the developer repository is untouched', async (t) => {
  const { repo, workspace } = await openWorkspace(t, { 'a.txt': 'one\ntwo\n' });
  await writeFile(path.join(workspace.path, 'a.txt'), 'one\nTWO\nthree\n');
  await mkdir(path.join(workspace.path, 'src'));
  await writeFile(path.join(workspace.path, 'src', 'b.ts'), 'export {};\n');

  const sha = await workspace.commitIteration({ iteration: 1, summary: 'Add b and fix a\n# keeps lines like this\n' });

  assert.ok(sha);
  assert.equal(gitSync(workspace.path, 'rev-parse', 'HEAD'), sha);
  assert.equal(gitSync(workspace.path, 'log', '-1', '--format=%s'), 'Ralph iteration 1 of goal #3: Add b and fix a');
  assert.equal(gitSync(workspace.path, 'log', '-1', '--format=%(trailers:key=Ralph-Iteration,valueonly)'), '3/1');
  assert.match(gitSync(workspace.path, 'log', '-1', '--format=%b'), /^# keeps lines like this$/m);
  assert.deepEqual(await workspace.uncommittedFiles(), []);
  assert.deepEqual(await workspace.diffStat(), [
    { path: 'a.txt', added: 2, deleted: 1 },
    { path: 'src/b.ts', added: 1, deleted: 0 },
  ]);
  assert.equal(await workspace.lastCommittedIteration(), 1);
  assert.equal(gitSync(repo, 'status', '--porcelain=v1', '--untracked-files=all'), '');
  assert.equal(commitCount(repo, 'main'), 1);
});

test('commitIterationFiles names the files the commit changed and its sha, as git says them after it', async (t) => {
  const { workspace } = await openWorkspace(t, { 'a.txt': 'one\n', 'old.txt': 'gone\n' });
  await writeFile(path.join(workspace.path, 'a.txt'), 'ONE\n');
  await rm(path.join(workspace.path, 'old.txt'));
  await mkdir(path.join(workspace.path, 'src'));
  await writeFile(path.join(workspace.path, 'src', 'new file.ts'), 'export {};\n');

  const made = await workspace.commitIterationFiles({ iteration: 1, summary: 'edit, delete, add' });

  assert.ok(made);
  assert.equal(made.sha, gitSync(workspace.path, 'rev-parse', 'HEAD'));
  assert.deepEqual(
    made.files,
    (await workspace.diffStat()).map((file) => file.path),
  );
  assert.deepEqual(made.files, ['a.txt', 'old.txt', 'src/new file.ts']);
  // Told the worktree has no change, it stages nothing and commits nothing.
  assert.equal(await workspace.commitIterationFiles({ iteration: 2, summary: 'nothing', changes: [] }), null);
  // The same iteration again (a crash after its commit): folded into its commit, whose files git is asked for.
  await writeFile(path.join(workspace.path, 'a.txt'), 'ONE more\n');
  const again = await workspace.commitIterationFiles({ iteration: 1, summary: 'edit, delete, add' });
  assert.deepEqual(again, { sha: gitSync(workspace.path, 'rev-parse', 'HEAD'), files: null });
});

test('commitIterationFiles told the worktree status names what git stages, and asks git where the status cannot tell', async (t) => {
  const { workspace } = await openWorkspace(t, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
  const names = async () => (await workspace.diffStat()).map((file) => file.path);
  // One side only: modified, deleted, new, staged by the agent.
  await writeFile(path.join(workspace.path, 'b.txt'), 'B\n');
  await rm(path.join(workspace.path, 'c.txt'));
  await writeFile(path.join(workspace.path, 'é new.txt'), 'new\n');
  await writeFile(path.join(workspace.path, 'Z.txt'), 'staged\n');
  gitSync(workspace.path, 'add', 'Z.txt');
  let made = await workspace.commitIterationFiles({ iteration: 1, summary: 'one', changes: await status(workspace.path) });
  assert.deepEqual(made?.files, await names());
  assert.deepEqual(made?.files, ['Z.txt', 'b.txt', 'c.txt', 'é new.txt']);

  // Staged, then put back as it was (both sides changed: staging undoes it), beside a plain change.
  await writeFile(path.join(workspace.path, 'a.txt'), 'A\n');
  gitSync(workspace.path, 'add', 'a.txt');
  await writeFile(path.join(workspace.path, 'a.txt'), 'a\n');
  await writeFile(path.join(workspace.path, 'b.txt'), 'B again\n');
  made = await workspace.commitIterationFiles({ iteration: 2, summary: 'two', changes: await status(workspace.path) });
  assert.deepEqual(made?.files, ['b.txt']);
  assert.deepEqual(made?.files, await names());

  // A change the status saw that staging finds none of (line endings, a filter): no commit, no failure.
  const head = await workspace.head();
  assert.equal(
    await workspace.commitIterationFiles({ iteration: 3, summary: 'three', changes: [{ index: ' ', worktree: 'M', path: 'a.txt' }] }),
    null,
  );
  assert.equal(await workspace.head(), head);
});

test('readHead reads HEAD from the worktree files as git resolves it: loose ref, packed ref, detached', async (t) => {
  const { workspace } = await openWorkspace(t);
  assert.equal(await workspace.readHead(), await workspace.head());
  await writeFile(path.join(workspace.path, 'b.txt'), 'b\n');
  await workspace.commitIteration({ iteration: 1, summary: 'b' });
  gitSync(workspace.path, 'pack-refs', '--all');
  assert.equal(await workspace.readHead(), gitSync(workspace.path, 'rev-parse', 'HEAD'));
  await writeFile(path.join(workspace.path, 'c.txt'), 'c\n');
  await workspace.commitIteration({ iteration: 2, summary: 'c' });
  assert.equal(await workspace.readHead(), gitSync(workspace.path, 'rev-parse', 'HEAD'));
  gitSync(workspace.path, 'checkout', '-q', '--detach', 'HEAD^');
  assert.equal(await workspace.readHead(), gitSync(workspace.path, 'rev-parse', 'HEAD'));
});

test('commitIteration returns null when the iteration changed nothing', async (t) => {
  const { workspace } = await openWorkspace(t);
  const before = await workspace.head();
  assert.equal(await workspace.commitIteration({ iteration: 1, summary: 'looked around' }), null);
  assert.equal(await workspace.head(), before);
  assert.deepEqual(await workspace.diffStat(), []);
  assert.equal(await workspace.lastCommittedIteration(), null);
});

test('commitIteration never commits an iteration twice after a crash', async (t) => {
  const { repo, worktreesRoot, workspace } = await openWorkspace(t);
  const base = await workspace.baseCommit();
  await writeFile(path.join(workspace.path, 'one.txt'), '1\n');
  assert.ok(await workspace.commitIteration({ iteration: 1, summary: 'one' }));
  await writeFile(path.join(workspace.path, 'two.txt'), '2\n');
  const committed = await workspace.commitIteration({ iteration: 2, summary: 'two' });

  // The daemon died before recording iteration 2; the restarted one opens the workspace and commits again.
  const restarted = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot });
  assert.equal(await restarted.commitIteration({ iteration: 2, summary: 'two' }), committed);
  assert.equal(commitCount(repo, `${base}..ralph/goal-3`), 2);

  // Iteration 2 run again after the crash changed more: folded into the same commit, not a second one.
  await writeFile(path.join(restarted.path, 'two-more.txt'), '2+\n');
  const amended = await restarted.commitIteration({ iteration: 2, summary: 'two again' });
  assert.notEqual(amended, committed);
  assert.equal(commitCount(repo, `${base}..ralph/goal-3`), 2);
  assert.equal(gitSync(restarted.path, 'log', '-1', '--format=%(trailers:key=Ralph-Iteration,valueonly)'), '3/2');
  assert.deepEqual(
    (await restarted.diffStat()).map((file) => file.path),
    ['two-more.txt', 'two.txt'],
  );
  assert.equal(await restarted.lastCommittedIteration(), 2);
});

test('harness commits work on a machine without a git identity, and use the developer identity when there is one', async (t) => {
  const { repo, worktreesRoot } = await openWorkspace(t);
  const home = await makeTempDir(t, 'ralph-home-');
  const noIdentity = {
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_GLOBAL: path.join(home, 'none'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: undefined,
    GIT_AUTHOR_EMAIL: undefined,
    GIT_COMMITTER_NAME: undefined,
    GIT_COMMITTER_EMAIL: undefined,
    EMAIL: undefined,
  };
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot, env: noIdentity });
  await writeFile(path.join(workspace.path, 'x.txt'), 'x\n');
  await workspace.commitIteration({ iteration: 1, summary: 'x' });
  assert.equal(gitSync(workspace.path, 'log', '-1', '--format=%an <%ae> / %cn <%ce>'), 'Ralph <ralph@localhost> / Ralph <ralph@localhost>');

  gitSync(repo, 'config', 'user.name', 'Dee Veloper');
  gitSync(repo, 'config', 'user.email', 'dee@example.com');
  await writeFile(path.join(workspace.path, 'y.txt'), 'y\n');
  await workspace.commitIteration({ iteration: 2, summary: 'y' });
  assert.equal(gitSync(workspace.path, 'log', '-1', '--format=%an <%ae>'), 'Dee Veloper <dee@example.com>');
});

test('a commit prepared while the agent works asks git again for what changed meanwhile: the config, HEAD', async (t) => {
  const { repo, worktreesRoot } = await openWorkspace(t);
  const home = await makeTempDir(t, 'ralph-home-');
  const noIdentity = {
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_GLOBAL: path.join(home, 'none'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: undefined,
    GIT_AUTHOR_EMAIL: undefined,
    GIT_COMMITTER_NAME: undefined,
    GIT_COMMITTER_EMAIL: undefined,
    EMAIL: undefined,
  };
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot, env: noIdentity });
  const author = () => gitSync(workspace.path, 'log', '-1', '--format=%an <%ae>');

  // Nothing changed while the agent worked: the prepared answers make the commit.
  let head = await workspace.readHead();
  let prepared = workspace.prepareCommit(head);
  await writeFile(path.join(workspace.path, 'x.txt'), 'x\n');
  const first = await workspace.commitIterationFiles({ iteration: 1, summary: 'x', headBefore: head, prepared });
  assert.equal(first?.sha, gitSync(workspace.path, 'rev-parse', 'HEAD'));
  assert.equal(author(), 'Ralph <ralph@localhost>');

  // The developer's identity configured meanwhile: the commit is theirs.
  head = await workspace.readHead();
  prepared = workspace.prepareCommit(head);
  await prepared.identity;
  gitSync(repo, 'config', 'user.name', 'Dee Veloper');
  gitSync(repo, 'config', 'user.email', 'dee@example.com');
  await writeFile(path.join(workspace.path, 'y.txt'), 'y\n');
  await workspace.commitIterationFiles({ iteration: 2, summary: 'y', headBefore: head, prepared });
  assert.equal(author(), 'Dee Veloper <dee@example.com>');

  // Iteration 2 run again after a crash, HEAD its commit, and the agent commits itself meanwhile:
  // its commit is not taken for iteration 2's (no amend), iteration 2 gets its own on top.
  head = await workspace.readHead();
  prepared = workspace.prepareCommit(head);
  await prepared.headIteration;
  await writeFile(path.join(workspace.path, 'z.txt'), 'z\n');
  gitSync(workspace.path, 'add', 'z.txt');
  gitSync(workspace.path, 'commit', '-q', '-m', 'the agent commits');
  await workspace.commitIterationFiles({ iteration: 2, summary: 'y again', headBefore: head, prepared });
  assert.equal(
    gitSync(workspace.path, 'log', '-3', '--format=%s'),
    ['Ralph iteration 2 of goal #3: y again', 'the agent commits', 'Ralph iteration 2 of goal #3: y'].join('\n'),
  );
});

test('changedFiles lists what the goal changed since its base, committed or in progress', async (t) => {
  const { repo, workspace } = await openWorkspace(t, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
  await writeFile(path.join(workspace.path, 'a.txt'), 'A\n');
  await workspace.commitIteration({ iteration: 1, summary: 'a' });
  await writeFile(path.join(workspace.path, 'b.txt'), 'B\n');
  await writeFile(path.join(workspace.path, 'new.txt'), 'new\n');
  // The developer's own commits since are not the goal's changes.
  await writeFile(path.join(repo, 'dev.txt'), 'dev\n');
  gitSync(repo, 'add', 'dev.txt');
  gitSync(repo, 'commit', '-q', '-m', 'developer work');

  assert.deepEqual(await workspace.changedFiles(), ['a.txt', 'b.txt', 'new.txt']);
});

test('remove deletes the worktree, and its branch on request', async (t) => {
  const { repo, workspace } = await openWorkspace(t);
  await workspace.remove();
  assert.equal(existsSync(workspace.path), false);
  assert.equal(existsSync(path.dirname(workspace.path)), false, 'the emptied repository folder goes too');
  assert.equal(gitSync(repo, 'branch', '--list', '--format=%(refname:short)', 'ralph/goal-3'), 'ralph/goal-3');

  const again = await GoalWorkspace.open({ repoRoot: repo, goalId: 3, worktreesRoot: path.dirname(path.dirname(workspace.path)) });
  await again.remove({ deleteBranch: true });
  assert.equal(gitSync(repo, 'branch', '--list', '--format=%(refname:short)', 'ralph/goal-3'), '');
  assert.equal(
    gitSync(repo, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((line) => line.startsWith('worktree ')).length,
    1,
  );
});

test('remove refuses to throw away uncommitted work unless forced', async (t) => {
  const { workspace } = await openWorkspace(t);
  await writeFile(path.join(workspace.path, 'wip.txt'), 'not committed\n');
  await assert.rejects(workspace.remove(), /uncommitted changes to wip\.txt/);
  assert.equal(existsSync(path.join(workspace.path, 'wip.txt')), true);
  await workspace.remove({ force: true });
  assert.equal(existsSync(workspace.path), false);
});
