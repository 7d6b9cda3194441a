/**
 * A goal run to done by the real Gemini CLI in a real daemon: the config names `gemini` as the
 * agent, Gemini CLI (installed once into the shared cache) works in the goal's worktree against
 * test/fake-gemini from a fresh home, and the harness commits, checks and logs around it as it does
 * around Ralph's own agent.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { DONE_MARKER } from '../../daemon/agent/external/backend.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import type { Goal } from '../../protocol/index.ts';
import { startFakeGemini } from '../fake-gemini/server.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { GEMINI_TEST_MODEL, makeGeminiHome } from '../helpers/gemini-home.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

test('a goal with agent gemini: Gemini CLI writes the file with write_file, the check passes, the goal is done on its branch', async (t) => {
  const cli = await installAgentCli('gemini');
  const server = await startFakeGemini({
    scenario: (request) =>
      request.functionResponses.length === 0
        ? {
            text: 'Adding notes/hello.txt.',
            functionCalls: [{ name: 'write_file', args: { file_path: 'notes/hello.txt', content: 'hello from gemini\n' } }],
          }
        : { text: `The file is there.\n${DONE_MARKER}: wrote notes/hello.txt` },
  });
  t.after(() => server.close());
  const { env } = await makeGeminiHome(t, { baseUrl: server.url });
  // The daemon gives its agents this process's environment (without secrets but those the backend
  // names): Gemini CLI finds its home (GEMINI_CLI_HOME), key, base URL, temp folder and closed
  // proxies there. HOME stays: the daemon's git needs it.
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
      agent: 'gemini',
      agents: { gemini: { path: cli.bin, model: GEMINI_TEST_MODEL } },
      verify: 'grep -q "hello from gemini" notes/hello.txt',
    },
  };
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const { connect, repoRoot } = await startTestDaemon(t, repo, { configWatch: false, pipeline: { paused: false } });
  const client = await connect('gemini-goal-test');

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
  assert.equal(git(repoRoot, 'show', `ralph/goal-${goal.id}:notes/hello.txt`), 'hello from gemini');
  const trailers = git(repoRoot, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..ralph/goal-${goal.id}`);
  assert.deepEqual(trailers.split('\n').filter(Boolean), [`${goal.id}/1`], 'one iteration commit on the goal branch');
  const iteration = done.attempts[0]!.iterations[0]!;
  assert.equal(iteration.doneClaimed, true);
  assert.equal(iteration.summary, 'wrote notes/hello.txt');
  assert.ok(done.usage.inputTokens > 0 && done.usage.outputTokens > 0, 'its totals are the goal’s usage');

  const tool = log.find((entry) => entry.kind === 'tool');
  assert.equal(tool?.text, 'write_file notes/hello.txt');
  assert.equal(tool?.ok, true);
  assert.ok(log.some((entry) => entry.kind === 'model' && entry.text === 'Adding notes/hello.txt.'));
  assert.ok(log.some((entry) => entry.kind === 'check' && entry.ok === true));
  assert.equal(server.modelRequests().length, 2);
});
