/**
 * Agent CLIs on queue workers, on real parts (a private Redis, a bare repository as the remote,
 * each worker a `ralph worker` process): the generic command backend runs a goal to done on a
 * worker, and no agent outlives a worker killed with -9 on its machine: the worker's guard ends
 * it at once, and a worker started on the same folder ends what a guard killed too left.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cliEnv, ralph } from '../helpers/cli.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { iterationsOf } from '../pipeline/executor-helpers.ts';
import { alive, script } from '../pipeline/external-agent-helpers.ts';
import { startQueue } from './queue-helpers.ts';

const COMMANDS = { allow: [], deny: [], timeoutSeconds: 300, outputLimitBytes: 65_536, sandbox: 'off' as const };
/** These goals' command agents run outside the sandbox: their workers allow both (worker-floor.ts). */
const TRUSTED = ['--allow-commands', '--allow-sandbox-off'];

test('a goal whose agent is a command runs on a worker to done: its file on the remote branch, its lines in the log with the worker’s name', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    [
      'prompt=$(cat)',
      'grep -q "Write hello" <<<"$prompt" || exit 5',
      'echo "writing hello.txt"',
      'echo hello > hello.txt',
      'echo "RALPH_GOAL_DONE: wrote hello.txt"',
    ].join('\n'),
  );
  const queue = await startQueue(t, {
    executor: { agent: { command: [agent], output: 'text' as const }, verify: 'test -f hello.txt', commands: COMMANDS },
  });
  await queue.startWorker('w1', TRUSTED);
  const goal = await queue.addGoal('Write hello');
  const done = await queue.waitForState(goal.id, ['done', 'stuck'], 20_000);
  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  assert.equal(git(queue.remote, 'show', `ralph/goal-${goal.id}:hello.txt`), 'hello');
  assert.equal(git(queue.repoRoot, 'show', `ralph/goal-${goal.id}:hello.txt`), 'hello', 'the daemon fetched the commit');
  const log = await queue.logOf(goal.id);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'writing hello.txt' && entry.worker === 'w1'));
  assert.ok(log.some((entry) => entry.kind === 'decision' && entry.text === 'done: command said RALPH_GOAL_DONE and the check passes'));

  // The folder is this worker's: its clones, worktrees and agents' records are its own.
  const second = await ralph(['worker', '--queue', queue.redis.url, '--dir', path.join(queue.scratch, 'worker-w1')], {
    cwd: queue.scratch,
    env: cliEnv({ HOME: path.join(queue.scratch, 'home-second') }),
  });
  assert.equal(second.code, 1, second.stdout);
  assert.match(second.stderr, /another ralph worker \(pid \d+\) uses .*worker-w1: give each worker a folder of its own \(--dir\)/);
});

/**
 * A command agent whose first `runs` runs each start `sleep 1000` in their group and wait (writing
 * both pids to `pids-<n>`), and whose next run says done: the goal ends once a worker runs it again.
 */
async function sleepingAgent(dir: string, runs: number): Promise<string> {
  return script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      `n=$(ls ${dir} | grep -c '^pids-')`,
      `if [ "$n" -ge ${runs} ]; then echo hello > hello.txt; echo "RALPH_GOAL_DONE: run $((n + 1))"; exit 0; fi`,
      'echo "starting"',
      'sleep 1000 &',
      `echo "$$ $!" > ${dir}/tmp-pids && mv ${dir}/tmp-pids ${dir}/pids-$((n + 1))`,
      'wait',
    ].join('\n'),
  );
}

async function agentPids(dir: string, run: number): Promise<number[]> {
  return waitFor(
    async () => {
      const text = await readFile(path.join(dir, `pids-${run}`), 'utf8').catch(() => '');
      return text.trim() ? text.trim().split(' ').map(Number) : undefined;
    },
    { timeoutMs: 20_000, message: 'the agent to start on the worker' },
  );
}

/** The pids of the processes whose command line holds every one of `parts` (from /proc). */
async function processesWith(...parts: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (parts.every((part) => args.includes(part))) found.push(Number(name));
  }
  return found;
}

