import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeGoal } from '../testing/fixtures.ts';
import { pipelineLines, scrollWindow } from './pipeline-lines.ts';

describe('pipelineLines', () => {
  test('a header per group, then its goals; invalid goals last under their own header', () => {
    const lines = pipelineLines(
      [
        { state: 'running', goals: [makeGoal(2, 'running')] },
        { state: 'draft', goals: [makeGoal(1), makeGoal(3)] },
      ],
      [{ id: 4, file: '.ralph/goals/4.json', error: 'bad' }],
      3,
    );
    assert.deepEqual(
      lines.map((line) => (line.kind === 'header' ? `${line.label} (${line.count})` : line.kind === 'goal' ? `#${line.goal.id}${line.selected ? '*' : ''}` : `!${line.invalid.id}`)),
      ['Running (1)', '#2', 'Draft (2)', '#1', '#3*', 'Invalid (1)', '!4'],
    );
  });
});

describe('scrollWindow', () => {
  const shownLines = (w: ReturnType<typeof scrollWindow>) => w.end - w.start + (w.above > 0 ? 1 : 0) + (w.below > 0 ? 1 : 0);

  test('everything shows when it fits', () => {
    assert.deepEqual(scrollWindow(5, 4, 5), { start: 0, end: 5, above: 0, below: 0 });
  });

  test('at the top: no marker above, one below', () => {
    const w = scrollWindow(100, 0, 10);
    assert.deepEqual(w, { start: 0, end: 9, above: 0, below: 91 });
    assert.equal(shownLines(w), 10);
  });

  test('at the bottom: one marker above, none below', () => {
    const w = scrollWindow(100, 99, 10);
    assert.deepEqual(w, { start: 91, end: 100, above: 91, below: 0 });
    assert.equal(shownLines(w), 10);
  });

  test('in the middle the focus is visible and the rows are exactly filled', () => {
    for (let focus = 0; focus < 50; focus++) {
      for (const height of [1, 2, 3, 4, 10]) {
        const w = scrollWindow(50, focus, height);
        assert.ok(w.start <= focus && focus < w.end, `focus ${focus} in [${w.start}, ${w.end}) at height ${height}`);
        assert.equal(shownLines(w), height, `height ${height}, focus ${focus}`);
      }
    }
  });
});
