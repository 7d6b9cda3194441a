/**
 * What a key does, given the state as reduced so far: a list of intents — view actions to apply,
 * commands for the daemon, or leaving. Pure, so every binding is tested without a terminal; the
 * App applies the intents in order (a command's request and its error line live in the App's hooks).
 *
 * Who gets a key, first to last: a prompt waiting for an answer (y/n, a title), the help, the inbox, the log's
 * search field, the focused pane's bindings, the global bindings. In the chat, keys that type text
 * are text: bindings there use named keys or ctrl/meta, and the global `q`/`?` do not apply.
 */
import type { Key } from 'ink';
import type { Goal } from '../../../protocol/index.ts';
import { pickedAgent, type AgentPicker } from '../state/agent-picker.ts';
import { pickedQuestion } from '../state/inbox-state.ts';
import type { LineEdit } from '../state/input-line.ts';
import { streamingMessage, queuedReplies } from '../state/chat-state.ts';
import type { Pane } from '../state/ui-state.ts';
import { proposedDraft, selectedGoal, type ViewAction, type ViewState } from '../state/view-state.ts';
import { ACTIONS, isTypedKey, keyName, showKeys, type ActionName, type Keymap } from './keymap.ts';

export type GoalVerb = 'queue' | 'pause' | 'cancel' | 'retry' | 'land';

export type Command =
  | { kind: 'goal'; verb: GoalVerb; goalId: number }
  | { kind: 'create-goal'; title: string }
  | { kind: 'edit-spec'; goalId: number }
  /** Ask the daemon for the agent backends, then open the picker for the goal. */
  | { kind: 'choose-agent'; goalId: number }
  /** The goal's agent backend; null: none of its own (the config's default). */
  | { kind: 'set-agent'; goalId: number; agent: string | null }
  | { kind: 'pipeline'; pause: boolean }
  /** Write the answer to a question in $EDITOR, then send it. */
  | { kind: 'answer-question'; questionId: number }
  | { kind: 'chat-send'; text: string }
  | { kind: 'chat-new' }
  | { kind: 'chat-interrupt' };

export type Intent = { kind: 'dispatch'; action: ViewAction } | { kind: 'command'; command: Command } | { kind: 'quit' };

/** What the keys need to know about the frame: rows of the scrolling panes, how far the chat can scroll. */
export interface KeyLayout {
  logRows: number;
  chatRows: number;
  /** Rows the chat can scroll back (its content beyond one screen). */
  chatMaxScroll: number;
  helpMaxScroll: number;
}

export const NEW_CHAT_COMMAND = '/new';

const ui = (action: Extract<ViewAction, { kind: 'ui' }>['action']): Intent => ({ kind: 'dispatch', action: { kind: 'ui', action } });
const log = (action: Extract<ViewAction, { kind: 'log' }>['action']): Intent => ({ kind: 'dispatch', action: { kind: 'log', action } });
const command = (value: Command): Intent => ({ kind: 'command', command: value });
const notice = (text: string, tone: 'error' | 'info' = 'info'): Intent => ui({ kind: 'notice', notice: { tone, text } });

