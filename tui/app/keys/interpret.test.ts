import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reply, SESSION } from '../../../test/helpers/tui/chat-fixtures.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../../test/helpers/tui/fixtures.ts';
import { press } from '../../../test/helpers/tui/keys.ts';
import { initialViewState, reduce, type ViewState } from '../state/view-state.ts';
import type { Goal } from '../../../protocol/index.ts';
import { interpretKey, type Command, type Intent, type KeyLayout } from './interpret.ts';
import { buildKeymap } from './keymap.ts';
import { openAgentPicker } from '../state/agent-picker.ts';

const LAYOUT: KeyLayout = { logRows: 10, chatRows: 10, chatMaxScroll: 30, helpMaxScroll: 5 };
const keymap = buildKeymap();

function stateWith(goals: Goal[], focus: 'pipeline' | 'chat' | 'log' = 'pipeline'): ViewState {
  const state = initialViewState(makeSnapshot({ seq: 1, goals }), 'open');
  return reduce(state, { kind: 'ui', action: { kind: 'focus', pane: focus } });
}

/** Presses keys in order, applying each key's view actions; returns the commands and whether it quit. */
function keys(state: ViewState, ...names: string[]): { state: ViewState; commands: Command[]; quit: boolean; intents: Intent[] } {
  const commands: Command[] = [];
  const intents: Intent[] = [];
  let quit = false;
  for (const name of names) {
    for (const intent of interpretKey(state, keymap, ...press(name), LAYOUT)) {
      intents.push(intent);
      if (intent.kind === 'dispatch') state = reduce(state, intent.action);
      else if (intent.kind === 'command') commands.push(intent.command);
      else quit = true;
    }
  }
  return { state, commands, quit, intents };
}

