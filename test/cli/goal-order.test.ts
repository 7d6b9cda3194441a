/**
 * What `after` and `priority` refuse, through a real daemon and the real `ralph` command: a cycle, a
 * goal that does not exist or is cancelled, a goal after itself, values out of range; and how
 * goal.update and `ralph goal edit` set and clear them. (The pipeline following them:
 * test/pipeline/dependencies.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode } from '../../protocol/index.ts';
import { cliEnv, failedWith, ralph, succeeded } from '../helpers/cli.ts';
import { startTestDaemon } from '../helpers/daemon.ts';

test('a cycle, an unknown or cancelled goal and bad values are refused, saying why', async (t) => {
  const { connect, repoRoot } = await startTestDaemon(t);
  const client = await connect('goal-order-test');
  const cli = { cwd: repoRoot, env: cliEnv() };
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
