import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { EventEnvelope } from '../../protocol/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { EventBus } from '../events/bus.ts';
import { GoalLog } from './goal-log.ts';

async function logFixture(t: Parameters<typeof makeTempDir>[0]) {
  const repoRoot = await makeTempDir(t);
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((event) => events.push(event.envelope));
  return { repoRoot, bus, events, log: new GoalLog(repoRoot, bus) };
}

test('append numbers entries from 0, publishes them, and read pages through them', async (t) => {
  const { log, events } = await logFixture(t);
  const cause = { client: 'c1', request: 7 };
  for (let i = 0; i < 5; i++) await log.append(3, { kind: 'note', text: `entry ${i}`, step: i }, i === 0 ? cause : undefined);

  const first = await log.read(3, { from: 0, limit: 2 });
  assert.deepEqual(first.entries.map((entry) => [entry.index, entry.text, entry.step]), [[0, 'entry 0', 0], [1, 'entry 1', 1]]);
  assert.equal(first.next, 2);
  assert.equal(first.total, 5);
  const last = await log.read(3, { from: 4, limit: 2 });
  assert.deepEqual(last.entries.map((entry) => entry.index), [4]);
  assert.equal(last.next, 5);
  const beyond = await log.read(3, { from: 9 });
  assert.deepEqual(beyond, { entries: [], next: 9, total: 5 });
  assert.deepEqual(await log.read(4), { entries: [], next: 0, total: 0 }, 'a goal with no log reads as empty');

  assert.deepEqual(events.map((event) => event.type), Array(5).fill('log.appended'));
  const firstEvent = events[0]!;
  assert.equal(firstEvent.type, 'log.appended');
  if (firstEvent.type === 'log.appended') assert.deepEqual(firstEvent.data.entries, [first.entries[0]]);
  assert.deepEqual(firstEvent.cause, cause);
});

test('the log owns goalId, index and time: an entry cannot set them', async (t) => {
  const { log } = await logFixture(t);
  const entry = await log.append(2, { kind: 'note', text: 'hi', goalId: 99, index: 42, time: 'yesterday' });
  assert.equal(entry.goalId, 2);
  assert.equal(entry.index, 0);
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
});

test('concurrent appends get distinct indexes in file order', async (t) => {
  const { log } = await logFixture(t);
  const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(1, { kind: 'note', text: String(i) })));
  assert.deepEqual(appended.map((entry) => entry.index).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  const { entries, total } = await log.read(1);
  assert.equal(total, 20);
  assert.deepEqual(entries.map((entry) => entry.index), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(entries.map((entry) => entry.text), appended.sort((a, b) => a.index - b.index).map((entry) => entry.text));
});

test('a torn last line is skipped on read and the next append starts on a fresh line', async (t) => {
  const { repoRoot, bus, log } = await logFixture(t);
  await log.append(1, { kind: 'note', text: 'zero' });
  await log.append(1, { kind: 'note', text: 'one' });
  // A crash mid-append: half a line, no newline.
  await appendFile(log.fileOf(1), '{"goalId":1,"index":2,"time":"2025-');

  // A fresh daemon (no count in memory) must count the file as it is.
  const reopened = new GoalLog(repoRoot, bus);
  assert.deepEqual((await reopened.read(1)).entries.map((entry) => entry.text), ['zero', 'one']);
  const next = await reopened.append(1, { kind: 'note', text: 'two' });
  assert.equal(next.index, 2);
  await reopened.append(1, { kind: 'note', text: 'three' });

  const page = await reopened.read(1, { from: 2 });
  assert.deepEqual(page.entries.map((entry) => [entry.index, entry.text]), [[2, 'two'], [3, 'three']]);
  assert.equal(page.total, 4);
  const lines = (await readFile(log.fileOf(1), 'utf8')).split('\n');
  assert.equal(lines[2], '{"goalId":1,"index":2,"time":"2025-', 'the torn bytes stay alone on their line');
  assert.equal(JSON.parse(lines[3]!).text, 'two');
});
