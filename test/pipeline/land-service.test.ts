/**
 * The daemon side of landing, on real repositories, worktrees and goal files: manual landing and
 * its refusals, automatic landing when a goal becomes done, and a landing a crash left unrecorded.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigService } from '../../daemon/config/config-service.ts';
import { ConflictError, NotFoundError } from '../../daemon/errors.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { LandService } from '../../daemon/pipeline/land-service.ts';
import { DaemonSecrets } from '../../daemon/secrets/daemon-secrets.ts';
import { landGoal } from '../../daemon/pipeline/landing.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import type { EventEnvelope } from '../../protocol/index.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { pause, waitFor } from '../helpers/wait.ts';
import { driveGoal } from './land-helpers.ts';
import { defer } from '../helpers/defer.ts';

interface Setup {
  repo: string;
  worktreesRoot: string;
  store: GoalStore;
  service: LandService;
  events: EventEnvelope[];
  logs: string[];
}

/** A repository with a.txt and b.txt, a goal store, the config (file and environment) and a started LandService. */
async function setup(
  t: TestContext,
  options: { configFile?: string; env?: NodeJS.ProcessEnv; secrets?: DaemonSecrets } = {},
): Promise<Setup> {
  const files: Record<string, string> = { 'a.txt': 'a\n', 'b.txt': 'b\n' };
  if (options.configFile) files['ralph.config.ts'] = options.configFile;
  const repo = await makeTempRepo(t, files);
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope));
  const store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
  defer(t, () => store.close());
  const config = await ConfigService.start({ repoRoot: repo, env: options.env ?? {}, watch: false });
  defer(t, () => config.close());
  assert.equal(config.error, null);
  const logs: string[] = [];
  const service = new LandService({
    repoRoot: repo,
    store,
    bus,
    config,
    log: (line) => logs.push(line),
    worktreesRoot,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  service.start();
  // Registered last, so it runs before the store and config close.
  defer(t, () => service.close());
  return { repo, worktreesRoot, store, service, events, logs };
}

/** The domain error `promise` rejects with, failing unless it is one of `kind`. */
async function rejection<E extends Error>(promise: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof kind, `expected a ${kind.name}, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

const AUTO_LAND_CONFIG = "export default { executor: { land: 'auto' } };\n";

test('landing a done goal makes one commit "Goal #<id>: <title>", records it, and removes the worktree and branch', async (t) => {
  const { repo, worktreesRoot, store, service } = await setup(t);
  const headBefore = git(repo, 'rev-parse', 'HEAD');
  const { goal, workspace } = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Shout the a',
    files: { 'a.txt': 'A\n', 'src/new.txt': 'new\n' },
  });

  const outcome = await service.land(goal.id);

  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${goal.id}: Shout the a`);
  assert.equal(git(repo, 'rev-parse', 'HEAD^'), headBefore, 'exactly one commit on top of what was there');
  assert.equal(outcome.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.deepEqual([...outcome.files].sort(), ['a.txt', 'src/new.txt']);
  assert.equal(await readFile(path.join(repo, 'a.txt'), 'utf8'), 'A\n');
  assert.deepEqual(outcome.goal.landed && { commit: outcome.goal.landed.commit, branch: outcome.goal.landed.branch }, {
    commit: outcome.commit,
    branch: 'main',
  });
  assert.equal(store.get(goal.id)?.landed?.commit, outcome.commit, 'the goal file records it');
  assert.equal(existsSync(workspace.path), false, 'the worktree is gone');
  assert.equal(git(repo, 'branch', '--list', workspace.branch), '', 'the branch is gone');
  const { entries } = await store.log.read(goal.id);
  assert.match(entries.find((entry) => entry.kind === 'landed')?.text ?? '', /landed as [0-9a-f]{7} on main \(2 files\)/);

  const again = await rejection(service.land(goal.id), ConflictError);
  assert.match(again.message, /already landed/);
});