export function interpretKey(state: ViewState, keymap: Keymap, input: string, key: Key, layout: KeyLayout): Intent[] {
  const name = keyName(input, key);
  const globalAction = name === null ? undefined : keymap.bindings.global.get(name);
  // Leaving works from anywhere, whatever is open (but `q` is a letter in a text field).
  const textField = hasTextField(state);
  if (globalAction === 'quit' && !(textField && name !== null && isTypedKey(name))) return [{ kind: 'quit' }];

  const prompt = state.ui.prompt;
  if (prompt?.kind === 'pick-agent') return agentPickerIntents(prompt.picker, input, key);
  if (prompt?.kind === 'confirm-cancel') {
    if (input === 'y' || input === 'Y')
      return [ui({ kind: 'prompt', prompt: null }), command({ kind: 'goal', verb: 'cancel', goalId: prompt.goalId })];
    if (input === 'n' || input === 'N' || key.escape) return [ui({ kind: 'prompt', prompt: null })];
    return [];
  }
  if (prompt?.kind === 'new-goal') {
    if (key.escape) return [ui({ kind: 'prompt', prompt: null })];
    if (key.return) {
      const title = prompt.line.text.trim();
      return title === ''
        ? [ui({ kind: 'prompt', prompt: null })]
        : [ui({ kind: 'prompt', prompt: null }), command({ kind: 'create-goal', title })];
    }
    const edit = lineEditFor(input, key);
    return edit ? [ui({ kind: 'prompt-edit', edit })] : [];
  }

  if (state.ui.helpOpen) {
    if (key.escape || globalAction === 'help') return [ui({ kind: 'help', open: false })];
    if (input === 'j' || key.downArrow) return state.ui.helpScroll < layout.helpMaxScroll ? [ui({ kind: 'help-scroll', by: 1 })] : [];
    if (input === 'k' || key.upArrow) return [ui({ kind: 'help-scroll', by: -1 })];
    return [];
  }

  if (state.ui.inboxOpen) return inboxIntents(state, globalAction, input, key);

  const focus = state.ui.focus;
  if (focus === 'log' && state.log.search.editing) {
    if (key.escape) return [log({ kind: 'search-cancel' })];
    if (key.return) return [log({ kind: 'search-submit', rows: layout.logRows })];
    const edit = lineEditFor(input, key);
    return edit ? [log({ kind: 'search-edit', edit })] : [];
  }

  if (focus === 'log' && key.escape && state.log.search.query !== '') return [log({ kind: 'search-cancel' })];

  const paneAction = name === null ? undefined : keymap.bindings[focus].get(name);
  if (paneAction) return paneIntents(state, keymap, paneAction, layout);
  if (globalAction && !(focus === 'chat' && name !== null && isTypedKey(name))) return globalIntents(globalAction);
  if (focus === 'chat') {
    const edit = lineEditFor(input, key);
    return edit ? [ui({ kind: 'chat-edit', edit })] : [];
  }
  return [];
}

/** A text field has the keys (the title prompt, the chat, the log's search): typed characters are text there. */
export function hasTextField(state: ViewState): boolean {
  const { prompt, helpOpen, focus } = state.ui;
  if (prompt) return prompt.kind === 'new-goal';
  if (helpOpen) return false;
  return focus === 'chat' || (focus === 'log' && state.log.search.editing !== null);
}

function globalIntents(action: ActionName): Intent[] {
  switch (action) {
    case 'help':
      return [ui({ kind: 'help', open: true })];
    case 'nextPane':
      return [ui({ kind: 'focus-step', step: 1 })];
    case 'previousPane':
      return [ui({ kind: 'focus-step', step: -1 })];
    case 'quit':
      return [{ kind: 'quit' }];
    case 'inbox':
      return [ui({ kind: 'inbox', open: true })];
    default:
      return [];
  }
}

/** The inbox overlay's keys: j/k or the arrows pick a question, `a` or Enter answers it in $EDITOR, Esc (or the inbox key) closes. */
function inboxIntents(state: ViewState, globalAction: ActionName | undefined, input: string, key: Key): Intent[] {
  if (key.escape || globalAction === 'inbox') return [ui({ kind: 'inbox', open: false })];
  const pick = (direction: 'next' | 'previous'): Intent[] => [
    { kind: 'dispatch', action: { kind: 'inbox', action: { kind: 'pick', direction } } },
  ];
  if (input === 'j' || key.downArrow) return pick('next');
  if (input === 'k' || key.upArrow) return pick('previous');
  if (input === 'a' || key.return) {
    const question = pickedQuestion(state.inbox);
    if (!question) return [notice('no open questions')];
    if (question.answer) return [notice(`question ${question.id} was answered by ${question.answer.by}`)];
    if (question.withdrawn) return [notice(`question ${question.id} was withdrawn: ${question.withdrawn.reason}`)];
    return [command({ kind: 'answer-question', questionId: question.id })];
  }
  return [];
}

function paneIntents(state: ViewState, keymap: Keymap, action: ActionName, layout: KeyLayout): Intent[] {
  switch (ACTIONS[action].context) {
    case 'pipeline':
      return pipelineIntents(state, action);
    case 'chat':
      return chatIntents(state, keymap, action, layout);
    case 'log':
      return logIntents(state, action, layout);
    case 'global':
      return globalIntents(action);
  }
}

