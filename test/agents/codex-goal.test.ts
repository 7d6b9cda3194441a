/**
 * A goal run to done by the real Codex CLI in a real daemon: the config names `codex` as the agent,
 * Codex (installed once into the shared cache) works in the goal's worktree against
 * test/fake-openai's Responses API from a fresh CODEX_HOME, and the harness commits, checks and
 * logs around it as it does around Ralph's own agent.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import type { Goal } from '../../protocol/index.ts';
import { DONE_MARKER } from '../../daemon/agent/external/backend.ts';
import { startFakeOpenAIForTest } from '../fake-openai/fixtures.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { CODEX_TEST_KEY, makeCodexHome } from '../helpers/codex-home.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

const PATCH = '*** Begin Patch\n*** Add File: notes/hello.txt\n+hello from codex\n*** End Patch\n';

test('a goal with agent codex: Codex writes the file with apply_patch, the check passes, the goal is done on its branch', async (t) => {
  const cli = await installAgentCli('codex');
  const server = await startFakeOpenAIForTest(t, { apiKey: CODEX_TEST_KEY });
  server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { text: 'Adding notes/hello.txt.', toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: PATCH }] }
      : { text: `The file is there.\n${DONE_MARKER}: wrote notes/hello.txt` },
  );
  const { env } = await makeCodexHome(t, { baseUrl: server.url });
  // The daemon gives its agents this process's environment (without secrets but those the backend
  // names): Codex finds its home, key, temp folder and closed proxies there.
  const saved = { ...process.env };
  t.after(() => {
    for (const name of Object.keys(env)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  for (const [name, value] of Object.entries(env)) if (name !== 'PATH' && name !== 'HOME') process.env[name] = value;

  const config = {
    executor: {
      agent: 'codex',
      agents: { codex: { path: cli.bin, model: 'gpt-5.5' } },
      verify: 'grep -q "hello from codex" notes/hello.txt',
    },
  };
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const { connect, repoRoot } = await startTestDaemon(t, repo, { configWatch: false, pipeline: { paused: false } });
  const client = await connect('codex-goal-test');

  const { goal } = await client.request('goal.create', { title: 'Write notes/hello.txt', queue: true });
  const done = await waitFor(
    async () => {
      const { goal: now } = await client.request('goal.get', { id: goal.id });
      return now.state === 'done' || now.state === 'stuck' ? now : undefined;
    },
    { timeoutMs: 60_000, message: `goal #${goal.id} to end` },
  );

  assert.equal(done.state, 'done', JSON.stringify((done as Goal).history.at(-1)));
  assert.equal(git(repoRoot, 'show', `ralph/goal-${goal.id}:notes/hello.txt`), 'hello from codex');
  const trailers = git(repoRoot, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..ralph/goal-${goal.id}`);
  assert.deepEqual(trailers.split('\n').filter(Boolean), [`${goal.id}/1`], 'one iteration commit on the goal branch');
  const iteration = done.attempts[0]!.iterations[0]!;
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'wrote notes/hello.txt');
  assert.ok(done.usage.inputTokens > 0 && done.usage.outputTokens > 0, 'the turn’s usage is the goal’s');

  const log = (await new GoalLog(repoRoot, new EventBus()).read(goal.id)).entries;
  const tool = log.find((entry) => entry.kind === 'tool');
  assert.equal(tool?.text, 'add notes/hello.txt');
  assert.equal(tool?.ok, true);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'Adding notes/hello.txt.'));
  assert.ok(log.some((entry) => entry.kind === 'check' && entry.ok === true));
  assert.equal(server.modelRequests().length, 2);
  assert.ok(server.requests.every((record) => record.api === 'responses'));
});
