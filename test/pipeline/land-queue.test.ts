/**
 * The landing queue and keeping done goals landable, on real repositories, worktrees and goal files:
 * two goals changing the same file land in order (the second rebased onto the first), a commit of
 * the developer's gets each done goal rebased and checked in the background, a check that fails
 * only after the rebase is never landed and leaves the target as it was, a conflict leaves the
 * branch as it was and says which files, and a rebase a crash cut short is undone at start.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigService } from '../../daemon/config/config-service.ts';
import { ConflictError } from '../../daemon/errors.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { listBackups } from '../../daemon/pipeline/backup-refs.ts';
import type { GoalConflict } from '../../daemon/pipeline/keep-landable.ts';
import { LandService } from '../../daemon/pipeline/land-service.ts';
import { landingFile } from '../../daemon/pipeline/landing-book.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import { LandingState, type EventEnvelope } from '../../protocol/index.ts';
import { defer } from '../helpers/defer.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { driveGoal } from './land-helpers.ts';

const TEN_LINES = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;

function replaceLine(text: string, n: number, line: string): string {
  const lines = text.split('\n');
  lines[n - 1] = line;
  return lines.join('\n');
}

async function setup(t: TestContext, options: { verify?: string; files?: Record<string, string> } = {}) {
  const files: Record<string, string> = { 'shared.txt': TEN_LINES, ...options.files };
  if (options.verify) {
    files['ralph.config.ts'] =
      `export default { executor: { verify: ${JSON.stringify(options.verify)}, commands: { sandbox: 'off' } } };\n`;
  }
  const repo = await makeTempRepo(t, files);
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope));
  const store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
  defer(t, () => store.close());
  const config = await ConfigService.start({ repoRoot: repo, env: {}, watch: false });
  defer(t, () => config.close());
  assert.equal(config.error, null);
  const conflicts: GoalConflict[] = [];
  const logs: string[] = [];
  const start = () => {
    const service = new LandService({
      repoRoot: repo,
      store,
      bus,
      config,
      log: (line) => logs.push(line),
      worktreesRoot,
      targetPollMs: 50,
      onConflict: (conflict) => conflicts.push(conflict),
    });
    void service.start();
    defer(t, () => service.close());
    return service;
  };
  return { repo, worktreesRoot, store, events, conflicts, logs, start };
}

function landability(service: LandService, id: number) {
  return service.state().goals.find((entry) => entry.goalId === id);
}

test('two done goals changing distinct lines of one file land in queue order, the second rebased onto the first', async (t) => {
  const { repo, worktreesRoot, store, events, start } = await setup(t);
  const first = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Top line',
    files: { 'shared.txt': replaceLine(TEN_LINES, 1, 'FIRST') },
  });
  const second = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Bottom line',
    files: { 'shared.txt': replaceLine(TEN_LINES, 10, 'LAST') },
  });
  const secondWork = await second.workspace.head();
  const base = git(repo, 'rev-parse', 'HEAD');
  const service = start();

  const [a, b] = await Promise.all([service.land(first.goal.id), service.land(second.goal.id)]);

  assert.deepEqual(git(repo, 'log', '--format=%s', `${base}..HEAD`).split('\n'), [
    `Goal #${second.goal.id}: Bottom line`,
    `Goal #${first.goal.id}: Top line`,
  ]);
  assert.equal(git(repo, 'rev-parse', 'HEAD^'), a.commit, 'the second commit sits on the first');
  assert.equal(b.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.equal(await readFile(path.join(repo, 'shared.txt'), 'utf8'), replaceLine(replaceLine(TEN_LINES, 1, 'FIRST'), 10, 'LAST'));
  assert.equal(store.get(second.goal.id)?.landed?.commit, b.commit);
  // The queue showed both, in order, and each step of a landing; it is empty now, and so is the file.
  const states = events.filter((event) => event.type === 'landing.changed').map((event) => event.data as LandingState);
  assert.ok(
    states.some((state) => state.queue.map((entry) => entry.goalId).join() === `${first.goal.id},${second.goal.id}`),
    'both were queued, in order',
  );
  for (const step of ['rebase', 'check', 'commit']) {
    assert.ok(
      states.some((state) => state.queue[0]?.goalId === second.goal.id && state.queue[0].step === step),
      `the second's landing showed its ${step} step`,
    );
  }
  assert.deepEqual(service.state(), { queue: [], goals: [] });
  assert.deepEqual(LandingState.parse(JSON.parse(await readFile(landingFile(repo), 'utf8'))), { queue: [], goals: [] });
  // The second's branch was rewritten by its rebase: a backup kept it until it landed, then went.
  assert.notEqual(git(repo, 'rev-parse', `${b.commit}^{tree}`), git(repo, 'rev-parse', `${secondWork}^{tree}`));
  assert.deepEqual(await listBackups(repo, second.goal.id), []);
  assert.equal(existsSync(second.workspace.path), false);
});

test("a commit of the developer's gets a done goal rebased and checked in the background: it shows landable, its old head backed up", async (t) => {
  const { repo, worktreesRoot, store, start } = await setup(t, { verify: 'test -f goal.txt' });
  const { goal, workspace } = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Add goal.txt',
    files: { 'goal.txt': 'g\n' },
  });
  const work = await workspace.head();
  const service = start();
  await waitFor(() => landability(service, goal.id)?.status === 'landable', { message: 'landable before the commit' });

  await writeFile(path.join(repo, 'dev.txt'), 'mine\n');
  git(repo, 'add', 'dev.txt');
  git(repo, 'commit', '-q', '-m', 'developer work');
  const moved = git(repo, 'rev-parse', 'HEAD');

  const after = await waitFor(
    () => {
      const entry = landability(service, goal.id);
      return entry?.status === 'landable' && entry.targetHead === moved ? entry : undefined;
    },
    { timeoutMs: 15_000, message: 'landable on the new head' },
  );
  assert.equal(git(workspace.path, 'rev-parse', 'HEAD^'), moved, "the goal's branch sits on the developer's commit");
  assert.equal(after.goalHead, await workspace.head());
  assert.deepEqual(
    (await listBackups(repo, goal.id)).map((backup) => backup.commit),
    [work],
    'the head before the rebase is kept',
  );
  assert.equal(git(repo, 'rev-parse', 'HEAD'), moved, 'the target did not move');

  // Landing it now runs no check again (it passed on this very commit) and lands on top of the developer's commit.
  const landed = await service.land(goal.id);
  assert.equal(git(repo, 'rev-parse', 'HEAD^'), moved);
  assert.equal(landed.commit, git(repo, 'rev-parse', 'HEAD'));
  assert.deepEqual(await listBackups(repo, goal.id), [], 'backups go once it has landed');
});

test('a check that fails only after the rebase: shown with its output, never landed, and the target and the working tree stay as they were', async (t) => {
  // Fails only when both files are there: the goal's alone passes, the developer's commit brings the other.
  const { repo, worktreesRoot, store, start, logs } = await setup(t, {
    verify: 'echo checking both; ! { test -f dev.txt && test -f goal.txt; }',
  });
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Add goal.txt', files: { 'goal.txt': 'g\n' } });
  const service = start();
  await waitFor(() => landability(service, goal.id)?.status === 'landable', { message: 'landable before the commit' });

  await writeFile(path.join(repo, 'dev.txt'), 'mine\n');
  git(repo, 'add', 'dev.txt');
  git(repo, 'commit', '-q', '-m', 'developer work');
  // Work in progress of the developer's: an edit, a staged file and an untracked one.
  await writeFile(path.join(repo, 'shared.txt'), 'my edit in progress\n');
  await writeFile(path.join(repo, 'staged.txt'), 'staged\n');
  git(repo, 'add', 'staged.txt');
  await writeFile(path.join(repo, 'untracked.txt'), 'untracked\n');
  const head = git(repo, 'rev-parse', 'HEAD');
  const statusBefore = git(repo, 'status', '--porcelain');
  const index = await readFile(path.join(repo, '.git', 'index'));

  const failing = await waitFor(
    () => (landability(service, goal.id)?.status === 'check-failing' ? landability(service, goal.id) : undefined),
    {
      timeoutMs: 15_000,
      message: `check failing after the rebase (${head} ${JSON.stringify(service.state())} ${logs.join(' | ')})`,
    },
  );
  assert.match(failing.reason ?? '', /check fails on the branch rebased onto main:\nchecking both/);

  const refusal = await service.land(goal.id).then(
    () => assert.fail('expected a refusal'),
    (error: unknown) => error,
  );
  assert.ok(refusal instanceof ConflictError);
  assert.equal((refusal.data as { reason: string }).reason, 'check-failed');
  assert.equal(git(repo, 'rev-parse', 'HEAD'), head, 'the target branch did not move');
  assert.equal(git(repo, 'status', '--porcelain'), statusBefore);
  assert.equal(await readFile(path.join(repo, 'shared.txt'), 'utf8'), 'my edit in progress\n');
  assert.equal(await readFile(path.join(repo, 'untracked.txt'), 'utf8'), 'untracked\n');
  assert.deepEqual(await readFile(path.join(repo, '.git', 'index')), index, 'the index is byte for byte as it was');
  assert.equal(store.get(goal.id)?.landed, undefined);
  assert.equal(store.get(goal.id)?.state, 'done');
  const entry = landability(service, goal.id);
  assert.equal(entry?.status, 'check-failing');
  assert.deepEqual(service.state().queue, []);
  const { entries } = await store.log.read(goal.id);
  assert.match(entries.find((logged) => logged.kind === 'land.refused')?.text ?? '', /checking both/);
});

test('a rebase that conflicts leaves the branch as it was, names the files, and tells whoever resolves conflicts', async (t) => {
  const { repo, worktreesRoot, store, conflicts, start } = await setup(t);
  const { goal, workspace } = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Rewrite line 5',
    files: { 'shared.txt': replaceLine(TEN_LINES, 5, 'GOAL') },
  });
  const work = await workspace.head();
  const service = start();
  await writeFile(path.join(repo, 'shared.txt'), replaceLine(TEN_LINES, 5, 'MINE'));
  git(repo, 'commit', '-q', '-am', 'my line 5');
  const moved = git(repo, 'rev-parse', 'HEAD');

  await waitFor(() => conflicts.length > 0, { timeoutMs: 15_000, message: 'the conflict reported' });
  const entry = landability(service, goal.id)!;
  assert.equal(entry.status, 'conflicts');
  assert.deepEqual(entry.files, ['shared.txt']);
  assert.equal(await workspace.head(), work, "the goal's branch is as it was");
  assert.equal(git(workspace.path, 'status', '--porcelain'), '', 'no rebase left in progress');
  assert.deepEqual(conflicts, [{ goalId: goal.id, files: ['shared.txt'], branch: 'main', targetHead: moved, goalHead: work }]);
  assert.deepEqual(
    (await listBackups(repo, goal.id)).map((backup) => backup.commit),
    [work],
  );
});

test("a rebase a crash cut short in a done goal's worktree is aborted at start and the branch is as it was", async (t) => {
  const { repo, worktreesRoot, store, start, logs } = await setup(t);
  const { goal, workspace } = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Rewrite line 5',
    files: { 'shared.txt': replaceLine(TEN_LINES, 5, 'GOAL') },
  });
  const work = await workspace.head();
  await writeFile(path.join(repo, 'shared.txt'), replaceLine(TEN_LINES, 5, 'MINE'));
  git(repo, 'commit', '-q', '-am', 'my line 5');
  // As a daemon killed mid-rebase leaves it: the worktree stopped on the conflict, HEAD detached.
  assert.throws(() => git(workspace.path, 'rebase', 'main'));
  assert.notEqual(git(workspace.path, 'status', '--porcelain'), '');

  const service = start();
  await service.start();
  assert.ok(
    logs.some((line) => /a rebase cut short in its worktree was aborted/.test(line)),
    logs.join(' | '),
  );
  assert.equal(git(workspace.path, 'rev-parse', 'HEAD'), work);
  assert.equal(git(workspace.path, 'symbolic-ref', 'HEAD'), `refs/heads/ralph/goal-${goal.id}`);
  assert.equal(git(workspace.path, 'status', '--porcelain'), '');
});

test('a landing queued while a background check runs does not wait for it: the check is cut and runs again later', async (t) => {
  const dir = await makeTempDir(t, 'ralph-hold-');
  const hold = path.join(dir, 'hold');
  const started = path.join(dir, 'started');
  await writeFile(hold, '');
  const { repo, worktreesRoot, store, start } = await setup(t, {
    verify: `if [ -f '${hold}' ]; then touch '${started}'; sleep 60; fi; true`,
  });
  const { goal } = await driveGoal(store, { repoRoot: repo, worktreesRoot, title: 'Add goal.txt', files: { 'goal.txt': 'g\n' } });
  const service = start();
  await waitFor(() => existsSync(started), { timeoutMs: 15_000, message: 'the background check to start' });
  await rm(hold);

  let timer: NodeJS.Timeout | undefined;
  const tooLong = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), 20_000);
  });
  const outcome = await Promise.race([service.land(goal.id), tooLong]);
  clearTimeout(timer);
  assert.notEqual(outcome, 'still waiting', 'the landing waited for the background check');
  assert.equal(outcome !== 'still waiting' && outcome.commit, git(repo, 'rev-parse', 'HEAD'));
});

test('an automatic landing that conflicts hands the goal to conflict resolution: no refusal warning, a log line saying so', async (t) => {
  const { repo, worktreesRoot, store, events, conflicts, logs, start } = await setup(t, {
    files: { 'ralph.config.ts': "export default { executor: { land: 'auto' } };\n" },
  });
  const first = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'First',
    files: { 'shared.txt': replaceLine(TEN_LINES, 1, 'first') },
  });
  const second = await driveGoal(store, {
    repoRoot: repo,
    worktreesRoot,
    title: 'Second',
    files: { 'shared.txt': replaceLine(TEN_LINES, 1, 'second') },
  });
  start();
  await waitFor(() => conflicts.some((conflict) => conflict.goalId === second.goal.id), { timeoutMs: 15_000, message: 'the conflict' });
  await waitFor(
    () => logs.some((line) => line.startsWith(`goal #${second.goal.id}: its automatic landing conflicts; it goes back to the loop`)),
    {
      message: 'the log line',
    },
  );
  assert.ok(store.get(first.goal.id)?.landed);
  assert.deepEqual(
    events.filter((event) => event.type === 'goal.warning'),
    [],
  );
});