// ---- pipeline --------------------------------------------------------------------------------

function pipelineIntents(state: ViewState, action: ActionName): Intent[] {
  if (action === 'goalDown') return [{ kind: 'dispatch', action: { kind: 'select', direction: 'next' } }];
  if (action === 'goalUp') return [{ kind: 'dispatch', action: { kind: 'select', direction: 'previous' } }];
  if (action === 'goalNew') return [ui({ kind: 'prompt', prompt: { kind: 'new-goal', line: { text: '', cursor: 0 } } })];
  if (action === 'pipelinePause') return [command({ kind: 'pipeline', pause: !state.pipeline.paused })];

  const goal = selectedGoal(state);
  if (!goal) return [notice('no goal selected')];
  const goalCommand = (verb: GoalVerb) => command({ kind: 'goal', verb, goalId: goal.id });
  switch (action) {
    case 'goalEnter':
      return goal.state === 'draft' ? [goalCommand('queue')] : [focusPane('log')];
    case 'goalQueue':
      return [goalCommand('queue')];
    case 'goalPause':
      return [goalCommand('pause')];
    case 'goalRetry':
      return [goalCommand('retry')];
    case 'goalLand':
      return [goalCommand('land')];
    case 'goalLog':
      return [focusPane('log')];
    case 'goalCancel':
      if (goal.state === 'done' || goal.state === 'cancelled') return [notice(`#${goal.id} is ${goal.state}: there is nothing to cancel`)];
      return [ui({ kind: 'prompt', prompt: { kind: 'confirm-cancel', goalId: goal.id, title: goal.title } })];
    case 'goalEdit':
      return editable(goal)
        ? [command({ kind: 'edit-spec', goalId: goal.id })]
        : [notice(`#${goal.id} is ${goal.state}: its spec can no longer be edited`)];
    case 'goalAgent':
      if (goal.state === 'running') return [notice(`#${goal.id} is running: its agent can be changed once it is paused or stuck`)];
      return editable(goal)
        ? [command({ kind: 'choose-agent', goalId: goal.id })]
        : [notice(`#${goal.id} is ${goal.state}: its agent can no longer be changed`)];
    default:
      return [];
  }
}

/** The picker's keys: arrows or j/k/h/l move, Enter sets the choice (nothing when it is the goal's already), Esc closes. */
function agentPickerIntents(picker: AgentPicker, input: string, key: Key): Intent[] {
  const close = ui({ kind: 'prompt', prompt: null });
  if (key.escape) return [close];
  if (key.return) {
    const agent = pickedAgent(picker);
    return agent === undefined ? [close] : [close, command({ kind: 'set-agent', goalId: picker.goalId, agent })];
  }
  const move = (step: 1 | -1) => [ui({ kind: 'picker', action: { kind: 'move', step } })];
  if (key.leftArrow || key.upArrow || input === 'h' || input === 'k') return move(-1);
  if (key.rightArrow || key.downArrow || input === 'l' || input === 'j') return move(1);
  return [];
}

/** The daemon refuses spec (and agent) edits while a goal runs or once it is final. */
function editable(goal: Goal): boolean {
  return goal.state !== 'running' && goal.state !== 'done' && goal.state !== 'cancelled';
}

function focusPane(pane: Pane): Intent {
  return ui({ kind: 'focus', pane });
}

// ---- chat ------------------------------------------------------------------------------------

