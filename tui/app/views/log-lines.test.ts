import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogEntry } from '../../../protocol/index.ts';
import { logRow, workerLabels } from './log-lines.ts';
import { rowText } from './text.ts';

const TIME = '2025-01-02T03:04:05.000Z';
const entry = (index: number, text: string, worker?: unknown): LogEntry => ({
  goalId: 1,
  index,
  time: TIME,
  kind: 'decision',
  text,
  ...(worker === undefined ? {} : { worker }),
});

test("a remote goal's lines name their worker where it changes; the daemon's own lines and a local goal's name none", () => {
  const entries = [
    entry(0, 'queued'),
    entry(1, 'worker a runs attempt 1', 'worker-a'),
    entry(2, 'wrote a.txt', 'worker-a'),
    entry(3, 'the daemon says something'),
    entry(4, 'still a', 'worker-a'),
    entry(5, 'worker b runs attempt 1 (taken over)', 'worker-b'),
    entry(6, 'more', 'worker-b'),
  ];
  assert.deepEqual(workerLabels(entries), [null, 'worker-a', null, null, null, 'worker-b', null]);
  assert.deepEqual(workerLabels(entries.slice(2)), ['worker-a', null, null, 'worker-b', null], 'the first line shown names it');
  assert.deepEqual(workerLabels([entry(0, 'a'), entry(1, 'b')]), [null, null], 'a local goal');

  const row = rowText(logRow(entries[1]!, 80, '', false, 'worker-a'));
  assert.match(row, /^ {2}\d\d:\d\d:\d\d decision {3}\[worker-a\] worker a runs attempt 1$/);
  assert.doesNotMatch(rowText(logRow(entries[2]!, 80, '', false)), /worker-a/);
});

test('a hostile worker name is one line without controls, cut short; one that is not a name is none', () => {
  const [label] = workerLabels([entry(0, 'x', `evil\u001b]52;c;ZXZpbA==\u0007\r\nname${'y'.repeat(200)}`)]);
  assert.ok(label);
  assert.doesNotMatch(label, /[\u0000-\u001f\u007f-\u009f]/);
  const row = rowText(logRow(entry(0, 'x'), 80, '', false, label));
  assert.doesNotMatch(row, /[\u0000-\u001f\u007f-\u009f]/);
  assert.match(row, /\[evil \]52;c;ZXZpbA==…\] x$/);
  assert.deepEqual(workerLabels([entry(0, 'x', 42), entry(1, 'y', '\u001b\u0007 '), entry(2, 'z', { name: 'w' })]), [null, null, null]);
});
