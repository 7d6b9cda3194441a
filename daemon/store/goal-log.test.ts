import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readFile, readdir, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { EventEnvelope, LogEntry } from '../../protocol/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { EventBus } from '../events/bus.ts';
import { GoalLog, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from './goal-log.ts';

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
  assert.deepEqual(
    first.entries.map((entry) => [entry.index, entry.text, entry.step]),
    [
      [0, 'entry 0', 0],
      [1, 'entry 1', 1],
    ],
  );
  assert.equal(first.next, 2);
  assert.equal(first.total, 5);
  const last = await log.read(3, { from: 4, limit: 2 });
  assert.deepEqual(
    last.entries.map((entry) => entry.index),
    [4],
  );
  assert.equal(last.next, 5);
  const beyond = await log.read(3, { from: 9 });
  assert.deepEqual(beyond, { entries: [], next: 9, total: 5 });
  assert.deepEqual(await log.read(4), { entries: [], next: 0, total: 0 }, 'a goal with no log reads as empty');

  assert.deepEqual(
    events.map((event) => event.type),
    Array(5).fill('log.appended'),
  );
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
  assert.deepEqual(
    appended.map((entry) => entry.index).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  const { entries, total } = await log.read(1);
  assert.equal(total, 20);
  assert.deepEqual(
    entries.map((entry) => entry.index),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.deepEqual(
    entries.map((entry) => entry.text),
    appended.sort((a, b) => a.index - b.index).map((entry) => entry.text),
  );
});

test('a torn last line is skipped on read and the next append starts on a fresh line', async (t) => {
  const { repoRoot, bus, log } = await logFixture(t);
  await log.append(1, { kind: 'note', text: 'zero' });
  await log.append(1, { kind: 'note', text: 'one' });
  // A crash mid-append: half a line, no newline.
  await appendFile(log.fileOf(1), '{"goalId":1,"index":2,"time":"2025-');

  // A fresh daemon (no count in memory) must count the file as it is.
  const reopened = new GoalLog(repoRoot, bus);
  assert.deepEqual(
    (await reopened.read(1)).entries.map((entry) => entry.text),
    ['zero', 'one'],
  );
  const next = await reopened.append(1, { kind: 'note', text: 'two' });
  assert.equal(next.index, 2);
  await reopened.append(1, { kind: 'note', text: 'three' });

  const page = await reopened.read(1, { from: 2 });
  assert.deepEqual(
    page.entries.map((entry) => [entry.index, entry.text]),
    [
      [2, 'two'],
      [3, 'three'],
    ],
  );
  assert.equal(page.total, 4);
  const lines = (await readFile(log.fileOf(1), 'utf8')).split('\n');
  assert.equal(lines[2], '{"goalId":1,"index":2,"time":"2025-', 'the torn bytes stay alone on their line');
  assert.equal(JSON.parse(lines[3]!).text, 'two');
});

/** A log line as a daemon writes it. */
const logLine = (goalId: number, index: number, text: string) =>
  JSON.stringify({ goalId, index, time: '2025-01-02T03:04:05.000Z', kind: 'tool', text });

test('tail on a 20,000-line log returns its last entries, numbered as a read from the start numbers them', async (t) => {
  const { repoRoot, bus, log } = await logFixture(t);
  // Written by an earlier daemon run: multi-byte text (offsets are bytes), lines long enough to cross the
  // scan's chunks, and two damaged lines in the middle that every read must skip alike.
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    if (i === 10_000) lines.push('{"goalId":7,"index":', 'not json at all');
    lines.push(logLine(7, i, `step ${i} — édité ✓ ${'x'.repeat(i % 97)}`));
  }
  await mkdir(path.dirname(log.fileOf(7)), { recursive: true });
  await writeFile(log.fileOf(7), `${lines.join('\n')}\n`);

  const fresh = new GoalLog(repoRoot, bus);
  const tail = await fresh.read(7, { tail: 500 });
  assert.equal(tail.total, 20_000);
  assert.equal(tail.next, 20_000, 'reading on from next continues after the tail');
  assert.deepEqual(
    tail.entries.map((entry) => entry.index),
    Array.from({ length: 500 }, (_, i) => 19_500 + i),
  );
  assert.match(tail.entries[0]!.text, /^step 19500 — édité ✓ x*$/);
  assert.match(tail.entries.at(-1)!.text, /^step 19999 — /);
  assert.deepEqual(tail, await fresh.read(7, { from: 19_500, limit: 500 }), 'the same entries as a range read');

  // Across the damaged lines: no entry lost, none numbered twice.
  const middle = await fresh.read(7, { from: 9_998, limit: 4 });
  assert.deepEqual(
    middle.entries.map((entry) => [entry.index, entry.text.split(' — ')[0]]),
    [
      [9_998, 'step 9998'],
      [9_999, 'step 9999'],
      [10_000, 'step 10000'],
      [10_001, 'step 10001'],
    ],
  );

  // Appends extend the index: the tail follows.
  const appended = await fresh.append(7, { kind: 'note', text: 'the next one' });
  assert.equal(appended.index, 20_000);
  const after = await fresh.read(7, { tail: 2 });
  assert.deepEqual(
    after.entries.map((entry) => [entry.index, entry.kind]),
    [
      [19_999, 'tool'],
      [20_000, 'note'],
    ],
  );
  assert.equal(after.total, 20_001);
});

