/**
 * A landing conflict is resolved, not dropped, in a real daemon on a real repository with scripted
 * model replies (test/fake-openai): two done goals change the same line; the first lands, the
 * second's landing conflicts and sends it back to the loop for a conflict-resolution iteration
 * (its prompt names the file, both sides and the target's new commit; the file holds the conflict
 * markers); resolved and checked, it lands after the first. A resolution that leaves the markers
 * is stuck after its bound, and a cancelled one stops, each with the goal's branch put back exactly
 * where it was. With `executor.land: 'auto'` the whole of it runs by itself.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { listBackups } from '../../daemon/pipeline/backup-refs.ts';
import { RESOLUTION_MAX_ITERATIONS } from '../../daemon/pipeline/conflict-resolution.ts';
import type { Goal } from '../../protocol/index.ts';
import { startFakeOpenAI } from '../fake-openai/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { git, makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, promptOf, reply, toolResultsOf, UNPRICED_MODEL } from './executor-helpers.ts';
import { prepareDoneGoal } from './land-helpers.ts';

const TEN_LINES = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
const withFirstLine = (line: string) => TEN_LINES.replace('line 1\n', `${line}\n`);

/** Two done goals changing line 1 of shared.txt, then a daemon whose check wants line 1 signed and no conflict marker. */
async function setup(t: TestContext, land: 'manual' | 'auto' = 'manual') {
  const verify = "grep -q '^line 1 by' shared.txt && ! grep -qE '^(<{7}|>{7})' shared.txt";
  const repo = await makeTempRepo(undefined, {
    'shared.txt': TEN_LINES,
    'ralph.config.ts': `export default { executor: { verify: ${JSON.stringify(verify)}, commands: { sandbox: 'off' }, land: '${land}' } };\n`,
  });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const worktreesRoot = await makeTempDir(undefined, 'ralph-worktrees-');
  defer(t, () => rm(worktreesRoot, { recursive: true, force: true }));
  const a = await prepareDoneGoal({
    repoRoot: repo,
    worktreesRoot,
    title: 'Sign by A',
    files: { 'shared.txt': withFirstLine('line 1 by A') },
  });
  const b = await prepareDoneGoal({
    repoRoot: repo,
    worktreesRoot,
    title: 'Sign by B',
    files: { 'shared.txt': withFirstLine('line 1 by B') },
  });
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: UNPRICED_MODEL };
  const daemon = await startTestDaemon(t, repo, { worktreesRoot, env, configWatch: false, pipeline: { paused: false } });
  const client = await daemon.connect('land-resolve-test');
  const goal = async (id: number): Promise<Goal> => (await client.request('goal.get', { id })).goal;
  return { repo, server, client, goal, a: a.goal, b: b.goal, bHead: await b.workspace.head() };
}

/**
 * Asks A then B to land, both at once (both queued before A's landing ends, so nothing looks at B
 * in between): A lands, B's landing conflicts on line 1.
 */
async function landBoth({ client, a, b }: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const [landedA, landedB] = await Promise.allSettled([
    client.request('goal.land', { id: a.id }),
    client.request('goal.land', { id: b.id }),
  ]);
  assert.equal(landedA.status, 'fulfilled');
  assert.equal(landedB.status, 'rejected');
  assert.match(String(landedB.reason), /conflicts in shared\.txt/);
}

test('the second of two goals changing the same line conflicts, resolves it in an iteration, and lands after the first', async (t) => {
  const context = await setup(t);
  const { repo, server, goal, a, b } = context;
  let prompt = '';
  let sawFile = '';
  server.script({ toolCalls: [{ name: 'read_file', arguments: { path: 'shared.txt' } }] }, (request) => {
    prompt = promptOf(request);
    sawFile = toolResultsOf(request).join('\n');
    return {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'shared.txt', content: withFirstLine('line 1 by A and by B') } },
        { name: 'goal_done', arguments: { summary: 'kept both signatures' } },
      ],
    };
  });
  await landBoth(context);

  const landed = await waitFor(
    async () => {
      const now = await goal(b.id);
      assert.notEqual(now.state, 'stuck', `B is stuck: ${now.attempts.at(-1)?.reason}`);
      return now.landed ? now : undefined;
    },
    { timeoutMs: 15_000, message: 'B to resolve its conflict and land' },
  );
  assert.deepEqual(
    landed.history.map((entry) => entry.action).slice(-3),
    ['resolve', 'start', 'complete'],
    'B went back to the loop and came out done',
  );
  assert.equal(landed.resolving, undefined);
  assert.equal(landed.attempts.at(-1)?.iterations.length, 1);

  // The iteration saw the conflict: markers in the file, and in its prompt the file, both sides and A's landing.
  assert.match(sawFile, /<<<<<<< [^\n]*\n[^\n]*line 1 by A\n[^\n]*=======\n[^\n]*line 1 by B\n[^\n]*>>>>>>> /);
  assert.match(prompt, /## A landing conflict to resolve/);
  assert.match(prompt, /^- shared\.txt$/m);
  assert.match(prompt, /\+line 1 by A/);
  assert.match(prompt, /\+line 1 by B/);
  assert.match(prompt, new RegExp(`Goal #${a.id}: Sign by A`));
  assert.match(prompt, /What the earlier attempts did:\n\nAttempt 1 ended done/);
  assert.doesNotMatch(prompt, /retried/, 'a goal sent back to resolve a conflict was not retried');

  // Both landing commits on the branch, in order, the resolution in the tree.
  const subjects = git(repo, 'log', '--format=%s', '-3').split('\n');
  assert.deepEqual(subjects.slice(0, 2), [`Goal #${b.id}: Sign by B`, `Goal #${a.id}: Sign by A`]);
  assert.equal(await readFile(`${repo}/shared.txt`, 'utf8'), withFirstLine('line 1 by A and by B'));
  assert.equal(git(repo, 'status', '--porcelain', '--', 'shared.txt'), '');
});