describe('pipeline keys', () => {
  const goals = [makeGoal(1, 'draft'), makeGoal(2, 'running'), makeGoal(3, 'stuck'), makeGoal(4, 'done')];

  test('each goal action sends its request for the selected goal', () => {
    const at = (id: number) => reduce(stateWith(goals), { kind: 'select-goal', id });
    assert.deepEqual(keys(at(1), 'Q').commands, [{ kind: 'goal', verb: 'queue', goalId: 1 }]);
    assert.deepEqual(keys(at(2), 'p').commands, [{ kind: 'goal', verb: 'pause', goalId: 2 }]);
    assert.deepEqual(keys(at(3), 'r').commands, [{ kind: 'goal', verb: 'retry', goalId: 3 }]);
    assert.deepEqual(keys(at(4), 'L').commands, [{ kind: 'goal', verb: 'land', goalId: 4 }]);
    assert.deepEqual(keys(at(3), 'e').commands, [{ kind: 'edit-spec', goalId: 3 }]);
    assert.deepEqual(keys(at(1), 'P').commands, [{ kind: 'pipeline', pause: true }]);
  });

  test('Enter queues a draft and opens the log of any other goal; o opens the log', () => {
    const state = stateWith(goals);
    assert.deepEqual(keys(reduce(state, { kind: 'select-goal', id: 1 }), 'enter').commands, [{ kind: 'goal', verb: 'queue', goalId: 1 }]);
    const opened = keys(reduce(state, { kind: 'select-goal', id: 3 }), 'enter');
    assert.deepEqual(opened.commands, []);
    assert.equal(opened.state.ui.focus, 'log');
    assert.equal(opened.state.log.goalId, 3);
    assert.equal(keys(state, 'o').state.ui.focus, 'log');
  });

  test('cancel asks first: y cancels, n or Esc does not', () => {
    const state = reduce(stateWith(goals), { kind: 'select-goal', id: 2 });
    const asked = keys(state, 'c');
    assert.deepEqual(asked.state.ui.prompt, { kind: 'confirm-cancel', goalId: 2, title: 'Goal number 2' });
    assert.deepEqual(asked.commands, []);
    assert.deepEqual(keys(asked.state, 'j', 'y').commands, [{ kind: 'goal', verb: 'cancel', goalId: 2 }], 'other keys wait for the answer');
    for (const no of ['n', 'escape']) {
      const declined = keys(asked.state, no);
      assert.deepEqual(declined.commands, []);
      assert.equal(declined.state.ui.prompt, null);
    }
  });

  test('a final goal cannot be cancelled, a running one not edited: the notice says so', () => {
    const done = keys(reduce(stateWith(goals), { kind: 'select-goal', id: 4 }), 'c');
    assert.equal(done.state.ui.prompt, null);
    assert.match(done.state.ui.notice?.text ?? '', /#4 is done: there is nothing to cancel/);
    const running = keys(reduce(stateWith(goals), { kind: 'select-goal', id: 2 }), 'e');
    assert.deepEqual(running.commands, []);
    assert.match(running.state.ui.notice?.text ?? '', /#2 is running: its spec can no longer be edited/);
  });

  test('n asks for a title and creates a draft; an empty title or Esc creates nothing', () => {
    const typed = keys(stateWith(goals), 'n', 'F', 'i', 'x', ' ', 'q', 'backspace', 'i', 't');
    assert.equal(typed.quit, false, 'q is text in the title');
    assert.deepEqual(keys(typed.state, 'enter').commands, [{ kind: 'create-goal', title: 'Fix it' }]);
    assert.deepEqual(keys(stateWith(goals), 'n', 'enter').commands, []);
    const escaped = keys(typed.state, 'escape');
    assert.equal(escaped.state.ui.prompt, null);
    assert.deepEqual(escaped.commands, []);
  });

  test('A asks for the agents of a goal that does not run; the picker moves, Enter sets a changed choice, Esc sets none', () => {
    const at = (id: number) => reduce(stateWith(goals), { kind: 'select-goal', id });
    assert.deepEqual(keys(at(3), 'A').commands, [{ kind: 'choose-agent', goalId: 3 }]);
    assert.deepEqual(keys(at(1), 'A').commands, [{ kind: 'choose-agent', goalId: 1 }]);
    const running = keys(at(2), 'A');
    assert.deepEqual(running.commands, []);
    assert.match(running.state.ui.notice?.text ?? '', /#2 is running: its agent can be changed once it is paused or stuck/);
    assert.match(keys(at(4), 'A').state.ui.notice?.text ?? '', /#4 is done: its agent can no longer be changed/);

    const agents = ['ralph', 'claude'].map((name) => ({
      name,
      displayName: name,
      installed: true,
      version: null,
      path: null,
      auth: '',
      install: null,
      problem: null,
    }));
    const picking = reduce(at(3), {
      kind: 'ui',
      action: { kind: 'prompt', prompt: { kind: 'pick-agent', picker: openAgentPicker(goals[2]!, agents, 'ralph') } },
    });
    const moved = keys(picking, 'right', 'j', 'left', 'l');
    assert.equal(
      moved.state.ui.prompt?.kind === 'pick-agent' && moved.state.ui.prompt.picker.index,
      2,
      'default → ralph → claude → ralph → claude',
    );
    assert.deepEqual(moved.commands, [], 'moving sends nothing; j is no goal key while the picker is open');
    const set = keys(moved.state, 'enter');
    assert.deepEqual(set.commands, [{ kind: 'set-agent', goalId: 3, agent: 'claude' }]);
    assert.equal(set.state.ui.prompt, null);
    assert.deepEqual(keys(picking, 'enter').commands, [], 'the choice it already has: nothing to send');
    const escaped = keys(moved.state, 'escape');
    assert.deepEqual([escaped.commands, escaped.state.ui.prompt], [[], null]);
  });

  test('with no goal selected, a goal key says so', () => {
    const none = keys(stateWith([]), 'Q');
    assert.deepEqual(none.commands, []);
    assert.equal(none.state.ui.notice?.text, 'no goal selected');
  });
});

describe('global keys', () => {
  test('Tab and Shift+Tab move the focus; ? opens and closes the help', () => {
    const state = stateWith([]);
    assert.equal(keys(state, 'tab').state.ui.focus, 'chat');
    assert.equal(keys(state, 'shift+tab').state.ui.focus, 'log');
    const help = keys(state, '?');
    assert.equal(help.state.ui.helpOpen, true);
    assert.equal(keys(help.state, 'j').state.ui.helpScroll, 1);
    assert.equal(keys(help.state, '?').state.ui.helpOpen, false);
    assert.equal(keys(help.state, 'escape').state.ui.helpOpen, false);
  });

  test('Ctrl+C leaves from anywhere; q everywhere but where it is text', () => {
    for (const focus of ['pipeline', 'chat', 'log'] as const) assert.ok(keys(stateWith([], focus), 'ctrl+c').quit, focus);
    assert.ok(keys(stateWith([], 'pipeline'), 'q').quit);
    assert.ok(keys(stateWith([], 'log'), 'q').quit);
    const chat = keys(stateWith([], 'chat'), 'q', '?');
    assert.equal(chat.quit, false);
    assert.equal(chat.state.ui.chatInput.text, 'q?');
    assert.equal(chat.state.ui.helpOpen, false);
  });
});

describe('chat keys', () => {
  test('typing edits the input; Enter sends it and clears it', () => {
    const sent = keys(stateWith([], 'chat'), 'h', 'i', 'enter');
    assert.deepEqual(sent.commands, [{ kind: 'chat-send', text: 'hi' }]);
    assert.equal(sent.state.ui.chatInput.text, '');
    assert.deepEqual(keys(stateWith([], 'chat'), ' ', 'enter').commands, [], 'nothing to send');
  });

  test('/new starts a new session', () => {
    assert.deepEqual(keys(stateWith([], 'chat'), '/', 'n', 'e', 'w', 'enter').commands, [{ kind: 'chat-new' }]);
    assert.deepEqual(keys(stateWith([], 'chat'), 'ctrl+n').commands, [{ kind: 'chat-new' }]);
  });

  test('Esc interrupts a reply being written, and does nothing when none is', () => {
    const idle = stateWith([], 'chat');
    assert.deepEqual(keys(idle, 'escape').commands, []);
    const streaming = reduce(idle, { kind: 'event', event: makeEvent(2, 'chat.message', { message: reply('a1') }) });
    assert.deepEqual(keys(streaming, 'escape').commands, [{ kind: 'chat-interrupt' }]);
  });

  test('↑ recalls your earlier message', () => {
    const state = keys(stateWith([], 'chat'), 'o', 'n', 'e', 'enter', 't', 'w', 'o', 'enter').state;
    assert.equal(keys(state, 'up').state.ui.chatInput.text, 'two');
    assert.equal(keys(state, 'up', 'up').state.ui.chatInput.text, 'one');
    assert.equal(keys(state, 'up', 'up', 'down', 'down').state.ui.chatInput.text, '');
  });

  test('the draft the agent proposed in this session is queued with one key', () => {
    const proposed = { ...makeGoal(7), links: { chat: SESSION } };
    const state = stateWith([makeGoal(1), proposed, { ...makeGoal(8), links: { chat: 'another-session' } }], 'chat');
    assert.deepEqual(keys(state, 'ctrl+y').commands, [{ kind: 'goal', verb: 'queue', goalId: 7 }]);
    const none = keys(stateWith([makeGoal(1)], 'chat'), 'ctrl+y');
    assert.deepEqual(none.commands, []);
    assert.match(none.state.ui.notice?.text ?? '', /no draft goal from this chat/);
  });

  test('PgUp scrolls back (asking for older messages near the top), PgDn forward; Ctrl+O toggles research details', () => {
    const up = keys(stateWith([], 'chat'), 'pageup');
    assert.equal(up.state.ui.chatScroll, 9);
    assert.equal(keys(up.state, 'pagedown').state.ui.chatScroll, 0);
    const top = keys(stateWith([], 'chat'), 'pageup', 'pageup', 'pageup', 'pageup', 'pageup');
    assert.equal(top.state.ui.chatScroll, 30, 'not past the top');
    assert.ok(
      top.intents.some((intent) => intent.kind === 'dispatch' && intent.action.kind === 'chat'),
      'older messages asked for',
    );
    assert.equal(keys(stateWith([], 'chat'), 'ctrl+o').state.ui.researchExpanded, true);
  });
});

describe('log keys', () => {
  test('j/k and pages scroll, g goes to the top, G follows; / searches and n/N walk the matches', () => {
    const state = stateWith([makeGoal(1, 'running')], 'log');
    const want = state.log.want!;
    const entries = Array.from({ length: 40 }, (_, i) => ({
      goalId: 1,
      index: i,
      time: '2025-01-02T03:04:05.000Z',
      kind: 'note',
      text: i % 10 === 0 ? `check ${i}` : `line ${i}`,
    }));
    const loaded = reduce(state, { kind: 'log', action: { kind: 'page', want, page: { entries, next: 40, total: 40 } } });
    assert.equal(keys(loaded, 'k').state.log.follow, false);
    assert.equal(keys(loaded, 'k', 'G').state.log.follow, true);
    assert.equal(keys(loaded, 'g').state.log.top, 0);
    const searched = keys(loaded, '/', 'c', 'h', 'e', 'c', 'k', 'enter');
    assert.equal(searched.state.log.search.query, 'check');
    assert.equal(searched.state.log.search.match, 30);
    assert.equal(keys(searched.state, 'N').state.log.search.match, 20);
    assert.equal(keys(searched.state, 'n').state.log.search.match, 0);
    assert.equal(keys(searched.state, 'escape').state.log.search.query, '', 'Esc clears the search');
    assert.equal(keys(loaded, '/', 'q').quit, false, 'q is text in the search');
  });
});

describe('custom keys', () => {
  test('a binding from tui.keys is what the key does', () => {
    const custom = buildKeymap({ goalQueue: 'a' });
    const state = stateWith([makeGoal(1)]);
    const intents = interpretKey(state, custom, ...press('a'), LAYOUT);
    assert.deepEqual(intents, [{ kind: 'command', command: { kind: 'goal', verb: 'queue', goalId: 1 } }]);
    assert.deepEqual(interpretKey(state, custom, ...press('Q'), LAYOUT), []);
  });
});
