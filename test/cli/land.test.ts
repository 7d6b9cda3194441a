/**
 * `ralph goal land` and `ralph pipeline status` end to end: real `ralph` processes and the daemon
 * the first of them starts in the background, on goals made done beforehand in real worktrees
 * (under a temporary XDG_STATE_HOME, which the daemon inherits).
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defaultWorktreesRoot } from '../../daemon/pipeline/workspace.ts';
import { cliEnv, failedWith, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { prepareDoneGoal } from '../pipeline/land-helpers.ts';

test('ralph pipeline status, pause and resume; ralph goal land lands a done goal and refuses (exit 1) naming the file it would overwrite', async (t) => {
  const repo = await makeTempRepo(undefined, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
  const stateHome = await makeTempDir(undefined, 'ralph-state-');
  // Last in, first out: the daemon stops before its repository and worktrees are removed.
  defer(t, () => rm(repo, { recursive: true, force: true }));
  defer(t, () => rm(stateHome, { recursive: true, force: true }));
  defer(t, () => killDaemon(repo));
  const worktreesRoot = defaultWorktreesRoot({ XDG_STATE_HOME: stateHome });
  const clean = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Shout b', files: { 'b.txt': 'B\n' } });
  const blocked = await prepareDoneGoal({ repoRoot: repo, worktreesRoot, title: 'Shout a', files: { 'a.txt': 'A\n' } });
  const options = { cwd: repo, env: cliEnv({ XDG_STATE_HOME: stateHome }) };

  const status = succeeded(await ralph(['pipeline', 'status'], options));
  assert.match(status, /^pipeline\s+active$/m);
  assert.match(status, /^running\s+none$/m);
  assert.deepEqual(JSON.parse(succeeded(await ralph(['pipeline', '--json'], options))), { paused: false, running: [], queued: [] });
  assert.match(succeeded(await ralph(['pipeline', 'pause'], options)), /^pipeline paused: nothing new starts/);
  assert.match(succeeded(await ralph(['pipeline', 'status'], options)), /^pipeline\s+paused \(resume with: ralph pipeline resume\)$/m);
  assert.deepEqual(JSON.parse(succeeded(await ralph(['pipeline', 'resume', '--json'], options))), { paused: false });
  assert.match(succeeded(await ralph(['pipeline', 'status'], options)), /^pipeline\s+active$/m);

  const landed = succeeded(await ralph(['goal', 'land', String(clean.goal.id)], options));
  const head = git(repo, 'rev-parse', 'HEAD');
  assert.equal(landed, `goal #${clean.goal.id} landed as ${head.slice(0, 7)} on main (1 file)\n`);
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${clean.goal.id}: Shout b`);
  assert.equal(await readFile(path.join(repo, 'b.txt'), 'utf8'), 'B\n');

  await writeFile(path.join(repo, 'a.txt'), 'my edit\n');
  failedWith(
    await ralph(['goal', 'land', `#${blocked.goal.id}`], options),
    1,
    new RegExp(`^ralph: refusing to land goal #${blocked.goal.id}: you have uncommitted changes to a\\.txt$`),
  );
  assert.equal(git(repo, 'rev-parse', 'HEAD'), head, 'nothing landed');
  assert.equal(await readFile(path.join(repo, 'a.txt'), 'utf8'), 'my edit\n');

  failedWith(await ralph(['goal', 'land', String(clean.goal.id)], options), 1, /already landed/);
  failedWith(await ralph(['goal', 'land'], options), 2, /missing argument ID/);
});
