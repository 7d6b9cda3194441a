/** logs.read over a real daemon and socket: pages and tails of a goal's log. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../../protocol/index.ts';
import { startTestDaemon } from '../../../test/helpers/daemon.ts';

test('logs.read with tail answers the last entries, continuing at next; a range reads as before', async (t) => {
  const { daemon, connect } = await startTestDaemon(t);
  const client = await connect('cli');
  const { goal } = await client.request('goal.create', { title: 'Logged' }); // its log starts with "created as draft"
  for (let i = 1; i < 30; i++) await daemon.store.log.append(goal.id, { kind: 'tool', text: `step ${i}` });

  const tail = await client.request('logs.read', { id: goal.id, tail: 3 });
  assert.deepEqual(
    tail.entries.map((entry) => [entry.index, entry.text]),
    [
      [27, 'step 27'],
      [28, 'step 28'],
      [29, 'step 29'],
    ],
  );
  assert.deepEqual([tail.next, tail.total], [30, 30]);
  assert.deepEqual(await client.request('logs.read', { id: goal.id, from: tail.next }), { entries: [], next: 30, total: 30 });

  const range = await client.request('logs.read', { id: goal.id, from: 1, limit: 2 });
  assert.deepEqual(
    range.entries.map((entry) => entry.text),
    ['step 1', 'step 2'],
  );
  assert.equal(range.next, 3);

  const whole = await client.request('logs.read', { id: goal.id, tail: 1000 });
  assert.equal(whole.entries.length, 30);
  assert.equal(whole.entries[0]?.kind, 'created');
});

test('logs.read refuses tail with from or limit, and a goal that does not exist', async (t) => {
  const { connect } = await startTestDaemon(t);
  const client = await connect('cli');
  const { goal } = await client.request('goal.create', { title: 'Logged' });
  await assert.rejects(client.request('logs.read', { id: goal.id, tail: 5, from: 2 }), {
    code: ErrorCode.InvalidParams,
    message: /tail .*cannot be combined with from or limit/,
  });
  await assert.rejects(client.request('logs.read', { id: goal.id, tail: 5, limit: 2 }), { code: ErrorCode.InvalidParams });
  await assert.rejects(client.request('logs.read', { id: goal.id, tail: 0 }), { code: ErrorCode.InvalidParams });
  await assert.rejects(client.request('logs.read', { id: 99, tail: 5 }), { code: ErrorCode.NotFound });
});
