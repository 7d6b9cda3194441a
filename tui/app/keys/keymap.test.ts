import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { press } from '../../../test/helpers/tui/keys.ts';
import { ACTION_NAMES, type ACTIONS, buildKeymap, keyName, parseKey, parseKeySpec, showKey, showKeys } from './keymap.ts';

describe('key specs', () => {
  test('keys parse to one canonical form', () => {
    assert.deepEqual(parseKeySpec('ctrl+c q'), ['ctrl+c', 'q']);
    assert.equal(parseKey('Ctrl+Shift+Tab'), 'ctrl+shift+tab');
    assert.equal(parseKey('shift+q'), 'Q', 'a shifted letter is the capital');
    assert.equal(parseKey('ctrl+Y'), 'ctrl+y', 'terminals send ctrl+y for both');
    assert.equal(parseKey('alt+b'), 'meta+b');
    assert.equal(parseKey('esc'), 'escape');
    assert.equal(parseKey('Return'), 'enter');
    assert.equal(parseKey('+'), '+');
  });

  test('a bad spec says what is wrong', () => {
    assert.throws(() => parseKey('hyper+x'), /unknown modifier "hyper"/);
    assert.throws(() => parseKey('ctrl+banana'), /unknown key "banana"/);
    assert.throws(() => parseKeySpec('  '), /no key given/);
  });

  test('Ink key events get the same names', () => {
    const names = ['j', 'Q', '?', 'enter', 'escape', 'tab', 'shift+tab', 'up', 'pagedown', 'ctrl+y', 'backspace'].map((name) =>
      keyName(...press(name)),
    );
    assert.deepEqual(names, ['j', 'Q', '?', 'enter', 'escape', 'tab', 'shift+tab', 'up', 'pagedown', 'ctrl+y', 'backspace']);
    assert.equal(keyName('hello', press('h')[1]), null, 'a paste is not a key');
  });

  test('keys are shown as people read them', () => {
    assert.deepEqual(['ctrl+c', 'shift+tab', 'down', 'Q', 'pageup', 'escape'].map(showKey), [
      'Ctrl+C',
      'Shift+Tab',
      '↓',
      'Q',
      'PgUp',
      'Esc',
    ]);
  });
});

describe('keymap', () => {
  test('the defaults bind every action, with no key bound twice where both could apply', () => {
    const keymap = buildKeymap();
    assert.deepEqual(keymap.problems, []);
    for (const name of ACTION_NAMES) assert.ok(keymap.keys[name].length > 0, name);
    for (const context of ['pipeline', 'chat', 'log'] as const) {
      for (const [key] of keymap.bindings[context]) assert.ok(!keymap.bindings.global.has(key), `${context} ${key} shadows a global key`);
    }
    for (const [key] of keymap.bindings.chat) assert.ok([...key].length > 1, `chat key ${key} would type text`);
  });

  test('the default keys: Q queues, enter opens, p pauses, c cancels, r retries, L lands, and the rest', () => {
    const keymap = buildKeymap();
    const bound = (action: keyof typeof ACTIONS) => keymap.keys[action].join(' ');
    assert.equal(bound('goalQueue'), 'Q');
    assert.equal(bound('goalEnter'), 'enter');
    assert.equal(bound('goalPause'), 'p');
    assert.equal(bound('goalCancel'), 'c');
    assert.equal(bound('goalRetry'), 'r');
    assert.equal(bound('goalLand'), 'L');
    assert.equal(bound('goalLog'), 'o');
    assert.equal(bound('goalEdit'), 'e');
    assert.equal(bound('goalNew'), 'n');
    assert.equal(bound('chatSend'), 'enter');
    assert.equal(bound('chatInterrupt'), 'escape');
    assert.equal(bound('chatHistoryBack'), 'up');
    assert.equal(bound('nextPane'), 'tab');
    assert.equal(bound('previousPane'), 'shift+tab');
    assert.equal(bound('help'), '?');
    assert.ok(keymap.keys.quit.includes('ctrl+c'));
  });

  test('tui.keys changes a binding; the old key is free again', () => {
    const keymap = buildKeymap({ goalNew: 'a', chatNew: 'ctrl+t', logSearch: 'ctrl+f /' });
    assert.deepEqual(keymap.problems, []);
    assert.equal(keymap.bindings.pipeline.get('a'), 'goalNew');
    assert.equal(keymap.bindings.pipeline.get('n'), undefined);
    assert.equal(keymap.bindings.chat.get('ctrl+t'), 'chatNew');
    assert.equal(showKeys(keymap, 'logSearch'), 'Ctrl+F//');
  });

  test('a bad tui.keys entry is refused with its reason, and its action keeps its keys', () => {
    const keymap = buildKeymap({ goalNew: 'q', chatSend: 'x', nosuch: 'z', goalPause: 'ctrl+banana', goalRetry: 'p' });
    assert.equal(keymap.problems.length, 5);
    assert.match(keymap.problems.join('\n'), /tui\.keys\.goalNew: "q" is already quit's key/);
    assert.match(keymap.problems.join('\n'), /tui\.keys\.chatSend: "x" types text in the chat/);
    assert.match(keymap.problems.join('\n'), /tui\.keys\.nosuch: no such action/);
    assert.match(keymap.problems.join('\n'), /tui\.keys\.goalPause: .*unknown key "banana"/);
    assert.match(keymap.problems.join('\n'), /tui\.keys\.goalRetry: "p" is already goalPause's key/);
    assert.deepEqual(keymap.keys.goalNew, ['n']);
    assert.deepEqual(keymap.keys.chatSend, ['enter']);
  });
});