function chatIntents(state: ViewState, keymap: Keymap, action: ActionName, layout: KeyLayout): Intent[] {
  const page = Math.max(1, layout.chatRows - 1);
  switch (action) {
    case 'chatSend': {
      const text = state.ui.chatInput.text.trim();
      if (text === '') return [];
      if (text === NEW_CHAT_COMMAND) return [ui({ kind: 'chat-sent', text }), command({ kind: 'chat-new' })];
      return [ui({ kind: 'chat-sent', text }), command({ kind: 'chat-send', text })];
    }
    case 'chatInterrupt':
      return streamingMessage(state.chat) || queuedReplies(state.chat) > 0 ? [command({ kind: 'chat-interrupt' })] : [];
    case 'chatHistoryBack':
      return [ui({ kind: 'history', step: -1 })];
    case 'chatHistoryForward':
      return [ui({ kind: 'history', step: 1 })];
    case 'chatScrollUp': {
      const by = Math.min(page, layout.chatMaxScroll - state.ui.chatScroll);
      const scroll: Intent[] = by > 0 ? [ui({ kind: 'chat-scroll', by })] : [];
      // Near the top of what is held: older messages are read from the daemon.
      return state.ui.chatScroll + by >= layout.chatMaxScroll - page
        ? [...scroll, { kind: 'dispatch', action: { kind: 'chat', action: { kind: 'want-older' } } }]
        : scroll;
    }
    case 'chatScrollDown':
      return state.ui.chatScroll > 0 ? [ui({ kind: 'chat-scroll', by: -Math.min(page, state.ui.chatScroll) })] : [];
    case 'chatQueueDraft': {
      const draft = proposedDraft(state);
      if (!draft)
        return [notice(`no draft goal from this chat to queue (${showKeys(keymap, 'chatQueueDraft')} queues the one the agent proposes)`)];
      return [command({ kind: 'goal', verb: 'queue', goalId: draft.id })];
    }
    case 'chatResearch':
      return [ui({ kind: 'toggle-research' })];
    case 'chatNew':
      return [command({ kind: 'chat-new' })];
    default:
      return [];
  }
}

// ---- log -------------------------------------------------------------------------------------

function logIntents(state: ViewState, action: ActionName, layout: KeyLayout): Intent[] {
  const rows = layout.logRows;
  const page = Math.max(1, rows - 1);
  switch (action) {
    case 'logDown':
      return [log({ kind: 'scroll', by: 1, rows })];
    case 'logUp':
      return [log({ kind: 'scroll', by: -1, rows })];
    case 'logPageDown':
      return [log({ kind: 'scroll', by: page, rows })];
    case 'logPageUp':
      return [log({ kind: 'scroll', by: -page, rows })];
    case 'logTop':
      return [log({ kind: 'top' })];
    case 'logFollow':
      return [log({ kind: 'follow' })];
    case 'logSearch':
      return [log({ kind: 'search-start' })];
    case 'logNextMatch':
      return state.log.search.query ? [log({ kind: 'search-step', step: 1, rows })] : [];
    case 'logPreviousMatch':
      return state.log.search.query ? [log({ kind: 'search-step', step: -1, rows })] : [];
    default:
      return [];
  }
}

// ---- text fields -----------------------------------------------------------------------------

/** The edit a key makes in a one-line text field (readline's keys), or null for a key that is not one. */
export function lineEditFor(input: string, key: Key): LineEdit | null {
  if (key.backspace || key.delete) return key.meta ? { kind: 'delete-word-back' } : { kind: 'delete-back' };
  if (key.leftArrow) return { kind: 'move', to: key.ctrl || key.meta ? 'word-left' : 'left' };
  if (key.rightArrow) return { kind: 'move', to: key.ctrl || key.meta ? 'word-right' : 'right' };
  if (key.home) return { kind: 'move', to: 'start' };
  if (key.end) return { kind: 'move', to: 'end' };
  if (key.ctrl) {
    switch (input) {
      case 'a':
        return { kind: 'move', to: 'start' };
      case 'e':
        return { kind: 'move', to: 'end' };
      case 'b':
        return { kind: 'move', to: 'left' };
      case 'f':
        return { kind: 'move', to: 'right' };
      case 'd':
        return { kind: 'delete-forward' };
      case 'u':
        return { kind: 'clear-to-start' };
      case 'k':
        return { kind: 'clear-to-end' };
      case 'w':
        return { kind: 'delete-word-back' };
      default:
        return null;
    }
  }
  if (key.meta && !key.escape) {
    if (input === 'b') return { kind: 'move', to: 'word-left' };
    if (input === 'f') return { kind: 'move', to: 'word-right' };
    return null;
  }
  if (key.return || key.escape || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return null;
  return input === '' ? null : { kind: 'insert', text: input };
}