test('a tail longer than the log is the whole log; a missing log is empty', async (t) => {
  const { log } = await logFixture(t);
  assert.deepEqual(await log.read(1, { tail: 10 }), { entries: [], next: 0, total: 0 });
  for (const text of ['a', 'b', 'c']) await log.append(1, { kind: 'note', text });
  const page = await log.read(1, { tail: 10 });
  assert.deepEqual(
    page.entries.map((entry) => [entry.index, entry.text]),
    [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ],
  );
  assert.equal(page.next, 3);
});

test('a last line without its newline but whole counts; the next append starts a fresh line', async (t) => {
  const { repoRoot, bus, log } = await logFixture(t);
  await mkdir(path.dirname(log.fileOf(2)), { recursive: true });
  await writeFile(log.fileOf(2), `${logLine(2, 0, 'zero')}\n${logLine(2, 1, 'one')}`);
  const fresh = new GoalLog(repoRoot, bus);
  assert.deepEqual(
    (await fresh.read(2, { tail: 1 })).entries.map((entry) => [entry.index, entry.text]),
    [[1, 'one']],
  );
  await fresh.append(2, { kind: 'note', text: 'two' });
  assert.deepEqual(
    (await fresh.read(2)).entries.map((entry) => entry.text),
    ['zero', 'one', 'two'],
  );
  assert.equal((await readFile(fresh.fileOf(2), 'utf8')).split('\n').length, 4, 'three lines and the final newline');
});

test('a log changed by someone else (rewritten, deleted) is indexed afresh, never read through a stale index', async (t) => {
  const { log } = await logFixture(t);
  for (let i = 0; i < 5; i++) await log.append(4, { kind: 'note', text: `old ${i}` });
  assert.equal((await log.read(4, { tail: 1 })).entries[0]?.text, 'old 4');

  await writeFile(log.fileOf(4), `${logLine(4, 0, 'new 0')}\n${logLine(4, 1, 'new 1')}\n`);
  const rewritten = await log.read(4, { tail: 5 });
  assert.deepEqual(
    rewritten.entries.map((entry) => [entry.index, entry.text]),
    [
      [0, 'new 0'],
      [1, 'new 1'],
    ],
  );
  assert.equal(rewritten.total, 2);

  // The same size as before, other bytes: caught when the entries read back do not match the index.
  const sameSize = (await readFile(log.fileOf(4), 'utf8'))
    .replace('new 0', 'NEW 0')
    .replace(`${logLine(4, 1, 'new 1')}\n`, `${'x'.repeat(logLine(4, 1, 'new 1').length)}\n`);
  await writeFile(log.fileOf(4), sameSize);
  const sameSizePage = await log.read(4, { from: 0 });
  assert.deepEqual(
    sameSizePage.entries.map((entry) => entry.text),
    ['NEW 0'],
  );
  assert.deepEqual([sameSizePage.next, sameSizePage.total], [1, 1], 'counted afresh, not by the stale index (2)');

  await rm(log.fileOf(4));
  assert.deepEqual(await log.read(4, { tail: 3 }), { entries: [], next: 0, total: 0 });
  assert.equal((await log.append(4, { kind: 'note', text: 'again' })).index, 0, 'numbered by the file as it is now');
  assert.deepEqual(
    (await log.read(4)).entries.map((entry) => entry.text),
    ['again'],
  );
});

/** The `log.appended` events among `events`, as their entries and cause. */
function appendedEvents(events: EventEnvelope[]): { entries: LogEntry[]; cause: EventEnvelope['cause'] }[] {
  return events.flatMap((event) => (event.type === 'log.appended' ? [{ entries: event.data.entries, cause: event.cause }] : []));
}

