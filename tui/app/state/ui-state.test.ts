import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialUi, reduceUi, type UiAction, type UiState } from './ui-state.ts';

const run = (ui: UiState, ...actions: UiAction[]) => actions.reduce(reduceUi, ui);
const type = (text: string): UiAction => ({ kind: 'chat-edit', edit: { kind: 'insert', text } });

test('focus moves through the panes both ways and wraps', () => {
  const ui = initialUi();
  assert.equal(ui.focus, 'pipeline');
  assert.equal(run(ui, { kind: 'focus-step', step: 1 }).focus, 'chat');
  assert.equal(
    run(ui, { kind: 'focus-step', step: 1 }, { kind: 'focus-step', step: 1 }, { kind: 'focus-step', step: 1 }).focus,
    'pipeline',
  );
  assert.equal(run(ui, { kind: 'focus-step', step: -1 }).focus, 'log');
});

test('↑ recalls earlier messages, ↓ comes back to what was being typed', () => {
  let ui = run(initialUi(['first', 'second']), type('draft'));
  ui = reduceUi(ui, { kind: 'history', step: -1 });
  assert.equal(ui.chatInput.text, 'second');
  ui = run(ui, { kind: 'history', step: -1 }, { kind: 'history', step: -1 });
  assert.equal(ui.chatInput.text, 'first', 'the oldest stays');
  ui = run(ui, { kind: 'history', step: 1 }, { kind: 'history', step: 1 });
  assert.equal(ui.chatInput.text, 'draft');
  assert.equal(ui.history.cursor, null);
});

test('a sent message empties the input and joins the history (no repeats in a row)', () => {
  let ui = run(initialUi(), type('hello'), { kind: 'chat-sent', text: 'hello' });
  assert.equal(ui.chatInput.text, '');
  ui = run(ui, { kind: 'chat-sent', text: 'hello' }, { kind: 'chat-sent', text: 'again' });
  assert.deepEqual(ui.history.entries, ['hello', 'again']);
});

test('a message that failed to send comes back, unless something new was typed', () => {
  let ui = run(initialUi(), type('x'), { kind: 'chat-sent', text: 'x' }, { kind: 'chat-restore', text: 'x' });
  assert.equal(ui.chatInput.text, 'x');
  ui = run(initialUi(), type('newer'), { kind: 'chat-restore', text: 'old' });
  assert.equal(ui.chatInput.text, 'newer');
});

test('the new-goal prompt edits its own line', () => {
  const ui = run(
    initialUi(),
    { kind: 'prompt', prompt: { kind: 'new-goal', line: { text: '', cursor: 0 } } },
    { kind: 'prompt-edit', edit: { kind: 'insert', text: 'Title' } },
  );
  assert.deepEqual(ui.prompt, { kind: 'new-goal', line: { text: 'Title', cursor: 5 } });
  assert.equal(ui.chatInput.text, '');
});
