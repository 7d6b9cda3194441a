/**
 * Goal dependencies and priorities in a real daemon, on a real repository, with the real `ralph`
 * command and scripted model replies (test/fake-openai): a goal that comes `after` another waits,
 * queued and unstarted, until that one has landed, then runs on top of its landing commit; queued
 * goals start by priority, then oldest first. (What is refused: test/cli/goal-order.test.ts.)
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import type { EventEnvelope, Goal } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { recordEvents } from '../helpers/events.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, reply, toolResultsOf, UNPRICED_MODEL } from './executor-helpers.ts';

async function startDaemonWithModel(t: Parameters<typeof startTestDaemon>[0], pipeline: { paused: boolean }) {
  const repo = await makeTempRepo(undefined, { 'README.md': 'base\n' });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: UNPRICED_MODEL };
  const daemon = await startTestDaemon(t, repo, { worktreesRoot, env, configWatch: false, pipeline });
  const client = await daemon.connect('dependencies-test');
  return { repo, server, client, ...daemon, cli: { cwd: repo, env: cliEnv() } };
}

/** The goals in the order the pipeline started them. */
function startOrder(events: EventEnvelope[]): number[] {
  return events.flatMap((event) =>
    event.type === 'goal.updated' && event.data.transition?.action === 'start' ? [event.data.goal.id] : [],
  );
}

test('--after: B waits, queued and unstarted, while A runs and is done but not landed; once A lands, B runs on top of its commit', async (t) => {
  const { repo, server, client, daemon, cli } = await startDaemonWithModel(t, { paused: false });
  const events = recordEvents(client);

  // A holds its one model call until the test lets it go: it is running while B is made.
  const holdA = gate();
  t.after(() => holdA.open());
  let aAsked = false;
  server.script(async () => {
    aAsked = true;
    await holdA.promise;
    return {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'a.txt', content: 'made by A\n' } },
        { name: 'goal_done', arguments: { summary: 'wrote a.txt' } },
      ],
    };
  });
  const a = (await client.request('goal.create', { title: 'Lay the base', queue: true })).goal;
  await waitFor(() => aAsked, { message: 'goal A to call the model' });

  const bId = Number(
    succeeded(await ralph(['goal', 'add', '--title', 'Build on it', '--queue', '--after', `#${a.id}`, '--priority', '7'], cli)),
  );
  const listed = JSON.parse(succeeded(await ralph(['goal', 'list', '--json'], cli))) as Goal[];
  const listedB = listed.find((goal) => goal.id === bId);
  assert.deepEqual([listedB?.after, listedB?.priority], [[a.id], 7], 'goal list --json carries after and priority');
  const shown = succeeded(await ralph(['goal', 'show', String(bId)], cli));
  assert.match(shown, new RegExp(`^after\\s+#${a.id} \\(it starts once they have landed, on top of them\\)$`, 'm'));
  assert.match(shown, new RegExp(`^waiting\\s+#${a.id} \\(running\\) has not landed$`, 'm'));
  assert.match(shown, /^priority\s+7$/m);
  assert.match(succeeded(await ralph(['pipeline', 'status'], cli)), new RegExp(`^queued\\s+1 \\(#${bId} waits for #${a.id}\\)$`, 'm'));
  const table = succeeded(await ralph(['goal', 'list'], cli));
  assert.match(table, new RegExp(`^#${bId}\\s+queued\\s+7\\s+#${a.id} waiting\\s+Build on it`, 'm'));

  // A finishes: done, not landed. B must not start, though the pipeline has room (its priority is higher too).
  holdA.open();
  await waitFor(async () => (await client.request('goal.get', { id: a.id })).goal.state === 'done', { message: 'A to be done' });
  // The pipeline looks at the queue as a run ends, before the run is forgotten: B would be starting by now.
  await waitFor(() => !daemon.pipeline.isRunning(a.id), { message: "A's run to end" });
  assert.equal(daemon.pipeline.isRunning(bId), false, 'B is not being started');
  const waiting = (await client.request('goal.get', { id: bId })).goal;
  assert.equal(waiting.state, 'queued');
  assert.deepEqual(waiting.attempts, [], 'B has not started');
  assert.deepEqual(startOrder(events), [a.id]);
  assert.match(succeeded(await ralph(['goal', 'show', String(bId)], cli)), /^waiting\s+#\d+ \(done, not landed yet\) has not landed$/m);

  // B reads A's file, then finishes.
  let bSaw = '';
  server.script({ toolCalls: [{ name: 'read_file', arguments: { path: 'a.txt' } }] }, (request) => {
    bSaw = toolResultsOf(request).join('\n');
    return reply.done('read a.txt');
  });
  assert.match(succeeded(await ralph(['goal', 'land', String(a.id)], cli)), new RegExp(`^goal #${a.id} landed as `));
  const aLanded = (await client.request('goal.get', { id: a.id })).goal.landed;
  assert.ok(aLanded);
  const b = await waitFor(
    async () => {
      const { goal } = await client.request('goal.get', { id: bId });
      return goal.state === 'done' || goal.state === 'stuck' ? goal : undefined;
    },
    { timeoutMs: 15_000, message: 'B to finish' },
  );
  assert.equal(b.state, 'done', `B is ${b.state}: ${b.attempts.at(-1)?.reason}`);
  assert.deepEqual(startOrder(events), [a.id, bId]);
  assert.match(bSaw, /made by A/, "B's iteration read A's file");
  assert.equal(git(repo, 'merge-base', '--is-ancestor', aLanded.commit, `ralph/goal-${bId}`), '', "B's branch holds A's landing commit");
  const { entries } = await client.request('logs.read', { id: bId });
  assert.ok(
    entries.some(
      (entry) => entry.kind === 'decision' && entry.text === `starting on top of #${a.id}: the branch holds their landing commits`,
    ),
    "B's log says it starts on top of A",
  );
});

test('queued goals start by priority, then oldest first (concurrency 1)', async (t) => {
  const { server, client, cli } = await startDaemonWithModel(t, { paused: true });
  const events = recordEvents(client);
  const ids: number[] = [];
  for (const [title, priority] of [
    ['First, default priority', undefined],
    ['Second, default priority', undefined],
    ['Third, urgent', '5'],
    ['Fourth, whenever', '-3'],
  ] as const) {
    ids.push(
      Number(succeeded(await ralph(['goal', 'add', '--title', title, '--queue', ...(priority ? [`--priority=${priority}`] : [])], cli))),
    );
  }
  const [first, second, third, fourth] = ids;
  assert.match(
    succeeded(await ralph(['pipeline', 'status'], cli)),
    new RegExp(`^queued\\s+4 \\(#${third}, #${first}, #${second}, #${fourth}\\)$`, 'm'),
  );
  server.script(reply.done('one'), reply.done('two'), reply.done('three'), reply.done('four'));
  await client.request('pipeline.resume', {});
  await waitFor(async () => (await client.request('goal.list', { state: 'done' })).goals.length === 4, {
    timeoutMs: 15_000,
    message: 'the four goals to be done',
  });
  assert.deepEqual(startOrder(events), [third, first, second, fourth]);
});