test('200 concurrent appends are written in order as few batches: fewer events than appends, every entry once', async (t) => {
  const { log, events } = await logFixture(t);
  const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(1, { kind: 'note', text: `line ${i}` })));
  assert.deepEqual(
    appended.map((entry) => entry.index),
    Array.from({ length: 200 }, (_, i) => i),
    'numbered in call order',
  );

  const lines = (await readFile(log.fileOf(1), 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  assert.deepEqual(
    lines.map((line) => JSON.parse(line)),
    appended,
    'exactly those 200 lines, in order',
  );

  const published = appendedEvents(events);
  assert.ok(published.length < 200, `${published.length} events for 200 appends`);
  assert.deepEqual(
    published.flatMap((event) => event.entries),
    appended,
  );
  assert.deepEqual((await log.read(1, { tail: 1 })).entries, [appended[199]]);
});

test('a lone append is published at once, and sequential awaited appends publish one event each', async (t) => {
  const { log, events } = await logFixture(t);
  const lone = await log.append(2, { kind: 'note', text: 'alone' });
  assert.deepEqual(
    appendedEvents(events).map((event) => event.entries),
    [[lone]],
    'published by the time the append resolves',
  );

  const next: LogEntry[] = [];
  for (let i = 0; i < 3; i++) next.push(await log.append(2, { kind: 'note', text: `next ${i}` }));
  assert.deepEqual(
    appendedEvents(events).map((event) => event.entries),
    [[lone], ...next.map((entry) => [entry])],
  );
  assert.deepEqual(
    next.map((entry) => entry.index),
    [1, 2, 3],
  );
});

test('entries of different causes share a write but not an event; order is kept', async (t) => {
  const { log, events } = await logFixture(t);
  // Fresh but equal cause objects: the same request, compared by value.
  const first = () => ({ client: 'c1', request: 1 });
  const second = { client: 'c2', request: 1 };
  const causes = [first(), first(), second, undefined, undefined, first()];
  const appended = await Promise.all(causes.map((cause, i) => log.append(5, { kind: 'note', text: `e${i}` }, cause)));

  const published = appendedEvents(events);
  assert.deepEqual(
    published.map((event) => [event.cause, event.entries.map((entry) => entry.text)]),
    [
      [first(), ['e0', 'e1']],
      [second, ['e2']],
      [undefined, ['e3', 'e4']],
      [first(), ['e5']],
    ],
  );
  assert.deepEqual(
    published.flatMap((event) => event.entries),
    appended,
  );
  assert.deepEqual(
    (await log.read(5)).entries.map((entry) => entry.text),
    ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'],
  );
});

test('a batch is capped: 2,500 concurrent appends never give an event over the cap, and all are published in order', async (t) => {
  const { log, events } = await logFixture(t);
  const appended = await Promise.all(Array.from({ length: 2_500 }, (_, i) => log.append(3, { kind: 'tool', text: `out ${i}` })));
  const published = appendedEvents(events);
  assert.ok(published.length >= Math.ceil(2_500 / MAX_BATCH_ENTRIES), `${published.length} events`);
  for (const event of published) assert.ok(event.entries.length <= MAX_BATCH_ENTRIES, `an event of ${event.entries.length} entries`);
  assert.deepEqual(
    published.flatMap((event) => event.entries),
    appended,
  );
  assert.deepEqual(
    appended.map((entry) => entry.index),
    Array.from({ length: 2_500 }, (_, i) => i),
  );
  assert.equal((await log.read(3, { tail: 1 })).total, 2_500);

  // Long lines are capped by bytes: 12 entries of 100 KiB cannot share one event.
  events.length = 0;
  const big = await Promise.all(
    Array.from({ length: 12 }, (_, i) => log.append(4, { kind: 'tool', text: `${i}${'x'.repeat(100 * 1024)}` })),
  );
  const bigEvents = appendedEvents(events);
  assert.ok(bigEvents.length > 1);
  for (const event of bigEvents) {
    const bytes = event.entries.reduce((sum, entry) => sum + Buffer.byteLength(JSON.stringify(entry)) + 1, 0);
    assert.ok(bytes <= MAX_BATCH_BYTES, `an event of ${bytes} bytes of lines`);
  }
  assert.deepEqual(
    bigEvents.flatMap((event) => event.entries),
    big,
  );
});

