/**
 * A `ralph` started with GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE pointing at another repository
 * (as git sets them for its hooks and aliases) works on the repository of its folder all the same:
 * the command line finds it, the daemon serves it, the watcher follows its branch, the file tools
 * list and search it as git sees it, a goal commits in its own worktree, and neither the agent's commands nor the
 * check inherit the variables. The other repository is left byte for byte as it was.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { readDaemonFile, type Goal } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { defer, endpointFromFile } from '../helpers/daemon.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { iterationsOf, reply, toolResultsOf, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';

/** Every file under `dir` (work tree and .git alike) with a hash of its bytes, sorted by path. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

/** What a command prints about the git variables it got, then the work tree git finds from its folder. */
const SHOW_GIT = 'echo "dir=[$GIT_DIR] tree=[$GIT_WORK_TREE] index=[$GIT_INDEX_FILE]"; git rev-parse --show-toplevel';

test('GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE of another repository in the environment change nothing', async (t) => {
  const other = await makeTempRepo(t, { 'other-only.txt': 'needle in the other repository\n' });
  git(other, 'checkout', '-q', '-b', 'other-branch');
  const target = await makeTempRepo(undefined, {
    'target-only.txt': 'needle in the target\n',
    '.gitignore': '*.log\n',
    'ralph.config.ts': `export default { executor: { verify: ${JSON.stringify(`echo check; ${SHOW_GIT}`)} } };\n`,
  });
  defer(t, () => rm(target, { recursive: true, force: true }));
  // A daemon that obeyed GIT_DIR would serve the other repository: stop whichever runs.
  defer(t, () => killDaemon(other));
  defer(t, () => killDaemon(target));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const before = await fingerprint(other);

  const env = cliEnv({
    GIT_DIR: path.join(other, '.git'),
    GIT_WORK_TREE: other,
    GIT_INDEX_FILE: path.join(other, '.git', 'index'),
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
  });

  // The command line finds the repository of its folder and starts the daemon there.
  succeeded(await ralph(['daemon', 'start'], { cwd: target, env }));
  assert.ok(await readDaemonFile(target), 'the daemon serves the repository the command ran in');
  assert.equal(await readDaemonFile(other), null, 'no daemon for the repository GIT_DIR names');
  const client = await RalphClient.connect({ endpoint: endpointFromFile(target), name: 'git-env-test', reconnect: false });
  defer(t, () => client.close());
  assert.deepEqual((await client.request('daemon.status', {})).repo, { root: target, name: path.basename(target), branch: 'main' });

  // The watcher follows this repository's HEAD.
  git(target, 'checkout', '-q', '-b', 'switched');
  await waitFor(async () => (await client.request('daemon.status', {})).repo.branch === 'switched', {
    message: "the watcher to see the target's branch switch",
  });

  let toolResults: string[] = [];
  server.script(
    reply.run(SHOW_GIT),
    reply.write('build.log', 'needle in an ignored file\n'),
    { toolCalls: [{ name: 'list_files', arguments: {} }] },
    { toolCalls: [{ name: 'search_files', arguments: { pattern: 'needle' } }] },
    reply.write('made-by-goal.txt', 'made\n'),
    (request) => {
      toolResults = toolResultsOf(request);
      return reply.done('Made the file.');
    },
  );
  assert.equal(succeeded(await ralph(['goal', 'add', '--title', 'Make a file', '--queue'], { cwd: target, env })), '1\n');
  const goal = await waitFor(
    async () => {
      const { goal } = await client.request('goal.get', { id: 1 });
      return goal.state === 'done' || goal.state === 'stuck' ? goal : undefined;
    },
    { timeoutMs: 30_000, message: 'goal #1 to end' },
  );
  assert.equal(goal.state, 'done', `the goal ends done (it is ${goal.state})`);

  const [ran, , listed, searched] = toolResults;
  // The agent's command gets none of the variables, and git finds the goal's worktree of this repository.
  assert.match(ran!, /dir=\[\] tree=\[\] index=\[\]/);
  const worktree = shownTopLevel(ran!);
  assert.notEqual(worktree, other);
  assert.notEqual(worktree, target);
  assert.equal(path.resolve(worktree, git(worktree, 'rev-parse', '--git-common-dir')), path.join(target, '.git'));
  // The file tools ask git about the worktree (not a walk that would show the ignored build.log).
  assert.match(listed!, /target-only\.txt/);
  assert.doesNotMatch(listed!, /other-only\.txt|build\.log/);
  assert.match(searched!, /target-only\.txt/);
  assert.doesNotMatch(searched!, /other-only\.txt|build\.log/);

  // The check too, and the iteration committed on the goal's branch of this repository.
  const [iteration] = iterationsOf(goal as Goal);
  assert.ok(iteration?.check, 'the check ran');
  assert.match(iteration.check.output, /check\ndir=\[\] tree=\[\] index=\[\]/);
  assert.equal(shownTopLevel(iteration.check.output), worktree);
  assert.ok(iteration.commit, 'the iteration committed');
  assert.equal(git(target, 'rev-parse', `${goal.branch}`), iteration.commit);
  assert.equal(git(target, 'show', `${goal.branch}:made-by-goal.txt`), 'made');

  succeeded(await ralph(['daemon', 'stop'], { cwd: target, env }));
  assert.deepEqual(await fingerprint(other), before, 'the other repository is untouched');
});

/** The line after `dir=[…] tree=[…] index=[…]`: what `git rev-parse --show-toplevel` printed. */
function shownTopLevel(output: string): string {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.startsWith('dir=['));
  assert.ok(at !== -1 && lines[at + 1], `the command's output shows the work tree: ${output}`);
  return lines[at + 1]!.trim();
}
