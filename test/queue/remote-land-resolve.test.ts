/**
 * Remote goals land as local ones do, conflict resolution included, in a real daemon whose
 * iterations run on a `ralph worker` process (real Redis, a bare repository as the shared remote,
 * test/fake-openai as the model): two goals change the same line on the worker; the first lands
 * with `ralph goal land`, the second then conflicts with the branch and goes back to the loop, and
 * its conflict-resolution iteration runs on the worker with the conflict in its prompt and the
 * markers in its files; resolved, it lands with `ralph goal land` after the first. The model table the config overrides is the
 * one the worker prices its calls with.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ScenarioRequest } from '../fake-openai/request.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { git } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { iterationsOf, promptOf, toolResultsOf, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { startQueueDaemon, untilDone } from './queue-daemon.ts';

const TEN_LINES = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
const withFirstLine = (line: string) => TEN_LINES.replace('line 1\n', `${line}\n`);
/** Every call's usage, and the price the config gives the otherwise unpriced model: $0.002 a call. */
const CALL_USAGE = { inputTokens: 1000, outputTokens: 0 };
const INPUT_USD_PER_MILLION = 2;

test('a remote goal lands with ralph goal land; one that then conflicts resolves on the worker, its prompt and files showing the conflict, and lands', async (t) => {
  const verify = "grep -q '^line 1 by' shared.txt && ! grep -qE '^(<{7}|>{7})' shared.txt";
  const queue = await startQueueDaemon(t, {
    config: {
      executor: { verify, commands: { sandbox: 'off' } },
      models: [{ id: UNPRICED_MODEL, pricing: { input: INPUT_USD_PER_MILLION } }],
    },
    files: { 'shared.txt': TEN_LINES },
  });
  const { repo, server, client } = queue;
  let resolutionPrompt = '';
  let resolutionSaw = '';
  server.setScenario((request: ScenarioRequest) => {
    const prompt = promptOf(request);
    if (/## A landing conflict to resolve/.test(prompt)) {
      // First look at the file as the worker's worktree has it, then resolve it.
      if (request.pendingToolResults.length === 0) {
        resolutionPrompt = prompt;
        return { toolCalls: [{ name: 'read_file', arguments: { path: 'shared.txt' } }], usage: CALL_USAGE };
      }
      resolutionSaw = toolResultsOf(request).join('\n');
      return {
        toolCalls: [
          { name: 'write_file', arguments: { path: 'shared.txt', content: withFirstLine('line 1 by A and by B') } },
          { name: 'goal_done', arguments: { summary: 'kept both signatures' } },
        ],
        usage: CALL_USAGE,
      };
    }
    const who = /Sign by ([AB])/.exec(prompt)?.[1] ?? '?';
    return {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'shared.txt', content: withFirstLine(`line 1 by ${who}`) } },
        { name: 'goal_done', arguments: { summary: `signed by ${who}` } },
      ],
      usage: CALL_USAGE,
    };
  });

  await queue.startWorker('w1', undefined, ['--allow-sandbox-off']);

  const a = (await client.request('goal.create', { title: 'Sign by A', queue: true })).goal;
  const b = (await client.request('goal.create', { title: 'Sign by B', queue: true })).goal;
  const doneA = await untilDone(queue, a.id);
  await untilDone(queue, b.id);

  // The worker priced its calls with the config's row for the model.
  const iterationA = iterationsOf(doneA).at(-1);
  assert.equal(iterationA?.usage.calls, 1);
  assert.equal(iterationA?.usage.costUsd, (CALL_USAGE.inputTokens * INPUT_USD_PER_MILLION) / 1_000_000);

  // A lands by the command a developer types; its commit is on the developer's branch.
  const before = git(repo, 'rev-parse', 'HEAD');
  succeeded(await ralph(['goal', 'land', String(a.id)], { cwd: repo, env: cliEnv() }));
  assert.equal(git(repo, 'log', '-1', '--format=%s'), `Goal #${a.id}: Sign by A`);
  assert.equal(git(repo, 'rev-parse', 'HEAD~1'), before);
  assert.equal(await readFile(path.join(repo, 'shared.txt'), 'utf8'), withFirstLine('line 1 by A'));

  // B no longer lands on the branch A moved: the daemon's look at done goals after a landing finds
  // the conflict and sends B back to the loop, and its resolution runs on the worker.
  const resolved = await waitFor(
    async () => {
      const now = await queue.goal(b.id);
      assert.notEqual(now.state, 'stuck', `B is stuck: ${now.attempts.at(-1)?.reason}`);
      return now.state === 'done' && now.history.at(-3)?.action === 'resolve' ? now : undefined;
    },
    { timeoutMs: 20_000, message: 'B to resolve its conflict on the worker' },
  );
  assert.deepEqual(resolved.history.map((entry) => entry.action).slice(-3), ['resolve', 'start', 'complete']);
  assert.equal(resolved.resolving, undefined);
  succeeded(await ralph(['goal', 'land', String(b.id)], { cwd: repo, env: cliEnv() }));

  // The worker's iteration had the conflict: its section in the prompt, the markers in the file it read.
  assert.match(resolutionPrompt, /^- shared\.txt$/m);
  assert.match(resolutionPrompt, /\+line 1 by A/);
  assert.match(resolutionPrompt, /\+line 1 by B/);
  assert.match(resolutionPrompt, new RegExp(`Goal #${a.id}: Sign by A`));
  assert.match(resolutionSaw, /<<<<<<< [^\n]*\n[^\n]*line 1 by A\n[^\n]*=======\n[^\n]*line 1 by B\n[^\n]*>>>>>>> /);
  const { entries } = await client.request('logs.read', { id: b.id });
  const resolution = entries.slice(
    entries.findIndex((entry) => entry.kind === 'decision' && /resolving the landing conflict/.test(entry.text)),
  );
  assert.ok(
    resolution.some(
      (entry) => entry.kind === 'tool' && entry.worker === 'w1' && /read/i.test(entry.text) && /shared\.txt/.test(entry.text),
    ),
    `the resolution's tool calls came from the worker: ${JSON.stringify(resolution.map((entry) => [entry.kind, entry.worker, entry.text]))}`,
  );

  assert.equal(git(queue.remote, 'for-each-ref', 'refs/ralph/'), '', 'the uncommitted work the turn carried is gone from the remote');

  // Both landings on the developer's branch, in order, with the resolution in the tree.
  assert.deepEqual(git(repo, 'log', '--format=%s', '-2').split('\n'), [`Goal #${b.id}: Sign by B`, `Goal #${a.id}: Sign by A`]);
  assert.equal(await readFile(path.join(repo, 'shared.txt'), 'utf8'), withFirstLine('line 1 by A and by B'));
  assert.equal(git(repo, 'status', '--porcelain', '--', 'shared.txt'), '');
});