test('a failed write rejects all of its batch and publishes none of it; later appends number from the file', async (t) => {
  const { log, events } = await logFixture(t);
  for (const text of ['a', 'b', 'c']) await log.append(6, { kind: 'note', text });
  const file = log.fileOf(6);
  // A folder where the log should be: every write to it fails (chmod would not stop root).
  await rename(file, `${file}.aside`);
  await mkdir(file);
  const publishedBefore = events.length;

  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(6, { kind: 'note', text: `lost ${i}` })));
  assert.deepEqual(
    results.map((result) => result.status),
    Array(5).fill('rejected'),
  );
  assert.equal(events.length, publishedBefore, 'nothing published for entries not written');

  await rmdir(file);
  await rename(`${file}.aside`, file);
  const after = await log.append(6, { kind: 'note', text: 'd' });
  assert.equal(after.index, 3);
  assert.deepEqual(
    (await log.read(6)).entries.map((entry) => [entry.index, entry.text]),
    [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ],
  );
  assert.deepEqual(appendedEvents(events).at(-1)?.entries, [after]);
});

test('a bad entry fails alone, not the batch it would have joined', async (t) => {
  const { log } = await logFixture(t);
  const results = await Promise.allSettled([
    log.append(7, { kind: 'note', text: 'good 0' }),
    log.append(7, { kind: '', text: 'no kind' }),
    log.append(7, { kind: 'note', text: 'good 1' }),
  ]);
  assert.deepEqual(
    results.map((result) => result.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(
    (await log.read(7)).entries.map((entry) => [entry.index, entry.text]),
    [
      [0, 'good 0'],
      [1, 'good 1'],
    ],
  );
});

test('a read sees exactly the appends made before it, even while a batch is still open', async (t) => {
  const { log } = await logFixture(t);
  const before = log.append(8, { kind: 'note', text: 'before' });
  const page = log.read(8);
  const after = log.append(8, { kind: 'note', text: 'after' });
  assert.deepEqual(
    (await page).entries.map((entry) => entry.text),
    ['before'],
  );
  assert.deepEqual([(await before).index, (await after).index], [0, 1]);
});

test('a log that is a symbolic link is neither appended to nor read: the file it points to is untouched', async (t) => {
  const { repoRoot, log, events } = await logFixture(t);
  const outside = await makeTempDir(t, 'ralph-outside-');
  const target = path.join(outside, 'victim.txt');
  await writeFile(target, 'precious\n');
  await mkdir(path.dirname(log.fileOf(13)), { recursive: true });
  await symlink(target, log.fileOf(13));
  // A dangling link must not create its target either.
  await symlink(path.join(outside, 'made-by-ralph.txt'), log.fileOf(14));

  await assert.rejects(
    log.append(13, { kind: 'note', text: 'one' }),
    /the log of goal #13 \(\.ralph\/logs\/13\.jsonl\) is a symbolic link/,
  );
  await assert.rejects(log.append(13, { kind: 'note', text: 'two' }), /symbolic link/);
  await assert.rejects(log.append(14, { kind: 'note', text: 'one' }), /symbolic link/);
  await assert.rejects(log.read(13), /symbolic link/);
  assert.equal(await readFile(target, 'utf8'), 'precious\n');
  assert.deepEqual(await readdir(outside), ['victim.txt']);
  assert.deepEqual(events, []);

  // A FIFO in its place does not hang the append or the read.
  execFileSync('mkfifo', [log.fileOf(15)]);
  await assert.rejects(log.append(15, { kind: 'note', text: 'x' }), /not a regular file/);
  await assert.rejects(log.read(15), /not a regular file/);
  // Other logs go on.
  assert.equal((await log.append(16, { kind: 'note', text: 'fine' })).index, 0);
  assert.ok(repoRoot);
});

test('a link put in place of a log after it was indexed is refused all the same', async (t) => {
  const { log } = await logFixture(t);
  await log.append(2, { kind: 'note', text: 'first' });
  const outside = await makeTempDir(t, 'ralph-outside-');
  const target = path.join(outside, 'victim.txt');
  await writeFile(target, 'precious\n');
  await rm(log.fileOf(2));
  await symlink(target, log.fileOf(2));
  await assert.rejects(log.append(2, { kind: 'note', text: 'second' }), /symbolic link/);
  assert.equal(await readFile(target, 'utf8'), 'precious\n');
});

test('a logs folder that is a symbolic link is not written through', async (t) => {
  const { repoRoot, log } = await logFixture(t);
  const outside = await makeTempDir(t, 'ralph-outside-');
  await mkdir(path.join(repoRoot, '.ralph'));
  await symlink(outside, path.join(repoRoot, '.ralph', 'logs'));
  await assert.rejects(log.append(1, { kind: 'note', text: 'one' }), /\.ralph\/logs is a symbolic link/);
  assert.deepEqual(await readdir(outside), []);
});
