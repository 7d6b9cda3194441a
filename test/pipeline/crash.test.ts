/**
 * Crash recovery with real daemon processes (daemon/main.ts): kill -9 in the middle of an iteration,
 * twice (during a model call, then after the iteration's commit while its check runs), restart, and
 * the goal completes in the same worktree, with one commit for the iteration and files that parse.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { RECOVERY_NOTE } from '../../daemon/store/goal-store.ts';
import { RalphClient } from '../../protocol/client.ts';
import { Goal, type LogEntry } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, reply, UNPRICED_MODEL } from './executor-helpers.ts';

async function startDaemon(t: TestContext, repo: string, env: NodeJS.ProcessEnv) {
  const daemon = spawnDaemon(t, repo, 'background', env);
  const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; error?: string };
  assert.equal(ready.ready, true, `the daemon started (${ready.error ?? ''})`);
  return daemon;
}

async function killHard(daemon: ReturnType<typeof spawnDaemon>): Promise<void> {
  daemon.child.kill('SIGKILL');
  await daemon.exited;
}

async function logEntries(repo: string, goalId: number): Promise<LogEntry[]> {
  return (await new GoalLog(repo, new EventBus()).read(goalId)).entries;
}

test('kill -9 mid-iteration, twice: the restarted daemon finishes the goal in its worktree, with no duplicate commit', async (t) => {
  const repo = await makeTempRepo(undefined);
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const stateHome = await makeTempDir(undefined, 'ralph-state-');
  defer(t, () => rm(stateHome, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  // While this file exists the check waits: the daemon can be killed after the commit, before the check ends.
  // In the repository's .git, which the check's sandbox shows (read-only): /tmp, where the test's folders are, is the sandbox's own.
  const holdCheck = path.join(repo, '.git', 'ralph-test-hold-check');
  await writeFile(holdCheck, '');
  defer(t, () => rm(holdCheck, { force: true }));
  const env: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_VERIFY: `while [ -f '${holdCheck}' ]; do sleep 0.05; done; test -f hello.txt`,
    RALPH_PIPELINE: '',
    XDG_STATE_HOME: stateHome,
  };

  const held = gate();
  t.after(() => held.open());
  let heldAsked = false;
  server.script(
    reply.write('hello.txt', 'hello\n'),
    // The iteration's second model call never answers: the daemon is killed while it waits.
    async () => {
      heldAsked = true;
      await held.promise;
      return reply.text('never delivered');
    },
    // After the first restart, the same iteration runs again and claims done.
    reply.done('hello.txt is written.'),
    // After the second restart (the commit was made, the check was cut short), it runs once more.
    reply.done('hello.txt was already written.'),
  );

  // 1. The first daemon: the goal starts, writes hello.txt, and the daemon dies during the next model call.
  const first = await startDaemon(t, repo, env);
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'crash-test', requestTimeoutMs: 10_000 });
  defer(t, () => client.close());
  const { goal: created } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });
  await waitFor(() => heldAsked, { timeoutMs: 15_000, message: 'the held model call' });
  await killHard(first);
  await client.close();
  // A log line torn by the crash (as a kill during a write would leave it).
  await appendFile(path.join(repo, '.ralph', 'logs', `${created.id}.jsonl`), '{"goalId":1,"index":99,"kind":"mod');

  // 2. The second daemon recovers the goal and runs the iteration again; it dies while the check runs.
  const second = await startDaemon(t, repo, env);
  const commitEntry = await waitFor(
    async () => (await logEntries(repo, created.id)).find((entry) => entry.kind === 'commit' && entry.commit),
    {
      timeoutMs: 15_000,
      message: 'the iteration’s commit',
    },
  );
  await killHard(second);
  await rm(holdCheck, { force: true });

  // 3. The third daemon finishes it.
  await startDaemon(t, repo, env);
  const done = await waitFor(
    async () => {
      const goal = Goal.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'goals', `${created.id}.json`), 'utf8')));
      return goal.state === 'done' || goal.state === 'stuck' ? goal : undefined;
    },
    { timeoutMs: 20_000, message: 'the goal to end' },
  );

  assert.equal(done.state, 'done', `done (last transition: ${JSON.stringify(done.history.at(-1))})`);
  assert.equal(done.attempts.length, 1, 'one attempt, continued across both restarts');
  const iterations = done.attempts[0]!.iterations as { number: number; commit: string | null }[];
  assert.deepEqual(
    iterations.map((iteration) => iteration.number),
    [1],
    'the iteration count continued: iteration 1 was never recorded before',
  );
  // One commit for iteration 1, the one made before the second kill.
  const trailers = git(repo, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', 'main..ralph/goal-1').split('\n').filter(Boolean);
  assert.deepEqual(trailers, ['1/1']);
  assert.equal(iterations[0]!.commit, commitEntry.commit);
  assert.equal(git(repo, 'rev-parse', 'ralph/goal-1'), commitEntry.commit);
  assert.equal(git(repo, 'show', 'ralph/goal-1:hello.txt'), 'hello');
  assert.equal(done.history.filter((change) => change.action === 'recover' && change.note === RECOVERY_NOTE).length, 2);

  // The log parses (the torn line skipped) and continues after it.
  const entries = await logEntries(repo, created.id);
  assert.deepEqual(
    entries.map((entry) => entry.index),
    entries.map((_, index) => index),
  );
  assert.ok(entries.some((entry) => entry.kind === 'decision' && /^done/.test(entry.text)));
});
