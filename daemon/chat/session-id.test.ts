import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSessionIds, isSessionId, nextSessionId } from './session-id.ts';

describe('chat session ids', () => {
  it('sort by date, then by number (10 after 9)', () => {
    const ids = ['2026-11-26-10', '2026-11-27-1', '2026-11-26-9', '2025-12-31-3'];
    assert.deepEqual([...ids].sort(compareSessionIds), ['2025-12-31-3', '2026-11-26-9', '2026-11-26-10', '2026-11-27-1']);
  });

  it("number a day's sessions from 1, and a new day starts again", () => {
    const day = new Date(2026, 10, 26, 15, 0);
    assert.equal(nextSessionId([], day), '2026-11-26-1');
    assert.equal(nextSessionId(['2026-11-26-1', '2026-11-26-2'], day), '2026-11-26-3');
    assert.equal(nextSessionId(['2026-11-25-7'], day), '2026-11-26-1');
  });

  it('stay newer than every session even when the clock went back a day', () => {
    assert.equal(nextSessionId(['2026-11-27-2'], new Date(2026, 10, 26)), '2026-11-27-3');
  });

  it('accept nothing that could leave the chat folder', () => {
    for (const bad of ['../x', '2026-11-26-1/..', '2026-11-26', '2026-11-26-0', '2026-11-26-1.jsonl', ''])
      assert.equal(isSessionId(bad), false, bad);
    assert.equal(isSessionId('2026-11-26-12'), true);
  });
});
