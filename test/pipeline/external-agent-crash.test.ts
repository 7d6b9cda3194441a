/**
 * kill -9 of a real daemon process while an external agent (a command script) takes an iteration's
 * turn: the agent and the child it started outlive the daemon (their own process group), the next
 * daemon kills them before anything runs, continues the goal to done, and the iteration has one
 * commit.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { Goal } from '../../protocol/index.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { alive } from './external-agent-helpers.ts';

async function startDaemon(t: TestContext, repo: string, env: NodeJS.ProcessEnv) {
  const daemon = spawnDaemon(t, repo, 'background', env);
  const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; error?: string };
  assert.equal(ready.ready, true, `the daemon started (${ready.error ?? ''})`);
  return daemon;
}

test('kill -9 during an external agent’s turn: the next daemon kills the orphaned agent, finishes the goal, one commit', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const pids = path.join(dir, 'pids');
  const firstRun = path.join(dir, 'first-run');
  // The first run writes its file, then waits with a child in its group; the second says done.
  const agent = path.join(dir, 'agent.sh');
  await writeFile(
    agent,
    [
      '#!/bin/bash',
      'cat > /dev/null',
      'echo hello > hello.txt',
      `if [ ! -e '${firstRun}' ]; then`,
      `  touch '${firstRun}'`,
      '  echo "waiting"',
      '  sleep 1000 &',
      `  echo "$$ $!" > '${pids}'`,
      '  wait',
      'fi',
      'echo "RALPH_GOAL_DONE: hello.txt is there"',
      '',
    ].join('\n'),
  );
  await chmod(agent, 0o755);
  const config = `export default ${JSON.stringify({ executor: { agent: { command: [agent] }, verify: 'test -f hello.txt' } })};\n`;
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': config });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const stateHome = await makeTempDir(t, 'ralph-state-');
  const env: NodeJS.ProcessEnv = { RALPH_PIPELINE: '', XDG_STATE_HOME: stateHome, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };

  const first = await startDaemon(t, repo, env);
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'crash-test', requestTimeoutMs: 10_000 });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const [leader, child] = await waitFor(
    async () => {
      const text = (await readFile(pids, 'utf8')).trim();
      return text.includes(' ') ? text.split(' ').map(Number) : undefined;
    },
    { timeoutMs: 15_000, message: 'the agent to start' },
  );
  t.after(() => {
    for (const pid of [leader!, child!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  await client.close();
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(alive(leader!) && alive(child!), 'the agent and its child outlive the killed daemon');

  await startDaemon(t, repo, env);
  await waitFor(() => !alive(leader!) && !alive(child!), { timeoutMs: 10_000, message: 'the orphaned agent to be killed' });
  const done = await waitFor(
    async () => {
      const parsed = Goal.parse(JSON.parse(await readFile(path.join(repo, '.ralph', 'goals', `${goal.id}.json`), 'utf8')));
      return parsed.state === 'done' || parsed.state === 'stuck' ? parsed : undefined;
    },
    { timeoutMs: 20_000, message: 'the goal to end' },
  );

  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  assert.deepEqual(
    (done.attempts[0]!.iterations as { number: number }[]).map((iteration) => iteration.number),
    [1],
  );
  const branch = `ralph/goal-${goal.id}`;
  assert.deepEqual(git(repo, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..${branch}`).split('\n').filter(Boolean), [
    `${goal.id}/1`,
  ]);
  assert.equal(git(repo, 'show', `${branch}:hello.txt`), 'hello');
});
