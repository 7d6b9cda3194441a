import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_LINE, editLine, lineOf, splitAtCursor, type LineEdit } from './input-line.ts';

const apply = (text: string, cursor: number, ...edits: LineEdit[]) => edits.reduce(editLine, { text, cursor });

test('typing inserts at the cursor; pasted line breaks become spaces and controls go', () => {
  assert.deepEqual(apply('', 0, { kind: 'insert', text: 'helo' }, { kind: 'move', to: 'left' }, { kind: 'insert', text: 'l' }), {
    text: 'hello',
    cursor: 4,
  });
  assert.deepEqual(editLine(EMPTY_LINE, { kind: 'insert', text: 'a\nb\u001b[2Jc' }), { text: 'a b[2Jc', cursor: 7 });
});

test('deleting back and forward, by word, and to either end', () => {
  assert.deepEqual(apply('hello', 5, { kind: 'delete-back' }), { text: 'hell', cursor: 4 });
  assert.deepEqual(apply('hello', 0, { kind: 'delete-back' }), { text: 'hello', cursor: 0 });
  assert.deepEqual(apply('hello', 0, { kind: 'delete-forward' }), { text: 'ello', cursor: 0 });
  assert.deepEqual(apply('one two  ', 9, { kind: 'delete-word-back' }), { text: 'one ', cursor: 4 });
  assert.deepEqual(apply('one two', 4, { kind: 'clear-to-start' }), { text: 'two', cursor: 0 });
  assert.deepEqual(apply('one two', 3, { kind: 'clear-to-end' }), { text: 'one', cursor: 3 });
});

test('moving by character, word and line stays inside the text', () => {
  assert.equal(apply('one two', 7, { kind: 'move', to: 'word-left' }).cursor, 4);
  assert.equal(apply('one two', 0, { kind: 'move', to: 'word-right' }).cursor, 3);
  assert.equal(apply('ab', 2, { kind: 'move', to: 'right' }).cursor, 2);
  assert.equal(apply('ab', 1, { kind: 'move', to: 'start' }).cursor, 0);
  assert.equal(apply('日本', 0, { kind: 'move', to: 'end' }).cursor, 2, 'code points, not UTF-16 units');
});

test('the cursor splits the text for drawing', () => {
  assert.deepEqual(splitAtCursor({ text: 'abc', cursor: 1 }), { before: 'a', under: 'b', after: 'c' });
  assert.deepEqual(splitAtCursor(lineOf('abc')), { before: 'abc', under: ' ', after: '' });
});
