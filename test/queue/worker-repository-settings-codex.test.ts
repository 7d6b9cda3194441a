/**
 * On a queue worker, Codex takes the worktree as an untrusted project, as the other agent CLIs load
 * none of the repository's settings there (worker-repository-settings.test.ts says why): on real
 * parts, a private Redis, a `ralph worker` process, the real Codex on the worker's PATH against its
 * own test/fake-openai, and a repository whose `.codex/config.toml` starts an MCP server (a
 * command) that writes a marker, where the machine's own Codex config trusts the worktree as a
 * project. Started with `--allow-commands`, the worker runs it as the developer's machine would:
 * the MCP server starts (the test can fail).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { DONE_MARKER } from '../../daemon/agent/external/backend.ts';
import { repoWorktreesFolder } from '../../daemon/pipeline/workspace.ts';
import { queueNameOf } from '../../daemon/queue/queue.ts';
import { startFakeOpenAIForTest } from '../fake-openai/fixtures.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { CODEX_TEST_KEY, makeCodexHome } from '../helpers/codex-home.ts';
import { git, makeTempDir } from '../helpers/repo.ts';
import { startQueue, startWorkerProcess } from './queue-helpers.ts';

const CODEX_PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n';

/**
 * A queue whose repository's `.codex/config.toml` starts an MCP server that writes a marker, a goal
 * in it, and a worker with Codex whose own config trusts the goal's worktree on the worker (and
 * the worker's clone) as a project, as `codex --trust` run there once would.
 */
async function setUpCodex(t: TestContext, args: string[]) {
  const cli = await installAgentCli('codex');
  const server = await startFakeOpenAIForTest(t, { apiKey: CODEX_TEST_KEY });
  server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { text: 'Adding hello.txt.', toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: CODEX_PATCH }] }
      : { text: `The file is there.\n${DONE_MARKER}: wrote hello.txt` },
  );
  const bin = await makeTempDir(t, 'ralph-codex-bin-');
  await symlink(cli.bin, path.join(bin, 'codex'));
  const { env, codexHome } = await makeCodexHome(t, { baseUrl: server.url, pathDirs: [bin] });
  const markers = await makeTempDir(t, 'ralph-markers-');

  const queue = await startQueue(t, {
    executor: {
      agent: 'codex',
      agents: { codex: { args: [], permissions: 'workspace' as const } },
      verify: 'grep -q "hello from codex" hello.txt',
    },
  });
  await mkdir(path.join(queue.repoRoot, '.codex'));
  const mcp = `touch '${path.join(markers, 'mcp-server')}'`;
  await writeFile(
    path.join(queue.repoRoot, '.codex', 'config.toml'),
    `[mcp_servers.repository]\ncommand = "sh"\nargs = ["-c", ${JSON.stringify(mcp)}]\n`,
  );
  git(queue.repoRoot, 'add', '.codex');
  git(queue.repoRoot, 'commit', '--quiet', '-m', 'Codex config of the repository');
  const goal = await queue.addGoal('Write hello.txt saying hello');

  // Where the worker will clone the repository and lay out the goal's worktree (worker.ts, workspace.ts).
  const workerDir = path.join(await realpath(queue.scratch), 'worker-w1');
  const clone = path.join(workerDir, queueNameOf(git(queue.repoRoot, 'rev-list', '--max-parents=0', 'HEAD')), 'repo');
  const worktree = path.join(repoWorktreesFolder(path.join(workerDir, 'worktrees'), clone), `goal-${goal.id}`);
  const trusted = [clone, worktree].map((folder) => `[projects.${JSON.stringify(folder)}]\ntrust_level = "trusted"\n`);
  await appendFile(path.join(codexHome, 'config.toml'), `\n${trusted.join('\n')}`);

  const { HOME: _home, ...codexEnv } = env;
  await startWorkerProcess(t, {
    name: 'w1',
    url: queue.redis.url,
    scratch: queue.scratch,
    modelUrl: queue.server.url,
    args,
    env: codexEnv,
  });
  return { server, markers, queue, goal, worktree };
}

test('on a worker, Codex takes the worktree as an untrusted project whatever the machine’s config trusts: the repository’s MCP server never starts', async (t) => {
  const { server, markers, queue, goal, worktree } = await setUpCodex(t, []);
  const done = await queue.waitForState(goal.id, ['done', 'stuck'], 60_000);

  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  assert.equal(git(queue.remote, 'show', `ralph/goal-${goal.id}:hello.txt`), 'hello from codex');
  assert.ok(server.requests.length >= 2);
  assert.ok(existsSync(worktree), `the worktree the machine trusts is where the goal ran: ${worktree}`);
  assert.deepEqual(await readdir(markers), [], 'the repository’s MCP server did not start');
});

test('on a worker started with --allow-commands, a repository the machine’s Codex config trusts starts its MCP server, as on the developer’s machine', async (t) => {
  const { markers, queue, goal } = await setUpCodex(t, ['--allow-commands']);
  const done = await queue.waitForState(goal.id, ['done', 'stuck'], 60_000);

  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  assert.deepEqual(await readdir(markers), ['mcp-server']);
});
