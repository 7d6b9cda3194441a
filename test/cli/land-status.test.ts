/**
 * `ralph land status` end to end (real `ralph` processes and the daemon they start): done goals
 * shown landable, rebased and checked again in the background when the developer commits, a
 * conflict named with its file (the goal goes back to the loop to resolve it), and the queue
 * emptied by a landing.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defaultWorktreesRoot } from '../../daemon/pipeline/workspace.ts';
import { LandingState, type Goal } from '../../protocol/index.ts';
import { cliEnv, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { prepareDoneGoal } from '../pipeline/land-helpers.ts';

test('ralph land status: done goals landable, rebased and checked again when the developer commits, a conflict named with its file', async (t) => {
  const repo = await makeTempRepo(undefined, {
    'a.txt': 'a\n',
    'b.txt': 'b\n',
    'ralph.config.ts': "export default { executor: { verify: 'test -f README.md', commands: { sandbox: 'off' } } };\n",
  });
  const stateHome = await makeTempDir(undefined, 'ralph-state-');
  defer(t, () => rm(repo, { recursive: true, force: true }));
  defer(t, () => rm(stateHome, { recursive: true, force: true }));
  defer(t, () => killDaemon(repo));
  const worktreesRoot = defaultWorktreesRoot({ XDG_STATE_HOME: stateHome });
  const first = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'New file', files: { 'new.txt': 'new\n' } });
  const second = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Shout b', files: { 'b.txt': 'B\n' } });
  const options = { cwd: repo, env: cliEnv({ XDG_STATE_HOME: stateHome }) };
  const status = async () => LandingState.parse(JSON.parse(succeeded(await ralph(['land', 'status', '--json'], options))));
  const statusOf = (state: LandingState, id: number) => state.goals.find((entry) => entry.goalId === id);
  const bothLandableOn = async (head: string) => {
    const state = await status();
    return [first, second].every(
      ({ goal }) => statusOf(state, goal.id)?.status === 'landable' && statusOf(state, goal.id)?.targetHead === head,
    )
      ? state
      : undefined;
  };

  await waitFor(() => bothLandableOn(git(repo, 'rev-parse', 'HEAD')), { timeoutMs: 20_000, message: 'both landable' });
  const table = succeeded(await ralph(['land'], options));
  assert.match(table, /^queue\s+empty$/m);
  assert.match(table, new RegExp(`#${first.goal.id} New file\\s+landable$`, 'm'));

  // The developer commits: both are rebased onto it and checked again.
  await writeFile(path.join(repo, 'dev.txt'), 'mine\n');
  git(repo, 'add', 'dev.txt');
  git(repo, 'commit', '-q', '-m', 'developer work');
  const moved = git(repo, 'rev-parse', 'HEAD');
  await waitFor(() => bothLandableOn(moved), { timeoutMs: 20_000, message: 'both landable on the new head' });
  assert.equal(git(repo, 'rev-parse', `ralph/goal-${second.goal.id}^`), moved);

  // Then changes b.txt too: the second conflicts, named with its file, and goes back to the loop to
  // resolve it (no model is configured here: that run ends stuck, its branch as it was); the first is still landable.
  const secondHead = git(repo, 'rev-parse', `ralph/goal-${second.goal.id}`);
  await writeFile(path.join(repo, 'b.txt'), 'my b\n');
  git(repo, 'commit', '-q', '-am', 'my b');
  const goalOf = async (id: number) =>
    (JSON.parse(succeeded(await ralph(['goal', 'list', '--json'], options))) as Goal[]).find((goal) => goal.id === id);
  const stuck = await waitFor(
    async () => {
      const goal = await goalOf(second.goal.id);
      return goal?.state === 'stuck' ? goal : undefined;
    },
    { timeoutMs: 20_000, message: 'the conflict resolution to end' },
  );
  assert.match(stuck.history.find((entry) => entry.action === 'resolve')?.note ?? '', /conflicts with \S+ in b\.txt/);
  assert.equal(git(repo, 'rev-parse', `ralph/goal-${second.goal.id}`), secondHead);
  assert.equal(statusOf(await status(), first.goal.id)?.status, 'landable');

  succeeded(await ralph(['goal', 'land', String(first.goal.id)], options));
  const after = await status();
  assert.deepEqual(after.queue, []);
  assert.equal(statusOf(after, first.goal.id), undefined, 'a landed goal has no landability any more');
});
