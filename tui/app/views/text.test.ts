import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanText, displayWidth, oneLine, rowText, takeEnd, truncate, truncateRow, wrapSegments, wrapText } from './text.ts';

const texts = (rows: ReturnType<typeof wrapText>) => rows.map(rowText);

describe('text', () => {
  test('oneLine and cleanText drop control characters; cleanText keeps line breaks', () => {
    assert.equal(oneLine('a\u001b[2J\nb\tc'), 'a [2J b c');
    assert.equal(cleanText('a\u001b[31mred\r\nb\tc\u0007'), 'a[31mred\nb  c');
  });

  test('wide characters count two columns, combining marks none', () => {
    assert.equal(displayWidth('abc'), 3);
    assert.equal(displayWidth('日本'), 4);
    assert.equal(displayWidth('e\u0301'), 1);
    assert.equal(displayWidth('🚀'), 2);
  });

  test("widths are Ink's: emoji presentation, skin tones and joined emoji are one two-column character", () => {
    for (const char of ['✅', '❌', '⭐', '☕', '⌛', '👍🏽', '👩‍💻', '🇫🇷']) assert.equal(displayWidth(char), 2, char);
    assert.equal(displayWidth('done ✅ in 3 ⌛'), 15);
    // A cut never splits a character: the skin tone stays with its thumb, the accent with its letter.
    assert.equal(truncate('ok 👍🏽👍🏽 fine', 6), 'ok 👍🏽…');
    assert.equal(truncate('cafe\u0301 au lait', 5), 'cafe\u0301…');
    assert.equal(takeEnd('x👍🏽', 2), '👍🏽');
    for (const row of wrapText('✅✅✅✅✅✅✅ 中文字符测试 👍🏽👍🏽👍🏽👍🏽 e\u0301e\u0301e\u0301', 7)) {
      assert.ok(displayWidth(rowText(row)) <= 7, `${rowText(row)} fits 7 columns`);
    }
  });

  test('truncate marks the cut; takeEnd keeps the end', () => {
    assert.equal(truncate('hello world', 8), 'hello w…');
    assert.equal(truncate('hello', 5), 'hello');
    assert.equal(truncate('日本語', 4), '日…');
    assert.equal(takeEnd('hello world', 5), 'world');
  });

  test('wrapping breaks at spaces, and inside a word only when it is wider than a row', () => {
    assert.deepEqual(texts(wrapText('the quick brown fox jumps', 10)), ['the quick', 'brown fox', 'jumps']);
    assert.deepEqual(texts(wrapText('abcdefghijklmnop', 6)), ['abcdef', 'ghijkl', 'mnop']);
    assert.deepEqual(texts(wrapText('ab cdefghijklmnop', 6)), ['ab cde', 'fghijk', 'lmnop']);
    assert.deepEqual(texts(wrapText('one\ntwo', 10)), ['one', 'two']);
    for (const row of wrapText('word '.repeat(50), 13)) assert.ok(displayWidth(rowText(row)) <= 13);
  });

  test('wrapped rows keep their styles and the hanging indent', () => {
    const rows = wrapSegments([{ text: 'bold words here', style: { bold: true } }, { text: ' and plain ones' }], 12, {
      firstPrefix: [{ text: '• ' }],
    });
    assert.deepEqual(rows.map(rowText), ['• bold words', '  here and', '  plain ones']);
    assert.deepEqual(rows[1]?.[1], { text: 'here', style: { bold: true } });
  });

  test('a row is truncated to its width', () => {
    const row = truncateRow([{ text: 'abc' }, { text: 'defgh', style: { bold: true } }], 6);
    assert.deepEqual(row, [{ text: 'abc' }, { text: 'de…', style: { bold: true } }]);
  });
});
