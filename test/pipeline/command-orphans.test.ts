/**
 * kill -9 of a real daemon process while a command runs outside the sandbox (`commands.sandbox:
 * 'off'`): first while the agent's run_command waits on a `sleep 1000` it started, with the
 * daemon's guard killed first, so the command's process group outlives the daemon (reparented to
 * init) and the next daemon kills it at start by its record, before the goal goes on; then while
 * the goal's check does, and the guard ends the check with the daemon. The goal ends done as a
 * recovered goal does.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { Goal } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, endpointFromFile, spawnDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { reply, UNPRICED_MODEL } from './executor-helpers.ts';
import { alive } from './external-agent-helpers.ts';

async function startDaemon(t: TestContext, repo: string, env: NodeJS.ProcessEnv) {
  const daemon = spawnDaemon(t, repo, 'background', env);
  const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; error?: string };
  assert.equal(ready.ready, true, `the daemon started (${ready.error ?? ''})`);
  return daemon;
}

/** The pids a script wrote once its `sleep 1000` runs: its shell's and the sleep's. */
function pidsIn(file: string): Promise<number[]> {
  return waitFor(
    async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      return /^\d+ \d+\n$/.test(text) ? text.trim().split(' ').map(Number) : undefined;
    },
    { timeoutMs: 20_000, message: `the pids in ${path.basename(file)}` },
  );
}

/** The daemon's guard (process-guard.ts): its child running the guard's script. */
function guardOf(daemonPid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === daemonPid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('declare -A groups')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

test('kill -9 while a command or the check sleeps, without the sandbox: the guard kills them with the daemon, or else the next daemon does; the goal ends done', async (t) => {
  const dir = await makeTempDir(t, 'ralph-orphans-');
  const commandPids = path.join(dir, 'command-pids');
  const checkPids = path.join(dir, 'check-pids');
  const firstCheck = path.join(dir, 'first-check');
  // The agent's command: a child that sleeps, waited for (the daemon is killed meanwhile).
  const command = path.join(dir, 'command.sh');
  await writeFile(command, `sleep 1000 &\necho "$$ $!" > '${commandPids}'\nwait\n`);
  // The check: the first time, it sleeps the same way; then it checks.
  const check = path.join(dir, 'check.sh');
  await writeFile(
    check,
    [
      `if [ ! -e '${firstCheck}' ]; then`,
      `  touch '${firstCheck}'`,
      '  sleep 1000 &',
      `  echo "$$ $!" > '${checkPids}'`,
      '  wait',
      'fi',
      'test -f hello.txt',
      '',
    ].join('\n'),
  );
  const config = `export default ${JSON.stringify({ executor: { commands: { sandbox: 'off' }, verify: `bash '${check}'` } })};\n`;
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': config });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const stateHome = await makeTempDir(t, 'ralph-state-');
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: '',
    XDG_STATE_HOME: stateHome,
  };
  server.script(
    // The first daemon is killed while this runs.
    reply.run(`bash '${command}'`),
    // The second runs the iteration again, and is killed during its check.
    reply.write('hello.txt', 'hello\n'),
    reply.done('hello.txt is written.'),
    // The third runs it once more.
    reply.done('hello.txt was already written.'),
  );
  const leftRunning: number[] = [];
  t.after(() => {
    for (const pid of leftRunning) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  // 1. The agent's command sleeps; the daemon dies.
  const first = await startDaemon(t, repo, env);
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'orphans-test', requestTimeoutMs: 10_000 });
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt', queue: true });
  await client.close();
  const commandProcesses = await pidsIn(commandPids);
  leftRunning.push(...commandProcesses);
  const guard = guardOf(first.child.pid!);
  assert.ok(guard, 'the daemon started its guard with the command');
  process.kill(guard, 'SIGKILL');
  await waitFor(() => !alive(guard), { message: 'the guard to be gone' });
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(commandProcesses.every(alive), 'without its guard, the command outlives the killed daemon (no sandbox to end it)');

  // 2. The next daemon kills it, and runs the iteration again; it dies while the check sleeps.
  const second = await startDaemon(t, repo, env);
  await waitFor(() => !commandProcesses.some(alive), { timeoutMs: 10_000, message: 'the orphaned command to be killed' });
  const checkProcesses = await pidsIn(checkPids);
  leftRunning.push(...checkProcesses);
  second.child.kill('SIGKILL');
  await second.exited;
  await waitFor(() => !checkProcesses.some(alive), { timeoutMs: 10_000, message: 'the guard to kill the check with its daemon' });

  // 3. The third finishes the goal.
  await startDaemon(t, repo, env);
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
  assert.equal(git(repo, 'show', `ralph/goal-${goal.id}:hello.txt`), 'hello');
  // Nothing is recorded once the goal is over: every record went with its command.
  assert.deepEqual(
    (await readdir(path.join(repo, '.ralph', 'processes'))).filter((name) => name !== '.gitignore'),
    [],
  );
});
