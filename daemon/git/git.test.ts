import assert from 'node:assert/strict';
import { test } from 'node:test';
import { git as gitSync, makeTempRepo } from '../../test/helpers/repo.ts';
import {
  GitError,
  GitTimeoutError,
  GitUnavailableError,
  currentBranch,
  git,
  gitLine,
  gitRun,
  inProgressOperation,
  parseStatusZ,
  parseWorktreeList,
  resolveCommit,
  spawnGit,
  splitNul,
} from './git.ts';

test("git returns stdout; a failure throws a GitError with the command, exit code and stderr's first line", async (t) => {
  const repo = await makeTempRepo(t);
  assert.equal(await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD']), 'main\n');

  const failure = await git(repo, ['rev-parse', '--verify', 'no-such-branch']).catch((error: unknown) => error);
  assert.ok(failure instanceof GitError);
  assert.equal(failure.command, 'git rev-parse --verify no-such-branch');
  assert.equal(failure.exitCode, 128);
  assert.equal(failure.reason, 'fatal: Needed a single revision');
  assert.equal(failure.message, 'git rev-parse --verify no-such-branch failed (exit 128): fatal: Needed a single revision');

  assert.equal(await git(repo, ['rev-parse', '--verify', '--quiet', 'no-such-branch'], { allowFail: true }), '');
  assert.equal((await gitRun(repo, ['diff', '--quiet'])).exitCode, 0);
});

test('git feeds input on stdin and ignores GIT_DIR and friends inherited from the environment', async (t) => {
  const repo = await makeTempRepo(t);
  const saved = process.env.GIT_DIR;
  process.env.GIT_DIR = '/nonexistent/.git';
  try {
    const sha = (await git(repo, ['hash-object', '--stdin'], { input: 'hello\n' })).trim();
    assert.equal(sha, 'ce013625030ba8dba906f756967f9e9ca394464a', "git's well-known id of the blob 'hello\\n'");
    assert.equal(await currentBranch(repo), 'main');
  } finally {
    if (saved === undefined) delete process.env.GIT_DIR;
    else process.env.GIT_DIR = saved;
  }
});

test('a streamed git (spawnGit) runs in the same environment: GIT_WORK_TREE and friends dropped, no editor', async (t) => {
  const repo = await makeTempRepo(t);
  const output = async (args: string[]) => {
    const child = spawnGit(repo, args);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `git ${args.join(' ')} succeeds`);
    return out;
  };
  const saved = process.env.GIT_WORK_TREE;
  process.env.GIT_WORK_TREE = '/nonexistent';
  try {
    assert.equal(await output(['rev-parse', '--show-toplevel']), `${repo}\n`);
    assert.equal(await gitLine(repo, ['rev-parse', '--show-toplevel']), repo);
    assert.equal(await output(['var', 'GIT_EDITOR']), 'true\n', 'a daemon has no editor to open');
  } finally {
    if (saved === undefined) delete process.env.GIT_WORK_TREE;
    else process.env.GIT_WORK_TREE = saved;
  }
});

test('git that cannot start, is stopped, or runs too long rejects with what happened', async (t) => {
  const repo = await makeTempRepo(t);
  const missing = await gitRun(`${repo}/no-such-folder`, ['status']).catch((error: unknown) => error);
  assert.ok(missing instanceof GitUnavailableError);
  assert.equal(missing.code, 'ENOENT');

  const aborted = await gitRun(repo, ['status'], { signal: AbortSignal.abort() }).catch((error: unknown) => error);
  assert.equal((aborted as Error).name, 'AbortError');

  // An alias that would run 30 s: git stops its child when it is stopped itself.
  const slow = await gitRun(repo, ['-c', 'alias.hang=!exec sleep 30', 'hang'], { timeoutMs: 200 }).catch((error: unknown) => error);
  assert.ok(slow instanceof GitTimeoutError, String(slow));
  assert.equal(slow.message, 'git -c alias.hang=!exec sleep 30 hang did not finish within 200 ms');
});

test('resolveCommit, currentBranch and inProgressOperation describe the checkout', async (t) => {
  const repo = await makeTempRepo(t);
  assert.match((await resolveCommit(repo, 'HEAD')) ?? '', /^[0-9a-f]{40}$/);
  assert.equal(await resolveCommit(repo, 'nope'), null);
  assert.equal(await inProgressOperation(repo), null);
  gitSync(repo, 'checkout', '-q', '--detach');
  assert.equal(await currentBranch(repo), null);
});

test('parseStatusZ reads plain entries, renames and paths with spaces', () => {
  const output = ' M src/a file.ts\0R  new.ts\0old.ts\0?? notes.txt\0';
  assert.deepEqual(parseStatusZ(output), [
    { index: ' ', worktree: 'M', path: 'src/a file.ts' },
    { index: 'R', worktree: ' ', path: 'new.ts', origPath: 'old.ts' },
    { index: '?', worktree: '?', path: 'notes.txt' },
  ]);
  assert.deepEqual(parseStatusZ(''), []);
  assert.deepEqual(splitNul('a\0b\0'), ['a', 'b']);
});

test('parseWorktreeList reads branches, detached and locked entries, prunable ones and quoted paths', () => {
  const output = [
    'worktree /repo',
    'HEAD 1111111111111111111111111111111111111111',
    'branch refs/heads/main',
    '',
    'worktree "/state/odd\\nname"',
    'HEAD 2222222222222222222222222222222222222222',
    'branch refs/heads/ralph/goal-2',
    'locked initializing',
    'prunable gitdir file points to non-existent location',
    '',
    'worktree /state/goal-3',
    'HEAD 3333333333333333333333333333333333333333',
    'detached',
    '',
  ].join('\n');
  assert.deepEqual(parseWorktreeList(output), [
    { path: '/repo', head: '1'.repeat(40), branch: 'main', locked: null, prunable: false },
    { path: '/state/odd\nname', head: '2'.repeat(40), branch: 'ralph/goal-2', locked: 'initializing', prunable: true },
    { path: '/state/goal-3', head: '3'.repeat(40), branch: null, locked: null, prunable: false },
  ]);
});
