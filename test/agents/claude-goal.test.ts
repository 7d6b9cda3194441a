/**
 * A goal whose agent is Claude Code, run to done by a real daemon: the real CLI (installed once into
 * the shared cache) takes each iteration's turn in the goal's worktree against test/fake-anthropic,
 * and the harness commits, checks and logs around it as it does around Ralph's own agent.
 *
 * The CLI gets a fresh HOME through a wrapper the config names as its path (the daemon runs in this
 * process, whose HOME stays), and reaches nothing but the fake: the key and base URL come from the
 * daemon's environment, as a user's would (the backend's authEnv), and anything else goes to a
 * closed local port.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { EventBus } from '../../daemon/events/bus.ts';
import { DONE_MARKER } from '../../daemon/agent/external/backend.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import type { Goal } from '../../protocol/index.ts';
import { startFakeAnthropicForTest } from '../fake-anthropic/index.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

/** A `claude` that runs the real one with its own HOME and no way out but to 127.0.0.1. */
async function claudeWrapper(t: TestContext, env: Record<string, string> = {}): Promise<{ wrapper: string; home: string }> {
  const cli = await installAgentCli('claude');
  const dir = await makeTempDir(t, 'ralph-claude-');
  const home = path.join(dir, 'home');
  const wrapper = path.join(dir, 'claude');
  await writeFile(
    wrapper,
    [
      '#!/bin/sh',
      `mkdir -p '${home}'`,
      `export HOME='${home}' TMPDIR='${home}'`,
      "export HTTPS_PROXY='http://127.0.0.1:9' HTTP_PROXY='http://127.0.0.1:9' NO_PROXY='127.0.0.1,localhost'",
      ...Object.entries(env).map(([name, value]) => `export ${name}='${value}'`),
      `exec '${cli.bin}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(wrapper, 0o755);
  return { wrapper, home };
}

/** Sets variables of this process (the daemon's) for the test, as they were after it. */
function setEnv(t: TestContext, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    const before = process.env[name];
    process.env[name] = value;
    t.after(() => {
      if (before === undefined) delete process.env[name];
      else process.env[name] = before;
    });
  }
}

/** A daemon on a fresh repository (the config names the wrapper), and a goal with the agent claude run to its end. */
async function runClaudeGoal(t: TestContext, wrapper: string): Promise<{ repoRoot: string; goal: Goal; ended: Goal }> {
  const config = { executor: { agents: { claude: { path: wrapper } }, verify: 'grep -q "hello from claude" hello.txt' } };
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const { repoRoot, connect } = await startTestDaemon(t, repo, { configWatch: false, pipeline: { paused: false } });
  const client = await connect('claude-goal-test');
  const started = performance.now();
  const { goal } = await client.request('goal.create', { title: 'Write hello.txt saying hello', agent: 'claude', queue: true });
  const ended = await waitFor(
    async () => {
      const { goal: current } = await client.request('goal.get', { id: goal.id });
      return current.state === 'done' || current.state === 'stuck' ? current : undefined;
    },
    { timeoutMs: 60_000, message: `goal #${goal.id} to end` },
  );
  t.diagnostic(`goal ${ended.state} ${Math.round(performance.now() - started)} ms after it was created`);
  return { repoRoot, goal, ended };
}

test('a goal with the agent claude: Claude Code writes the file through Write, the check passes, the goal is done on its branch, the log shows the call', async (t) => {
  const server = await startFakeAnthropicForTest(t, { apiKey: 'sk-ant-goal-test' });
  setEnv(t, { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'sk-ant-goal-test' });
  const { wrapper } = await claudeWrapper(t);
  server.script(
    { text: 'I will write hello.txt.', toolUses: [{ name: 'Write', input: { file_path: 'hello.txt', content: 'hello from claude\n' } }] },
    { text: `Wrote hello.txt.\n${DONE_MARKER}: hello.txt says hello` },
  );

  const { repoRoot, goal, ended: done } = await runClaudeGoal(t, wrapper);

  assert.equal(done.state, 'done', JSON.stringify(done.history.at(-1)));
  const branch = `ralph/goal-${goal.id}`;
  assert.equal(git(repoRoot, 'show', `${branch}:hello.txt`), 'hello from claude');
  assert.deepEqual(
    git(repoRoot, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..${branch}`).split('\n').filter(Boolean),
    [`${goal.id}/1`],
  );
  const iteration = done.attempts[0]!.iterations[0]!;
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'hello.txt says hello');
  assert.ok(done.usage.inputTokens > 0 && done.usage.calls > 0, JSON.stringify(done.usage));

  const log = (await new GoalLog(repoRoot, new EventBus()).read(goal.id)).entries;
  const tool = log.find((entry) => entry.kind === 'tool');
  assert.equal(tool?.text, 'Write hello.txt');
  assert.equal(tool?.ok, true);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'I will write hello.txt.'));
  assert.ok(log.some((entry) => entry.kind === 'check' && entry.ok === true));

  // Claude Code was asked twice (the Write, then the answer to its result), with the key from the daemon's environment.
  assert.deepEqual(
    server.requests.map((record) => [record.path, record.status]),
    [
      ['/v1/messages', 200],
      ['/v1/messages', 200],
    ],
  );
  const prompt = JSON.stringify(server.requests[0]?.body);
  assert.match(prompt, /Write hello\.txt saying hello/);
  assert.match(prompt, new RegExp(DONE_MARKER));
  assert.equal(await readFile(path.join(repoRoot, 'README.md'), 'utf8'), '# test repo\n', 'main’s checkout is untouched');
});

test('a goal with the agent claude and a key the API rejects: stuck saying how Claude Code logs in, no iteration counted', async (t) => {
  const server = await startFakeAnthropicForTest(t, { apiKey: 'sk-ant-right' });
  setEnv(t, { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'sk-ant-wrong' });
  // Claude Code retries even a 401 for minutes before it gives up; the test does not wait for that.
  const { wrapper } = await claudeWrapper(t, { CLAUDE_CODE_MAX_RETRIES: '0' });
  const { goal, ended } = await runClaudeGoal(t, wrapper);

  assert.equal(ended.state, 'stuck');
  assert.match(ended.history.at(-1)?.note ?? '', /^Claude Code is not logged in: ANTHROPIC_API_KEY \(or claude login\)/);
  assert.deepEqual(ended.attempts[0]?.iterations ?? [], [], 'the iteration is not counted');
  assert.ok(server.requests.length > 0 && server.requests.every((record) => record.status === 401));
  assert.ok(!JSON.stringify(ended).includes('sk-ant-wrong'), 'the key is not in the goal');
  assert.equal(goal.agent, 'claude');
});
