import assert from 'node:assert/strict';
import { test } from 'node:test';
import { press } from '../../../test/helpers/tui/keys.ts';
import { keyName } from './keymap.ts';
import { splitKeys } from './split-keys.ts';

const names = (input: string, textField: boolean | (() => boolean) = false) =>
  [...splitKeys(input, press('x')[1], typeof textField === 'function' ? textField : () => textField)].map(
    ([one, key]) => keyName(one, key) ?? one,
  );

test('a chunk of typed keys is each key', () => {
  assert.deepEqual(names('jjk'), ['j', 'j', 'k']);
  assert.deepEqual(names('\t\t'), ['tab', 'tab'], 'two Tabs sent at once');
  assert.deepEqual(names('ab\rQ\u0019\u007f'), ['a', 'b', 'enter', 'Q', 'ctrl+y', 'backspace']);
});

test('one key Ink recognised stays as it is', () => {
  const [only] = [...splitKeys('', press('enter')[1], () => false)];
  assert.equal(only?.[1].return, true);
});

test('in a text field a run of typed characters is one piece; a trailing Enter is Enter, a pasted line break a space', () => {
  assert.deepEqual(names('hello there\r', true), ['hello there', 'enter']);
  assert.deepEqual(names('line one\r\nline two', true), ['line one line two']);
  assert.deepEqual(names('ab\tcd', true), ['ab', 'tab', 'cd']);
});

test('the focus may change within a chunk: a Tab into the chat makes what follows text', () => {
  let inChat = false;
  const keys: string[] = [];
  for (const [one, key] of splitKeys('\thi', press('x')[1], () => inChat)) {
    if (key.tab) inChat = true; // what the App does with it, before the next piece is split
    keys.push(keyName(one, key) ?? one);
  }
  assert.deepEqual(keys, ['tab', 'hi']);
});
