/**
 * Rows hold text models write all the time (✅ ❌ ⭐ ☕ ⌛ 👍🏽, CJK, combining accents). Each row is
 * measured here the way Ink lays it out (string-width): a row wider than its pane would lose its
 * last column to Ink's cut, or wrap and push every row below it down.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import stringWidth from 'string-width';
import type { LogEntry } from '../../../protocol/index.ts';
import { progressFromSnapshot } from '../state/progress-state.ts';
import { reply, userMessage } from '../../../test/helpers/tui/chat-fixtures.ts';
import { messageRows } from './chat-lines.ts';
import { logRow } from './log-lines.ts';
import { rowText } from './text.ts';

const WIDTH = 80;
const WIDE =
  'Done ✅ tests ❌ none ⭐ star ☕ break ⌛ waiting 👍🏽 approved 👩‍💻 修复中文标题的宽度计算问题 Cafe\u0301 re\u0301sume\u0301 ';

function assertFits(rows: readonly (readonly { text: string }[])[], what: string): void {
  assert.ok(rows.length > 0);
  for (const row of rows) assert.ok(stringWidth(rowText(row)) <= WIDTH, `${what} row fits ${WIDTH} columns: ${rowText(row)}`);
}

describe('wide characters at 80 columns', () => {
  test('chat messages wrap within the pane', () => {
    const options = { researchExpanded: false, researchKey: 'Ctrl+O' };
    const progress = progressFromSnapshot([]);
    assertFits(messageRows(userMessage('u', WIDE.repeat(3)), progress, WIDTH, options), 'user message');
    assertFits(
      messageRows(
        reply('a', [{ id: 'p', type: 'text', text: `# ${WIDE}\n\n- ${WIDE.repeat(2)}\n\n${'✅'.repeat(70)}` }], 'done'),
        progress,
        WIDTH,
        options,
      ),
      'reply',
    );
  });

  test('log rows are cut within the pane', () => {
    const entry: LogEntry = { goalId: 1, index: 0, time: '2026-12-03T10:00:00.000Z', kind: 'tool', text: WIDE.repeat(2) };
    const row = logRow(entry, WIDTH, '', true);
    assertFits([row], 'log');
    assert.ok(stringWidth(rowText(row)) >= WIDTH - 1, 'and uses the pane, less at most one column for a cut wide character');
  });
});
