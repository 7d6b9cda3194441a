import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { GIT_ENV, git as gitSync, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { LandingRefusedError, landGoal, uncommittedConflicts, type LandingRefusalReason } from './landing.ts';
import { GoalWorkspace } from './workspace.ts';

const GOAL_ID = 3;
const TITLE = 'Greet in French';

/**
 * A repository on main and goal #3's workspace with one iteration committed: it changes src/a.ts,
 * adds src/new.ts and deletes old.txt.
 */
async function goalReadyToLand(t: TestContext) {
  const repo = await makeTempRepo(t, { 'old.txt': 'old\n', 'notes.txt': 'notes\n' });
  await mkdir(path.join(repo, 'src'));
  await writeFile(path.join(repo, 'src', 'a.ts'), 'export const greeting = "hello";\nexport const n = 1;\n');
  gitSync(repo, 'add', '-A');
  gitSync(repo, 'commit', '-q', '-m', 'add src');
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: GOAL_ID, worktreesRoot });
  await writeFile(path.join(workspace.path, 'src', 'a.ts'), 'export const greeting = "bonjour";\nexport const n = 1;\n');
  await writeFile(path.join(workspace.path, 'src', 'new.ts'), 'export const added = true;\n');
  await rm(path.join(workspace.path, 'old.txt'));
  const goalCommit = await workspace.commitIteration({ iteration: 1, summary: 'greet in French' });
  assert.ok(goalCommit);
  return { repo, workspace, goalCommit };
}

async function commitInRepo(repo: string, file: string, content: string, message: string): Promise<void> {
  await writeFile(path.join(repo, file), content);
  gitSync(repo, 'add', file);
  gitSync(repo, 'commit', '-q', '-m', message);
}

/** `git status --porcelain` lines, untrimmed (the test helper trims away a leading ' M'). */
function statusLines(repo: string): string[] {
  const output = execFileSync('git', ['status', '--porcelain=v1', '--untracked-files=all'], { cwd: repo, encoding: 'utf8' });
  return output.split('\n').filter((line) => line.length > 0);
}

/** Everything landing must not change when it refuses: HEAD, the index, the status and the files' bytes. */
async function developerState(repo: string, files: string[]) {
  return {
    branch: gitSync(repo, 'rev-parse', '--abbrev-ref', 'HEAD'),
    head: gitSync(repo, 'rev-parse', 'HEAD'),
    index: gitSync(repo, 'ls-files', '--stage'),
    status: statusLines(repo),
    files: await Promise.all(files.map((file) => readFile(path.join(repo, file), 'utf8').catch(() => null))),
  };
}

async function assertRefused(promise: Promise<unknown>, reason: LandingRefusalReason, message: RegExp): Promise<LandingRefusedError> {
  let refusal: unknown;
  await assert.rejects(promise, (error) => {
    refusal = error;
    return true;
  });
  assert.ok(refusal instanceof LandingRefusedError, `expected a refusal, got ${String(refusal)}`);
  assert.equal(refusal.reason, reason, refusal.message);
  assert.match(refusal.message, message);
  return refusal;
}

test('landing makes one commit "Goal #<id>: <title>" and leaves the developer\'s unrelated edits byte for byte', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  const headBefore = gitSync(repo, 'rev-parse', 'HEAD');
  // Uncommitted work of the developer's: an unstaged edit, a staged new file and an untracked file.
  const notesEdit = 'notes\nwith a trailing space \r\nand no final newline';
  await writeFile(path.join(repo, 'notes.txt'), notesEdit);
  await writeFile(path.join(repo, 'staged.txt'), 'staged\n');
  gitSync(repo, 'add', 'staged.txt');
  await writeFile(path.join(repo, 'scratch.txt'), 'scratch\n');
  let checkedIn = '';

  const result = await landGoal({
    repoRoot: repo,
    goalId: GOAL_ID,
    title: TITLE,
    workspace,
    check: async (cwd) => {
      checkedIn = cwd;
      return { ok: true, output: 'all good\n' };
    },
  });

  assert.equal(checkedIn, workspace.path);
  assert.equal(result.branch, 'main');
  assert.equal(result.commit, gitSync(repo, 'rev-parse', 'HEAD'));
  assert.deepEqual(result.files, ['old.txt', 'src/a.ts', 'src/new.ts']);
  assert.equal(gitSync(repo, 'log', '-1', '--format=%s'), `Goal #${GOAL_ID}: ${TITLE}`);
  assert.equal(gitSync(repo, 'rev-parse', 'HEAD^'), headBefore, 'one commit on top of the branch head');
  assert.equal(gitSync(repo, 'rev-parse', 'HEAD^{tree}'), gitSync(workspace.path, 'rev-parse', 'HEAD^{tree}'));
  assert.match(gitSync(repo, 'reflog', '-1', '--format=%gs'), /land goal #3/);

  assert.equal(await readFile(path.join(repo, 'src', 'a.ts'), 'utf8'), 'export const greeting = "bonjour";\nexport const n = 1;\n');
  assert.equal(await readFile(path.join(repo, 'src', 'new.ts'), 'utf8'), 'export const added = true;\n');
  assert.equal(existsSync(path.join(repo, 'old.txt')), false);
  assert.equal(await readFile(path.join(repo, 'notes.txt'), 'utf8'), notesEdit);
  assert.equal(await readFile(path.join(repo, 'scratch.txt'), 'utf8'), 'scratch\n');
  // The goal's files are committed and clean; the developer's edits are as uncommitted as before.
  assert.deepEqual(statusLines(repo), [' M notes.txt', 'A  staged.txt', '?? scratch.txt']);
});