test('a resolution that leaves the markers is stuck after its bound, and the branch is put back as it was', async (t) => {
  const context = await setup(t);
  const { repo, server, goal, b, bHead } = context;
  server.script(...Array.from({ length: RESOLUTION_MAX_ITERATIONS }, () => reply.done('resolved, I think')));
  await landBoth(context);
  const mainHead = git(repo, 'rev-parse', 'HEAD');

  const stuck = await waitFor(
    async () => {
      const now = await goal(b.id);
      return now.state === 'stuck' ? now : undefined;
    },
    { timeoutMs: 15_000, message: 'B to be stuck' },
  );
  assert.match(stuck.attempts.at(-1)?.reason ?? '', /landing conflict with \S+ was not resolved within 3 iterations/);
  assert.equal(stuck.resolving, undefined);
  assert.equal(stuck.attempts.at(-1)?.iterations.length, RESOLUTION_MAX_ITERATIONS);
  assert.equal(git(repo, 'rev-parse', `ralph/goal-${b.id}`), bHead, "B's branch is exactly as before the resolution");
  assert.ok(
    (await listBackups(repo, b.id)).some((backup) => backup.commit === bHead),
    'its backup ref still holds it',
  );
  assert.equal(git(repo, 'rev-parse', 'HEAD'), mainHead, 'the target branch did not move');
  const { entries } = await context.client.request('logs.read', { id: b.id });
  assert.ok(entries.some((entry) => entry.kind === 'decision' && /conflict markers are left in shared\.txt/.test(entry.text)));
});

test('with executor.land auto, the conflicting goal resolves and lands by itself after the first', async (t) => {
  const { repo, server, goal, a, b } = await setup(t, 'auto');
  server.script(
    { toolCalls: [{ name: 'read_file', arguments: { path: 'shared.txt' } }] },
    {
      toolCalls: [
        { name: 'write_file', arguments: { path: 'shared.txt', content: withFirstLine('line 1 by B after A') } },
        { name: 'goal_done', arguments: { summary: 'B after A' } },
      ],
    },
  );
  const landed = await waitFor(
    async () => {
      const now = await goal(b.id);
      assert.notEqual(now.state, 'stuck', `B is stuck: ${now.attempts.at(-1)?.reason}`);
      return now.landed ? now : undefined;
    },
    { timeoutMs: 15_000, message: 'B to resolve its conflict and land' },
  );
  assert.ok(landed.history.some((entry) => entry.action === 'resolve'));
  assert.deepEqual(git(repo, 'log', '--format=%s', '-2').split('\n'), [`Goal #${b.id}: Sign by B`, `Goal #${a.id}: Sign by A`]);
  assert.equal(await readFile(`${repo}/shared.txt`, 'utf8'), withFirstLine('line 1 by B after A'));
});

test('a resolution cancelled while its iteration runs puts the branch back as it was', async (t) => {
  const context = await setup(t);
  const { repo, server, client, goal, b, bHead } = context;
  const hold = gate();
  t.after(() => hold.open());
  let asked = false;
  server.script(async () => {
    asked = true;
    await hold.promise;
    return reply.done('too late');
  });
  await landBoth(context);
  await waitFor(() => asked, { message: "B's resolution iteration to call the model" });
  assert.notEqual(git(repo, 'rev-parse', `ralph/goal-${b.id}`), bHead, 'the branch is set up on the target meanwhile');
  await client.request('goal.cancel', { id: b.id });
  await waitFor(async () => (await goal(b.id)).state === 'cancelled', { message: 'B to be cancelled' });
  await waitFor(() => git(repo, 'rev-parse', `ralph/goal-${b.id}`) === bHead, { message: "B's branch to be put back" });
});
