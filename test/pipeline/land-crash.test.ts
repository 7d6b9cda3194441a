/**
 * kill -9 at each step of a landing, with real daemon processes: after the rebase (held there by
 * the test-only RALPH_TEST_LAND_HOLD), during the check (a check that waits for the test), and
 * after the landing commit is on the branch but before the goal records it (held there). The next
 * daemon goes on with the queue: the goal lands exactly once, its record matches git, the
 * developer's uncommitted work is untouched, and the backup refs, worktree and branch are gone.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { Goal, LandingState } from '../../protocol/index.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { prepareDoneGoal } from './land-helpers.ts';

type Step = 'after-rebase' | 'during-check' | 'after-commit';

async function startDaemon(t: TestContext, repo: string, env: NodeJS.ProcessEnv) {
  const daemon = spawnDaemon(t, repo, 'background', env);
  const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; error?: string };
  assert.equal(ready.ready, true, `the daemon started (${ready.error ?? ''})`);
  return daemon;
}

async function goalFile(repo: string, id: number): Promise<Goal> {
  return Goal.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'goals', `${id}.json`), 'utf8')));
}

function landingCommits(repo: string, id: number): string[] {
  return git(repo, 'log', '--format=%H', '--grep', `^Ralph-Goal: ${id}$`, 'main').split('\n').filter(Boolean);
}

async function killAt(t: TestContext, step: Step): Promise<void> {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n', 'notes.txt': 'notes\n' });
  const stateHome = await makeTempDir(t, 'ralph-state-');
  const worktreesRoot = path.join(stateHome, 'ralph', 'worktrees');
  const holdCheck = path.join(stateHome, 'hold-check');
  const checking = path.join(stateHome, 'checking');
  const held = path.join(stateHome, 'held');
  // The check says it runs, then waits while hold-check exists (only the kill during the check creates it).
  const verify = `touch '${checking}'; while [ -f '${holdCheck}' ]; do sleep 0.05; done; test -f goal.txt`;
  await writeFile(
    path.join(repo, 'ralph.config.ts'),
    `export default { executor: { verify: ${JSON.stringify(verify)}, commands: { sandbox: 'off' } } };\n`,
  );
  git(repo, 'add', 'ralph.config.ts');
  git(repo, 'commit', '-q', '-m', 'config');
  const { goal, workspace } = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Add goal.txt', files: { 'goal.txt': 'g\n' } });
  const work = await workspace.head();
  // The developer commits (the landing must rebase) and has work in progress.
  await writeFile(path.join(repo, 'dev.txt'), 'dev\n');
  git(repo, 'add', 'dev.txt');
  git(repo, 'commit', '-q', '-m', 'developer work');
  const developerHead = git(repo, 'rev-parse', 'HEAD');
  await writeFile(path.join(repo, 'notes.txt'), 'my notes in progress\n');
  await writeFile(path.join(repo, 'scratch.txt'), 'untracked\n');

  const env: NodeJS.ProcessEnv = { XDG_STATE_HOME: stateHome, RALPH_PIPELINE: 'paused', RALPH_VERIFY: '' };
  if (step === 'during-check') await writeFile(holdCheck, '');
  const first = await startDaemon(t, repo, {
    ...env,
    ...(step === 'during-check' ? {} : { RALPH_TEST_LAND_HOLD: `${step}:${held}` }),
  });
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'crash-test', requestTimeoutMs: 60_000 });
  defer(t, () => client.close());
  const answer = client.request('goal.land', { id: goal.id }).then(
    () => 'answered',
    () => 'cut',
  );
  await waitFor(() => existsSync(step === 'during-check' ? checking : held), { timeoutMs: 15_000, message: `the landing ${step}` });
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(await answer, 'cut');
  await client.close();

  // What the kill left: the goal not recorded landed, whatever git holds.
  assert.equal((await goalFile(repo, goal.id)).landed, undefined);
  const queued = LandingState.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'landing.json'), 'utf8')));
  assert.deepEqual(
    queued.queue.map((entry) => entry.goalId),
    [goal.id],
    'the landing is still in the queue',
  );
  assert.equal(landingCommits(repo, goal.id).length, step === 'after-commit' ? 1 : 0);
  assert.ok(
    git(repo, 'for-each-ref', '--format=%(objectname)', `refs/ralph/backup/${goal.id}/`).split('\n').includes(work),
    "the goal's work before the rebase is kept in a backup ref",
  );

  // The next daemon goes on with the queue.
  await rm(holdCheck, { force: true });
  await startDaemon(t, repo, env);
  const landed = await waitFor(async () => (await goalFile(repo, goal.id)).landed, { timeoutMs: 20_000, message: 'the goal landed' });

  const commits = landingCommits(repo, goal.id);
  assert.deepEqual(commits, [landed.commit], 'one landing commit, the one recorded');
  assert.equal(git(repo, 'rev-parse', 'HEAD'), landed.commit);
  assert.equal(git(repo, 'rev-parse', 'HEAD^'), developerHead, "on top of the developer's commit");
  assert.equal(git(repo, 'show', 'HEAD:goal.txt'), 'g');
  assert.equal(await readFile(path.join(repo, 'notes.txt'), 'utf8'), 'my notes in progress\n');
  assert.equal(await readFile(path.join(repo, 'scratch.txt'), 'utf8'), 'untracked\n');
  assert.equal(git(repo, 'status', '--porcelain', '--', 'goal.txt', 'dev.txt', 'a.txt'), '');
  const landedEntries = async () =>
    (await readFile(path.join(repo, '.ralph', 'logs', `${goal.id}.jsonl`), 'utf8'))
      .split('\n')
      .filter((line) => line && JSON.parse(line).kind === 'landed').length;
  await waitFor(async () => (await landedEntries()) > 0, { message: "the goal log's landed entry" });
  await waitFor(
    async () => {
      const state = LandingState.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'landing.json'), 'utf8')));
      return state.queue.length === 0 && git(repo, 'for-each-ref', 'refs/ralph/backup/') === '' && !existsSync(workspace.path);
    },
    { message: 'the queue empty, the backups and the worktree gone' },
  );
  assert.equal(git(repo, 'branch', '--list', `ralph/goal-${goal.id}`), '');
  assert.equal(await landedEntries(), 1, 'the log records the landing once');
}

// Each in its own repository and state folder: they run at once (most of their time is daemons starting).
describe('kill -9 at each step of a landing', { concurrency: true }, () => {
  test('after the rebase, before the check: the next daemon lands the goal once', (t) => killAt(t, 'after-rebase'));

  test('while the check runs: the next daemon checks again and lands the goal once', (t) => killAt(t, 'during-check'));

  test('after the landing commit, before the goal records it: the next daemon records that commit, and makes none', (t) =>
    killAt(t, 'after-commit'));
});