test('landing rebases onto the branch when the developer committed meanwhile', async (t) => {
  const { repo, workspace, goalCommit } = await goalReadyToLand(t);
  await commitInRepo(repo, 'dev.txt', 'developer work\n', 'developer commit');
  const developerHead = gitSync(repo, 'rev-parse', 'HEAD');

  const result = await landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace });

  assert.equal(gitSync(repo, 'rev-parse', 'HEAD^'), developerHead);
  assert.deepEqual(result.files, ['old.txt', 'src/a.ts', 'src/new.ts']);
  assert.equal(await readFile(path.join(repo, 'dev.txt'), 'utf8'), 'developer work\n');
  assert.equal(await readFile(path.join(repo, 'src', 'new.ts'), 'utf8'), 'export const added = true;\n');
  // Without a check nothing needed the rebased files: the tree was merged without a checkout, the branch left as it was.
  assert.equal(await workspace.head(), goalCommit);
  assert.deepEqual(statusLines(repo), []);
});

test('with a check, landing rebases the goal branch in its worktree (kept in a backup ref) and checks it there', async (t) => {
  const { repo, workspace, goalCommit } = await goalReadyToLand(t);
  await commitInRepo(repo, 'dev.txt', 'developer work\n', 'developer commit');
  const developerHead = gitSync(repo, 'rev-parse', 'HEAD');
  const checked: string[] = [];

  await landGoal({
    repoRoot: repo,
    goalId: GOAL_ID,
    title: TITLE,
    workspace,
    check: async (cwd) => {
      checked.push(await readFile(path.join(cwd, 'dev.txt'), 'utf8'));
      return { ok: true, output: '' };
    },
  });

  assert.deepEqual(checked, ['developer work\n'], "the check saw the developer's commit under the goal's");
  assert.equal(gitSync(workspace.path, 'rev-parse', 'HEAD^'), developerHead);
  assert.equal(gitSync(repo, 'rev-parse', `refs/ralph/backup/${GOAL_ID}/1`), goalCommit);
});

test('an uncommitted edit to a file the goal changes refuses, names the file and changes nothing', async (t) => {
  const { repo, workspace, goalCommit } = await goalReadyToLand(t);
  await writeFile(path.join(repo, 'src', 'a.ts'), 'export const greeting = "hi";\n');
  await writeFile(path.join(repo, 'notes.txt'), 'unrelated edit\n');
  const watched = ['src/a.ts', 'notes.txt', 'old.txt', 'src/new.ts'];
  const before = await developerState(repo, watched);

  const refusal = await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }),
    'uncommitted-changes',
    /^refusing to land goal #3: you have uncommitted changes to src\/a\.ts$/,
  );

  assert.deepEqual(refusal.files, ['src/a.ts']);
  assert.deepEqual(await developerState(repo, watched), before);
  assert.equal(await workspace.head(), goalCommit);
});

test('staged changes and files in the way of new ones count as uncommitted changes', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  await writeFile(path.join(repo, 'old.txt'), 'staged edit\n');
  gitSync(repo, 'add', 'old.txt');
  await writeFile(path.join(repo, 'src', 'new.ts'), 'the developer had this file too\n');
  const before = await developerState(repo, ['old.txt', 'src/new.ts']);

  const refusal = await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }),
    'uncommitted-changes',
    /uncommitted changes to old\.txt, src\/new\.ts$/,
  );

  assert.deepEqual(refusal.files, ['old.txt', 'src/new.ts']);
  assert.deepEqual(await developerState(repo, ['old.txt', 'src/new.ts']), before);
});

test('uncommittedConflicts: ignored files and files where a new file needs a folder are in the way; clean tracked files are not', async (t) => {
  const repo = await makeTempRepo(t, { '.gitignore': 'build/\n', 'clean.txt': 'clean\n' });
  const head = gitSync(repo, 'rev-parse', 'HEAD');
  await mkdir(path.join(repo, 'build'));
  await writeFile(path.join(repo, 'build', 'out.js'), 'ignored\n');
  await writeFile(path.join(repo, 'lib'), 'a file where the goal wants a folder\n');

  assert.deepEqual(await uncommittedConflicts(repo, head, ['build/out.js', 'clean.txt', 'fresh.txt', 'lib/index.ts']), [
    'build/out.js',
    'lib/index.ts',
  ]);
});

