import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beginUnit, reportOnUnit } from './progress.ts';
import { ProgressUnit } from './research.ts';

const TIME = '2026-01-02T03:04:05.000Z';

describe('progress units', () => {
  it('begins a unit with what the event says, and nothing it does not', () => {
    const unit = beginUnit({ token: 'research:r1:a1', kind: 'research-agent', title: 'Why?', total: 20, parent: 'research:r1' }, TIME);
    assert.deepEqual(unit, {
      token: 'research:r1:a1',
      kind: 'research-agent',
      title: 'Why?',
      total: 20,
      parent: 'research:r1',
      startedAt: TIME,
    });
    assert.deepEqual(Object.keys(beginUnit({ token: 'goal:1:1', kind: 'iteration', title: 'it 1' }, TIME)).sort(), [
      'kind',
      'startedAt',
      'title',
      'token',
    ]);
    assert.ok(ProgressUnit.safeParse(unit).success);
  });

  it('applies a report: what it carries changes, what it leaves out is kept, the unit itself is untouched', () => {
    const begun = beginUnit({ token: 't', kind: 'iteration', title: 'it 1', total: 10 }, TIME);
    const first = reportOnUnit(begun, { token: 't', done: 3, message: 'reading a.ts', tokens: 1200, costUsd: 0.01 });
    const second = reportOnUnit(first, { token: 't', done: 4, message: undefined, costUsd: null });
    assert.deepEqual(second, { ...begun, done: 4, message: 'reading a.ts', tokens: 1200, costUsd: null });
    assert.equal(begun.done, undefined);
    assert.equal(first.done, 3);
  });

  it("keeps the fields of a richer unit (the TUI's ended units)", () => {
    const ended = { ...beginUnit({ token: 't', kind: 'k', title: 'x' }, TIME), outcome: 'done' as const };
    assert.equal(reportOnUnit(ended, { token: 't', done: 1 }).outcome, 'done');
  });
});