test('a conflicting uncommitted edit makes landing refuse, naming the file, and nothing changes', async (t) => {
  const { repo, worktreesRoot, store, service } = await setup(t);
  const { goal, workspace } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Change a', files: { 'a.txt': 'goal\n' } });
  await writeFile(path.join(repo, 'a.txt'), 'my edit\n');
  const headBefore = git(repo, 'rev-parse', 'HEAD');

  const refusal = await rejection(service.land(goal.id), ConflictError);

  assert.match(refusal.message, /refusing to land goal #\d+: you have uncommitted changes to a\.txt/);
  assert.deepEqual(refusal.data, { reason: 'uncommitted-changes', files: ['a.txt'] });
  assert.equal(git(repo, 'rev-parse', 'HEAD'), headBefore);
  assert.equal(await readFile(path.join(repo, 'a.txt'), 'utf8'), 'my edit\n');
  assert.equal(store.get(goal.id)?.landed, undefined);
  assert.equal(store.get(goal.id)?.state, 'done');
  assert.ok(existsSync(workspace.path), 'the worktree is kept for a later landing');
  const { entries } = await store.log.read(goal.id);
  assert.ok(entries.some((entry) => entry.kind === 'land.refused' && /a\.txt/.test(entry.text)));
});

test('only a done goal lands, and one goal never lands twice at once', async (t) => {
  const { repo, worktreesRoot, store, service } = await setup(t);
  const running = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Still going', files: { 'b.txt': 'B\n' }, running: true });
  const notDone = await rejection(service.land(running.goal.id), ConflictError);
  assert.match(notDone.message, /is running: only a done goal can land/);

  const missing = await rejection(service.land(99), NotFoundError);
  assert.equal(missing.message, 'goal #99 does not exist');

  const done = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Finished', files: { 'a.txt': 'A\n' } });
  const [first, second] = await Promise.allSettled([service.land(done.goal.id), service.land(done.goal.id)]);
  assert.equal(first.status, 'fulfilled');
  assert.equal(second.status, 'rejected');
  assert.match((second as PromiseRejectedResult).reason.message, /being landed already/);
  assert.equal(git(repo, 'log', '--format=%s', '--grep', `^Goal #${done.goal.id}:`), `Goal #${done.goal.id}: Finished`, 'one commit');
});

test('the check runs on the rebased branch before landing; a failing one refuses in one line', async (t) => {
  const { repo, worktreesRoot, store, service } = await setup(t, { env: { RALPH_VERIFY: 'echo checking; grep -q ready a.txt' } });
  const failing = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Not ready', files: { 'a.txt': 'not yet\n' } });
  const refusal = await rejection(service.land(failing.goal.id), ConflictError);
  assert.equal((refusal.data as { reason: string }).reason, 'check-failed');
  assert.doesNotMatch(refusal.message, /\n/);
  assert.equal(store.get(failing.goal.id)?.landed, undefined);
  const { entries } = await store.log.read(failing.goal.id);
  assert.match(entries.find((entry) => entry.kind === 'land.refused')?.text ?? '', /checking/, 'the output is in the log');

  const passing = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Ready', files: { 'b.txt': 'B\n', 'a.txt': 'ready\n' } });
  await service.land(passing.goal.id);
  assert.equal(await readFile(path.join(repo, 'a.txt'), 'utf8'), 'ready\n');
});

test("executor.land 'auto' lands a goal as soon as it becomes done", async (t) => {
  const { repo, worktreesRoot, store, events } = await setup(t, { configFile: AUTO_LAND_CONFIG });
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Land me', files: { 'b.txt': 'B\n' } });

  const landed = await waitFor(() => store.get(goal.id)?.landed, { timeoutMs: 10_000, message: 'the automatic landing' });
  assert.equal(landed.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${goal.id}: Land me`);
  assert.equal(events.filter((event) => event.type === 'goal.warning').length, 0);
});

test('a refused automatic landing leaves a warning naming the files, and the goal done for a manual land', async (t) => {
  const { repo, worktreesRoot, store, service, events, logs } = await setup(t, { configFile: AUTO_LAND_CONFIG });
  await writeFile(path.join(repo, 'a.txt'), 'my edit\n');
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Collides', files: { 'a.txt': 'goal\n' } });

  const warning = await waitFor(
    () => events.find((event): event is Extract<EventEnvelope, { type: 'goal.warning' }> => event.type === 'goal.warning'),
    { timeoutMs: 10_000, message: 'the warning' },
  );
  assert.equal(warning.data.goalId, goal.id);
  assert.equal(warning.data.kind, 'land-refused');
  assert.deepEqual(warning.data.paths, ['a.txt']);
  assert.match(warning.data.message, /uncommitted changes to a\.txt/);
  assert.ok(logs.some((line) => /automatic landing refused/.test(line)));
  assert.equal(store.get(goal.id)?.state, 'done');
  assert.equal(store.get(goal.id)?.landed, undefined);

  // Once the developer's edit is out of the way, the manual landing works.
  git(repo, 'checkout', '--', 'a.txt');
  await service.land(goal.id);
  assert.equal(await readFile(path.join(repo, 'a.txt'), 'utf8'), 'goal\n');
});

test('manual landing is the default: a goal that becomes done waits', async (t) => {
  const { repo, worktreesRoot, store } = await setup(t);
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Wait for me', files: { 'b.txt': 'B\n' } });
  await pause(300);
  assert.equal(store.get(goal.id)?.landed, undefined);
  assert.equal(git(repo, 'log', '-1', '--format=%s'), 'initial');
});

test('a landing the daemon made but did not record (it died in between) is found and recorded, never made twice', async (t) => {
  const { repo, worktreesRoot, store, service } = await setup(t);
  const { goal, workspace } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Half done', files: { 'a.txt': 'A\n' } });
  const made = await landGoal({ repoRoot: repo, goalId: goal.id, title: goal.title, workspace });

  const outcome = await service.land(goal.id);

  assert.equal(outcome.commit, made.commit);
  assert.deepEqual(outcome.files, ['a.txt']);
  assert.equal(store.get(goal.id)?.landed?.commit, made.commit);
  assert.equal(git(repo, 'rev-list', '--count', 'HEAD'), '2', 'the initial commit and one landing');
  assert.equal(existsSync(workspace.path), false);
});

test("the landing check gets the iterations' environment: secret variables kept out, but those secrets.passEnv lets through", async (t) => {
  // The check's environment starts from this process's, as the daemon's starts from its own.
  process.env.RALPH_TEST_NPM_TOKEN = 'npm_landingcheck0123456789';
  process.env.RALPH_TEST_GITHUB_TOKEN = 'ghp_landingcheck0123456789';
  defer(t, () => {
    delete process.env.RALPH_TEST_NPM_TOKEN;
    delete process.env.RALPH_TEST_GITHUB_TOKEN;
  });
  const secrets = DaemonSecrets.from({
    envs: [process.env],
    config: { passEnv: ['RALPH_TEST_NPM_TOKEN'], hideEnv: [], readIgnoredFiles: false },
  });
  const check = 'test "$RALPH_TEST_NPM_TOKEN" = npm_landingcheck0123456789 && test -z "${RALPH_TEST_GITHUB_TOKEN-}"';
  const { store, service, worktreesRoot, repo } = await setup(t, {
    configFile: `export default { executor: { verify: ${JSON.stringify(check)} } };\n`,
    secrets,
  });
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Needs the npm token', files: { 'c.txt': 'c\n' } });
  const landed = await service.land(goal.id);
  assert.ok(landed.goal.landed, 'the check passed: the passed variable was there, the other secret was not');
});
