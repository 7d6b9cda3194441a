/**
 * The generic `command` agent backend in a real daemon: small scripts (real processes) take each
 * iteration's turn in the goal's real worktree; the harness commits, checks, bounds, cancels and
 * logs around them as it does around Ralph's own agent.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Iteration, LogEntry } from '../../protocol/index.ts';
import { recordEvents } from '../helpers/events.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { alive, daemonWithAgent, ended, logOf, script, trailers } from './external-agent-helpers.ts';

test('a command agent that writes a file and says done: the check passes, the goal is done, its lines are in the log', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    [
      'prompt=$(cat)',
      // The prompt comes on stdin and in the file RALPH_PROMPT_FILE names, outside the worktree.
      'cmp -s <(printf "%s" "$prompt") "$RALPH_PROMPT_FILE" || { echo "the prompt file differs" >&2; exit 3; }',
      'case "$RALPH_PROMPT_FILE" in "$PWD"/*) exit 4;; esac',
      'grep -q "Write hello" <<<"$prompt" || exit 5',
      'echo "writing hello.txt"',
      'echo hello > hello.txt',
      'echo "RALPH_GOAL_DONE: wrote hello.txt"',
    ].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent] });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const done = await ended(client, goal.id);

  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  assert.equal(git(repoRoot, 'show', `ralph/goal-${goal.id}:hello.txt`), 'hello');
  assert.deepEqual(trailers(repoRoot, `ralph/goal-${goal.id}`), [`${goal.id}/1`]);
  const iteration = done.attempts[0]!.iterations[0]!;
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'wrote hello.txt');
  const log = await logOf(repoRoot, goal.id);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'writing hello.txt'));
  assert.ok(log.some((entry) => entry.kind === 'check' && entry.ok === true));
  assert.ok(log.some((entry) => entry.kind === 'decision' && entry.text === 'done: command said RALPH_GOAL_DONE and the check passes'));
  // Nothing of the run is left behind in .ralph/agents (the record and the prompt file go with it).
  assert.deepEqual(
    (await readdir(path.join(repoRoot, '.ralph', 'agents'))).filter((name) => name !== '.gitignore'),
    [],
  );
  assert.doesNotMatch(git(repoRoot, 'status', '--porcelain', '--untracked-files=all'), /agents/, 'the agents folder ignores itself');
});

test('a command agent that never says done: stuck on the iteration bound, each iteration committed', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    ['cat > /dev/null', 'echo hello > hello.txt', 'date +%s%N >> progress.txt', 'echo "one more step"'].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent] }, { maxIterations: 2 });
  const { goal } = await client.request('goal.create', { title: 'Never done', queue: true });
  const stuck = await ended(client, goal.id);

  assert.equal(stuck.state, 'stuck');
  assert.match(stuck.history.at(-1)?.note ?? '', /iteration/);
  assert.deepEqual(
    (stuck.attempts[0]!.iterations as Iteration[]).map((iteration) => [iteration.number, iteration.doneClaimed, iteration.check?.ok]),
    [
      [1, false, true],
      [2, false, true],
    ],
  );
  assert.deepEqual(trailers(repoRoot, `ralph/goal-${goal.id}`), [`${goal.id}/2`, `${goal.id}/1`]);
});

test('a stream-json agent: its tool calls, usage and words become log entries, its usage the goal’s', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const events = [
    { type: 'text', text: 'I will write hello.txt.' },
    { type: 'tool.start', id: 't1', name: 'Write', summary: 'Write hello.txt' },
    { type: 'tool.end', id: 't1', name: 'Write', summary: 'Write hello.txt', ok: true },
    // A CLI that reports a call only once it has ended.
    { type: 'tool.end', id: 't2', name: 'Bash', summary: 'Bash cat hello.txt', ok: false, output: 'cat: hello.txt: denied' },
    { type: 'usage', model: 'scripted-model', usage: { inputTokens: 1200, cachedInputTokens: 200, outputTokens: 34 }, costUsd: 0.0125 },
    { type: 'result', text: 'Wrote it.\nRALPH_GOAL_DONE: hello.txt is written', ok: true },
  ];
  const agent = await script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      `echo '${JSON.stringify(events[0])}'`,
      `echo '${JSON.stringify(events[1])}'`,
      'echo hello > hello.txt',
      `echo '${JSON.stringify(events[2])}'`,
      `echo '${JSON.stringify(events[3])}'`,
      'echo "this line is not JSON"',
      `echo '${JSON.stringify(events[4])}'`,
      `echo '${JSON.stringify(events[5])}'`,
    ].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent], output: 'stream-json' });
  const received = recordEvents(client);
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const done = await ended(client, goal.id);

  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  const log = await logOf(repoRoot, goal.id);
  const progress = received.flatMap((event) =>
    event.type === 'progress.report' && event.data.token === `goal:${goal.id}:1` && event.data.done !== undefined
      ? [[event.data.done, event.data.message]]
      : [],
  );
  assert.deepEqual(progress.slice(0, 3), [
    [0, 'agent.sh is working'],
    [1, 'Write hello.txt'],
    [2, 'Bash cat hello.txt'],
  ]);
  const failed = log.find((entry) => entry.kind === 'tool' && entry.text === 'Bash cat hello.txt: failed') as
    | (LogEntry & { output?: unknown })
    | undefined;
  assert.equal(failed?.output, 'cat: hello.txt: denied');
  assert.deepEqual(done.usage, { inputTokens: 1200, cachedInputTokens: 200, outputTokens: 34, calls: 1, costUsd: 0.0125 });
  assert.equal(done.attempts[0]!.iterations[0]!.summary, 'hello.txt is written');
  const tool = log.find((entry) => entry.kind === 'tool') as (LogEntry & { ok?: unknown }) | undefined;
  assert.equal(tool?.text, 'Write hello.txt');
  assert.equal(tool?.ok, true);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'I will write hello.txt.'));
  assert.ok(
    log.some((entry) => entry.kind === 'model' && /^scripted-model: 1,200 tokens in \(200 cached\), 34 out, \$0\.0125$/.test(entry.text)),
  );
  assert.ok(log.some((entry) => entry.kind === 'warning' && entry.text.includes('this line is not JSON')));
});

test('cancel while a command agent runs: it and the child in its group are gone within 2 s', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const pids = path.join(dir, 'pids');
  const agent = await script(
    dir,
    'agent.sh',
    ['cat > /dev/null', 'echo "starting"', 'sleep 1000 &', `echo "$$ $!" > ${pids}`, 'wait'].join('\n'),
  );
  const { client } = await daemonWithAgent(t, { command: [agent] });
  const { goal } = await client.request('goal.create', { title: 'Run long', queue: true });
  const [leader, child] = await waitFor(
    async () => {
      const text = (await readFile(pids, 'utf8')).trim();
      return text.includes(' ') ? text.split(' ').map(Number) : undefined;
    },
    { message: 'the agent to start' },
  );
  assert.ok(alive(leader!) && alive(child!), 'both run before the cancel');
  t.after(() => {
    for (const pid of [leader!, child!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  const cancelled = Date.now();
  await client.request('goal.cancel', { id: goal.id });
  await waitFor(() => !alive(leader!) && !alive(child!), { timeoutMs: 2000, message: 'the agent and its child to be gone' });
  t.diagnostic(`gone ${Date.now() - cancelled} ms after the cancel`);
  assert.equal((await client.request('goal.get', { id: goal.id })).goal.state, 'cancelled');
});

test('the daemon stopping while a command agent runs: the agent is gone, the goal queued again, no record left', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const pids = path.join(dir, 'pids');
  const agent = await script(dir, 'agent.sh', ['cat > /dev/null', 'sleep 1000 &', `echo "$$ $!" > ${pids}`, 'wait'].join('\n'));
  const { client, daemon, repoRoot } = await daemonWithAgent(t, { command: [agent] });
  const { goal } = await client.request('goal.create', { title: 'Run long', queue: true });
  const [leader, child] = await waitFor(
    async () => {
      const text = (await readFile(pids, 'utf8')).trim();
      return text.includes(' ') ? text.split(' ').map(Number) : undefined;
    },
    { message: 'the agent to start' },
  );
  t.after(() => {
    for (const pid of [leader!, child!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.ok((await readdir(path.join(repoRoot, '.ralph', 'agents'))).includes(`${goal.id}.json`), 'the running agent is recorded');

  await daemon.stop('test stops it');
  assert.equal(alive(leader!) || alive(child!), false);
  assert.deepEqual(
    (await readdir(path.join(repoRoot, '.ralph', 'agents'))).filter((name) => name !== '.gitignore'),
    [],
  );
  const file = JSON.parse(await readFile(path.join(repoRoot, '.ralph', 'goals', `${goal.id}.json`), 'utf8')) as { state: string };
  assert.equal(file.state, 'queued');
});

test('a command that is not installed: stuck saying so, no iteration burned', async (t) => {
  const { client } = await daemonWithAgent(t, { command: ['ralph-no-such-agent-cli', '--headless'] });
  const { goal } = await client.request('goal.create', { title: 'Nothing runs', queue: true });
  const stuck = await ended(client, goal.id);
  assert.equal(stuck.state, 'stuck');
  assert.match(
    stuck.history.at(-1)?.note ?? '',
    /^ralph-no-such-agent-cli is not installed \(ralph-no-such-agent-cli not found\): check executor\.agent\.command/,
  );
  assert.deepEqual(stuck.attempts[0]!.iterations, []);
});

test('an agent that commits itself: its commit is kept, the iteration’s trailer commit follows it, once', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const agent = await script(
    dir,
    'agent.sh',
    [
      'cat > /dev/null',
      'echo hello > hello.txt',
      'git add hello.txt',
      'git -c user.name=Agent -c user.email=agent@ralph.invalid commit -q -m "agent: hello"',
      'echo "RALPH_GOAL_DONE: committed hello.txt"',
    ].join('\n'),
  );
  const { client, repoRoot } = await daemonWithAgent(t, { command: [agent] });
  const { goal } = await client.request('goal.create', { title: 'Write hello', queue: true });
  const done = await ended(client, goal.id);

  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  const branch = `ralph/goal-${goal.id}`;
  assert.deepEqual(git(repoRoot, 'log', '--format=%s', `main..${branch}`).split('\n'), [
    `Ralph iteration 1 of goal #${goal.id}: committed hello.txt`,
    'agent: hello',
  ]);
  assert.deepEqual(trailers(repoRoot, branch), [`${goal.id}/1`]);
  assert.equal(done.attempts[0]!.iterations[0]!.commit, git(repoRoot, 'rev-parse', branch));
  assert.equal(git(repoRoot, 'show', `${branch}:hello.txt`), 'hello');
});
