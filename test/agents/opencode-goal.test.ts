/**
 * A goal run to done by the real OpenCode CLI in a real daemon: the config names `opencode` as the
 * agent, OpenCode (installed once into the shared cache) works in the goal's worktree against
 * test/fake-openai's Chat Completions from a fresh home, and the harness commits, checks and logs
 * around it as it does around Ralph's own agent.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { DONE_MARKER } from '../../daemon/agent/external/backend.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import type { Goal } from '../../protocol/index.ts';
import { startFakeOpenAIForTest } from '../fake-openai/fixtures.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeOpencodeHome, OPENCODE_TEST_KEY, OPENCODE_TEST_MODEL } from '../helpers/opencode-home.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

test('a goal with agent opencode: OpenCode writes the file with its write tool, the check passes, the goal is done on its branch', async (t) => {
  const cli = await installAgentCli('opencode');
  const server = await startFakeOpenAIForTest(t, { apiKey: OPENCODE_TEST_KEY });
  server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? {
          text: 'Adding notes/hello.txt.',
          toolCalls: [{ name: 'write', arguments: { filePath: 'notes/hello.txt', content: 'hello from opencode\n' } }],
        }
      : { text: `The file is there.\n${DONE_MARKER}: wrote notes/hello.txt` },
  );
  const { env } = await makeOpencodeHome(t, { baseUrl: server.url });
  // The daemon gives its agents this process's environment (without secrets but those the backend
  // names): OpenCode finds its folders (XDG_*), config, temp folder and closed proxies there. HOME
  // stays: the daemon's git needs it.
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
      agent: 'opencode',
      agents: { opencode: { path: cli.bin, model: OPENCODE_TEST_MODEL } },
      verify: 'grep -q "hello from opencode" notes/hello.txt',
    },
  };
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const { connect, repoRoot } = await startTestDaemon(t, repo, { configWatch: false, pipeline: { paused: false } });
  const client = await connect('opencode-goal-test');

  const { goal } = await client.request('goal.create', { title: 'Write notes/hello.txt', queue: true });
  const done = await waitFor(
    async () => {
      const { goal: now } = await client.request('goal.get', { id: goal.id });
      return now.state === 'done' || now.state === 'stuck' ? now : undefined;
    },
    { timeoutMs: 60_000, message: `goal #${goal.id} to end` },
  );

  const log = (await new GoalLog(repoRoot, new EventBus()).read(goal.id)).entries;
  // On failure: how it ended and what the log says (the agent's calls, the commit, the check).
  const told = log.filter((entry) => ['tool', 'commit', 'check', 'warning'].includes(entry.kind)).map((entry) => entry.text);
  assert.equal(done.state, 'done', JSON.stringify({ end: (done as Goal).history.at(-1), log: told }));
  assert.equal(git(repoRoot, 'show', `ralph/goal-${goal.id}:notes/hello.txt`), 'hello from opencode');
  const trailers = git(repoRoot, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..ralph/goal-${goal.id}`);
  assert.deepEqual(trailers.split('\n').filter(Boolean), [`${goal.id}/1`], 'one iteration commit on the goal branch');
  const iteration = done.attempts[0]!.iterations[0]!;
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'wrote notes/hello.txt');
  assert.ok(done.usage.inputTokens > 0 && done.usage.outputTokens > 0, 'its model calls’ usage is the goal’s');

  const tool = log.find((entry) => entry.kind === 'tool');
  assert.equal(tool?.text, 'write notes/hello.txt');
  assert.equal(tool?.ok, true);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'Adding notes/hello.txt.'));
  assert.ok(log.some((entry) => entry.kind === 'check' && entry.ok === true));
  assert.equal(server.modelRequests().length, 2);
  assert.ok(server.requests.every((record) => record.api === 'chat'));
});
