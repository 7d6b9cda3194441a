import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, excerpt, jsonObjectLine, text, worktreePath } from './json-lines.ts';

describe('reading an agent CLI’s output lines', () => {
  it('takes only JSON objects; anything else is for the caller to keep raw', () => {
    for (const line of ['', 'not json', '[1,2]', '"text"', '42', 'null', '{"a":1', '\u001b[31m{"a":1}']) {
      assert.equal(jsonObjectLine(line), null, line);
    }
    const parsed = jsonObjectLine('{"__proto__":{"polluted":true},"type":"x"}');
    assert.equal(parsed?.type, 'x');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads a field as text or a count only when it is one', () => {
    assert.equal(text(5), '');
    assert.equal(text({ toString: () => 'x' }), '');
    assert.equal(count(-1), 0);
    assert.equal(count(1.5), 0);
    assert.equal(count('7'), 0);
    assert.equal(count(7), 7);
  });

  it('keeps the end of a long output and nothing of a blank one', () => {
    assert.equal(excerpt('  \n', 10), undefined);
    assert.equal(excerpt('0123456789abc', 5), '…9abc');
  });

  it('shows paths inside the worktree relative to it, and any other path as the CLI gave it', () => {
    assert.equal(worktreePath('/w/goal-1/src/a.ts', '/w/goal-1'), 'src/a.ts');
    assert.equal(worktreePath('/w/goal-1/../goal-2/a.ts', '/w/goal-1'), '/w/goal-1/../goal-2/a.ts');
    assert.equal(worktreePath('/w/goal-10/a.ts', '/w/goal-1'), '/w/goal-10/a.ts');
    assert.equal(worktreePath('/w/goal-1', '/w/goal-1'), '/w/goal-1');
    assert.equal(worktreePath('src/a.ts', '/w/goal-1'), 'src/a.ts');
    assert.equal(worktreePath('/etc/passwd', null), '/etc/passwd');
  });
});