async function agentRecords(workerDir: string): Promise<string[]> {
  const records: string[] = [];
  for (const queue of await readdir(workerDir, { withFileTypes: true })) {
    if (!queue.isDirectory()) continue;
    const folder = path.join(workerDir, queue.name, 'repo', '.ralph', 'agents');
    for (const name of await readdir(folder).catch(() => [])) if (name.endsWith('.json')) records.push(name);
  }
  return records;
}

test("kill -9 a worker while its command agent runs: its guard ends the agent's group at once; killed with its guard, the next worker on the folder ends it first", async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await sleepingAgent(dir, 2);
  const queue = await startQueue(t, {
    executor: { agent: { command: [agent], output: 'text' as const }, verify: 'test -f hello.txt', commands: COMMANDS },
  });
  const workerDir = path.join(queue.scratch, 'worker-w1');
  const killLater = (pids: number[]): void =>
    t.after(() => {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });

  // The worker killed outright: its guard ends the agent and its sleep, no worker running meanwhile.
  const first = await queue.startWorker('w1', TRUSTED);
  const goal = await queue.addGoal('Sleep then write hello');
  const run1 = await agentPids(dir, 1);
  killLater(run1);
  assert.ok(run1.every(alive), 'the agent and its sleep run');
  assert.deepEqual(await agentRecords(workerDir), [`${goal.id}.json`], 'the worker records its running agent');
  const killed = Date.now();
  first.signal('SIGKILL');
  await first.done;
  await waitFor(async () => !run1.some(alive) && (await agentRecords(workerDir)).length === 0, {
    timeoutMs: 10_000,
    message: 'the agent and its sleep to be gone, and its record with them',
  });
  t.diagnostic(`the guard ended the agent ${Date.now() - killed} ms after the worker was killed`);

  // The next worker on the folder takes the attempt over; this time its guard is killed first.
  const second = await queue.startWorker('w1', TRUSTED);
  const run2 = await agentPids(dir, 2);
  killLater(run2);
  const [guard] = await waitFor(async () => {
    const pids = await processesWith('--guard', workerDir);
    return pids.length > 0 ? pids : undefined;
  });
  process.kill(guard!, 'SIGKILL');
  second.signal('SIGKILL');
  await second.done;
  assert.ok(run2.every(alive), "the dead worker's agent runs on");

  // A worker started on the folder ends it before it takes any job, then finishes the goal.
  const third = await queue.startWorker('w1', TRUSTED);
  assert.ok(!run2.some(alive), 'gone once the worker has started');
  assert.match(third.stdout(), new RegExp(`goal #${goal.id}: killed the agent a stopped daemon or worker left running`));
  const done = await queue.waitForState(goal.id, ['done', 'stuck'], 20_000);
  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  assert.deepEqual(await agentRecords(workerDir), []);
});

test('a worker stopped with Ctrl+C while its agent runs ends the agent, exits, and hands the attempt back for another worker to finish', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await sleepingAgent(dir, 1);
  const queue = await startQueue(t, {
    executor: { agent: { command: [agent], output: 'text' as const }, verify: 'test -f hello.txt', commands: COMMANDS },
  });
  const first = await queue.startWorker('w1', TRUSTED);
  const goal = await queue.addGoal('Sleep then write hello');
  const run1 = await agentPids(dir, 1);
  t.after(() => {
    for (const pid of run1) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  const interrupted = Date.now();
  first.signal('SIGINT');
  const exited = await first.done;
  t.diagnostic(`the worker exited ${Date.now() - interrupted} ms after Ctrl+C`);
  assert.equal(exited.code, 0, exited.stderr);
  assert.ok(!run1.some(alive), 'its agent and the sleep are gone');

  await queue.startWorker('w2', TRUSTED);
  const done = await queue.waitForState(goal.id, ['done', 'stuck'], 20_000);
  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  const texts = (await queue.logOf(goal.id)).filter((entry) => entry.kind === 'decision').map((entry) => `${entry.worker}: ${entry.text}`);
  const handedBack = texts.indexOf('w1: worker w1 stops: the attempt goes back to the queue for another worker');
  assert.ok(handedBack >= 0, texts.join('\n'));
  // Handed back, not taken from a worker that stopped answering.
  assert.ok(texts.indexOf('w2: worker w2 runs attempt 1') > handedBack, texts.join('\n'));
  assert.equal(iterationsOf(done).length, 1, 'the stopped turn ran again once, on the next worker');
});
