/**
 * Goal dependencies and priorities in a real daemon, on a real repository, with the real `ralph`
 * command and scripted model replies (test/fake-openai): a goal that comes `after` another waits,
 * queued and unstarted, until that one has landed, then runs on top of its landing commit; queued
 * goals start by priority, then oldest first; a cycle, an unknown goal or bad values are refused.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode, type EventEnvelope, type Goal } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { cliEnv, failedWith, ralph, succeeded } from '../helpers/cli.ts';
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
  server.script(reply.done('one'), reply.done('two'), reply.done('three'), reply.done('four'));
  await client.request('pipeline.resume', {});
  await waitFor(async () => (await client.request('goal.list', { state: 'done' })).goals.length === 4, {
    timeoutMs: 15_000,
    message: 'the four goals to be done',
  });
  const [first, second, third, fourth] = ids;
  assert.deepEqual(startOrder(events), [third, first, second, fourth]);
});

test('a cycle, an unknown or cancelled goal and bad values are refused, saying why', async (t) => {
  const { client, cli } = await startDaemonWithModel(t, { paused: true });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => {
        assert.ok(error instanceof RpcRequestError);
        assert.equal(error.code, ErrorCode.InvalidParams);
        return error.message;
      },
    );
  const a = (await client.request('goal.create', { title: 'A' })).goal;
  const b = (await client.request('goal.create', { title: 'B', after: [a.id, a.id] })).goal;
  assert.deepEqual(b.after, [a.id], 'each goal once');
  const c = (await client.request('goal.create', { title: 'C', after: [b.id] })).goal;

  assert.match(
    await refusal(client.request('goal.update', { id: a.id, after: [c.id] })),
    /cannot come after those goals: that makes a cycle \(#1 → #3 → #2 → #1\)/,
  );
  assert.match(await refusal(client.request('goal.update', { id: a.id, after: [a.id] })), /goal #1 cannot come after itself/);
  assert.match(await refusal(client.request('goal.create', { title: 'D', after: [99] })), /goal #99 does not exist/);
  await client.request('goal.cancel', { id: a.id });
  assert.match(await refusal(client.request('goal.create', { title: 'E', after: [a.id] })), /goal #1 is cancelled: it will never land/);
  assert.equal((await client.request('goal.list', {})).goals.length, 3, 'nothing was made');

  // goal.update sets and clears them.
  const edited = (await client.request('goal.update', { id: c.id, after: [], priority: -4 })).goal;
  assert.deepEqual([edited.after, edited.priority], [undefined, -4]);
  assert.equal((await client.request('goal.update', { id: c.id, priority: null })).goal.priority, undefined);

  // ralph goal edit does the same from the command line; a refused value is bad usage.
  assert.equal(
    succeeded(await ralph(['goal', 'edit', String(c.id), '--after', String(b.id), '--priority', '2'], cli)),
    `goal #${c.id}: after #${b.id}, priority 2\n`,
  );
  assert.equal(
    succeeded(await ralph(['goal', 'edit', String(c.id), '--after', 'none', '--priority', '0'], cli)),
    `goal #${c.id}: after no goal, priority 0\n`,
  );
  failedWith(await ralph(['goal', 'edit', String(b.id), '--after', String(b.id)], cli), 2, /^ralph: goal #2 cannot come after itself/);
  await client.request('goal.update', { id: c.id, after: [b.id] });
  failedWith(await ralph(['goal', 'edit', String(b.id), '--after', String(c.id)], cli), 2, /makes a cycle \(#2 → #3 → #2\)/);
  failedWith(await ralph(['goal', 'edit', String(b.id)], cli), 2, /^ralph: goal edit needs --after or --priority/);

  failedWith(await ralph(['goal', 'add', '--title', 'X', '--after', '99'], cli), 2, /^ralph: goal #99 does not exist/);
  failedWith(await ralph(['goal', 'add', '--title', 'X', '--after', 'two'], cli), 2, /^ralph: --after 'two' is not a list of goal ids/);
  failedWith(
    await ralph(['goal', 'add', '--title', 'X', '--priority', '500'], cli),
    2,
    /^ralph: --priority '500' is not an integer from -100 to 100/,
  );
  failedWith(await ralph(['goal', 'add', '--title', 'X', '--priority', '1.5'], cli), 2, /^ralph: --priority '1.5' is not an integer/);
});