test('a rebase conflict refuses, names the file, and leaves the worktree on its branch as it was', async (t) => {
  const { repo, workspace, goalCommit } = await goalReadyToLand(t);
  await commitInRepo(repo, 'src/a.ts', 'export const greeting = "hola";\nexport const n = 1;\n', 'developer: Spanish');
  const before = await developerState(repo, ['src/a.ts']);

  const refusal = await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }),
    'rebase-conflict',
    /rebasing ralph\/goal-3 onto main conflicts in src\/a\.ts/,
  );

  assert.deepEqual(refusal.files, ['src/a.ts']);
  assert.equal(gitSync(workspace.path, 'symbolic-ref', '--short', 'HEAD'), 'ralph/goal-3');
  assert.equal(await workspace.head(), goalCommit);
  assert.deepEqual(await workspace.uncommittedFiles(), []);
  assert.equal(existsSync(gitSync(workspace.path, 'rev-parse', '--git-path', 'rebase-merge')), false);
  assert.deepEqual(await developerState(repo, ['src/a.ts']), before);
});

test('a failing check refuses, quoting the end of its output', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  const before = await developerState(repo, ['src/a.ts']);
  const output = [...Array.from({ length: 50 }, (_, i) => `line ${i}`), 'FAIL src/a.test.ts: expected bonjour'].join('\n');

  const refusal = await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace, check: async () => ({ ok: false, output }) }),
    'check-failed',
    /the check failed[\s\S]*FAIL src\/a\.test\.ts: expected bonjour$/,
  );

  assert.doesNotMatch(refusal.message, /line 0\n/, 'only the last lines');
  assert.deepEqual(await developerState(repo, ['src/a.ts']), before);
});

test('a detached HEAD refuses', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  gitSync(repo, 'checkout', '-q', '--detach');
  const before = await developerState(repo, ['src/a.ts']);
  await assertRefused(landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }), 'detached-head', /HEAD is detached/);
  assert.deepEqual(await developerState(repo, ['src/a.ts']), before);
});

test('a merge in progress refuses', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  gitSync(repo, 'checkout', '-q', '-b', 'side');
  await commitInRepo(repo, 'notes.txt', 'side\n', 'side');
  gitSync(repo, 'checkout', '-q', 'main');
  await commitInRepo(repo, 'notes.txt', 'main\n', 'main');
  assert.throws(() => execFileSync('git', ['merge', '-q', 'side'], { cwd: repo, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' }));
  const before = await developerState(repo, ['notes.txt']);

  await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }),
    'operation-in-progress',
    /a merge is in progress/,
  );
  assert.deepEqual(await developerState(repo, ['notes.txt']), before);
});

test('a goal without changes has nothing to land; uncommitted work in its workspace refuses', async (t) => {
  const repo = await makeTempRepo(t);
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: GOAL_ID, worktreesRoot });
  await assertRefused(landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }), 'nothing-to-land', /changes nothing/);

  await writeFile(path.join(workspace.path, 'wip.txt'), 'not committed\n');
  await assertRefused(
    landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }),
    'workspace-dirty',
    /uncommitted changes to wip\.txt/,
  );
});

test('a held index lock refuses instead of racing another git command', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  const lockFile = path.join(repo, '.git', 'index.lock');
  await writeFile(lockFile, '');
  const head = gitSync(repo, 'rev-parse', 'HEAD');

  await assertRefused(landGoal({ repoRoot: repo, goalId: GOAL_ID, title: TITLE, workspace }), 'index-locked', /index\.lock exists/);

  assert.equal(existsSync(lockFile), true, "the other command's lock is not ours to remove");
  assert.equal(gitSync(repo, 'rev-parse', 'HEAD'), head);
});

test('the developer committing while the check runs refuses at the last moment, changing nothing', async (t) => {
  const { repo, workspace } = await goalReadyToLand(t);
  let before: Awaited<ReturnType<typeof developerState>> | undefined;

  await assertRefused(
    landGoal({
      repoRoot: repo,
      goalId: GOAL_ID,
      title: TITLE,
      workspace,
      check: async () => {
        await commitInRepo(repo, 'dev.txt', 'committed during the check\n', 'developer commit');
        before = await developerState(repo, ['src/a.ts', 'dev.txt']);
        return { ok: true, output: '' };
      },
    }),
    'branch-moved',
    /main moved on while the goal was checked; land it again/,
  );

  assert.deepEqual(await developerState(repo, ['src/a.ts', 'dev.txt']), before);
  assert.equal(existsSync(path.join(repo, '.git', 'index.lock')), false, 'our lock is released');
});
