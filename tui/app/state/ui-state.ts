/**
 * What the person at this terminal is doing, as opposed to what the daemon says: which pane has
 * the keys, the help, a prompt waiting for an answer, the chat's input line and its history, how
 * far the chat is scrolled back, the last notice. Pure; local to this terminal.
 */
import { reduceAgentPicker, type AgentPicker, type AgentPickerAction } from './agent-picker.ts';
import { editLine, EMPTY_LINE, lineOf, type InputLine, type LineEdit } from './input-line.ts';

export const PANES = ['pipeline', 'chat', 'log'] as const;
export type Pane = (typeof PANES)[number];

export type Prompt =
  /** Cancelling is final: it asks first (y/n). */
  | { kind: 'confirm-cancel'; goalId: number; title: string }
  /** `n`: the title of a new draft goal. */
  | { kind: 'new-goal'; line: InputLine }
  /** `a`: the agent backend a goal runs with, picked from the daemon's list. */
  | { kind: 'pick-agent'; picker: AgentPicker };

export interface Notice {
  tone: 'error' | 'info';
  text: string;
}

export interface InputHistory {
  /** Texts sent, oldest first. */
  entries: readonly string[];
  /** The entry shown in the input while browsing (↑/↓), or null when editing a new message. */
  cursor: number | null;
  /** What was being typed before browsing began: ↓ past the newest entry brings it back. */
  draft: InputLine;
}

export interface UiState {
  focus: Pane;
  helpOpen: boolean;
  helpScroll: number;
  /** The inbox overlay: the questions agents asked, one picked to answer. */
  inboxOpen: boolean;
  prompt: Prompt | null;
  chatInput: InputLine;
  history: InputHistory;
  /** Rows the chat is scrolled back from its end; 0 follows new messages. */
  chatScroll: number;
  /** Ended research runs shown with every agent rather than one summary line. */
  researchExpanded: boolean;
  notice: Notice | null;
  /** A goal this terminal just created: selected as soon as its goal.created arrives. */
  selectWhenSeen: number | null;
}

export function initialUi(history: readonly string[] = []): UiState {
  return {
    focus: 'pipeline',
    helpOpen: false,
    helpScroll: 0,
    inboxOpen: false,
    prompt: null,
    chatInput: EMPTY_LINE,
    history: { entries: history, cursor: null, draft: EMPTY_LINE },
    chatScroll: 0,
    researchExpanded: false,
    notice: null,
    selectWhenSeen: null,
  };
}

/** Entries kept in the input history. */
const HISTORY_LIMIT = 200;

export type UiAction =
  | { kind: 'focus'; pane: Pane }
  | { kind: 'focus-step'; step: 1 | -1 }
  | { kind: 'help'; open: boolean }
  | { kind: 'help-scroll'; by: number }
  | { kind: 'inbox'; open: boolean }
  | { kind: 'prompt'; prompt: Prompt | null }
  | { kind: 'prompt-edit'; edit: LineEdit }
  | { kind: 'picker'; action: AgentPickerAction }
  | { kind: 'chat-edit'; edit: LineEdit }
  /** The input was sent: it empties, and its text joins the history. */
  | { kind: 'chat-sent'; text: string }
  /** Sending failed: the text comes back into the input (unless something new was typed meanwhile). */
  | { kind: 'chat-restore'; text: string }
  | { kind: 'history'; step: -1 | 1 }
  | { kind: 'chat-scroll'; by: number }
  | { kind: 'toggle-research' }
  | { kind: 'notice'; notice: Notice | null }
  | { kind: 'select-when-seen'; id: number | null };

export function reduceUi(ui: UiState, action: UiAction): UiState {
  switch (action.kind) {
    case 'focus':
      return ui.focus === action.pane ? ui : { ...ui, focus: action.pane };
    case 'focus-step': {
      const index = PANES.indexOf(ui.focus);
      return { ...ui, focus: PANES[(index + action.step + PANES.length) % PANES.length] ?? 'pipeline' };
    }
    case 'help':
      return { ...ui, helpOpen: action.open, helpScroll: 0 };
    case 'help-scroll':
      return { ...ui, helpScroll: Math.max(0, ui.helpScroll + action.by) };
    case 'inbox':
      return ui.inboxOpen === action.open ? ui : { ...ui, inboxOpen: action.open };
    case 'prompt':
      return { ...ui, prompt: action.prompt };
    case 'prompt-edit':
      if (ui.prompt?.kind !== 'new-goal') return ui;
      return { ...ui, prompt: { ...ui.prompt, line: editLine(ui.prompt.line, action.edit) } };
    case 'picker':
      if (ui.prompt?.kind !== 'pick-agent') return ui;
      return { ...ui, prompt: { ...ui.prompt, picker: reduceAgentPicker(ui.prompt.picker, action.action) } };
    case 'chat-edit': {
      const chatInput = editLine(ui.chatInput, action.edit);
      // Editing a recalled message makes it a new one: ↓ no longer replaces it.
      return chatInput === ui.chatInput ? ui : { ...ui, chatInput, history: { ...ui.history, cursor: null } };
    }
    case 'chat-sent': {
      const entries =
        ui.history.entries.at(-1) === action.text ? ui.history.entries : [...ui.history.entries, action.text].slice(-HISTORY_LIMIT);
      return { ...ui, chatInput: EMPTY_LINE, chatScroll: 0, history: { entries, cursor: null, draft: EMPTY_LINE } };
    }
    case 'chat-restore':
      return ui.chatInput.text === '' ? { ...ui, chatInput: lineOf(action.text) } : ui;
    case 'history':
      return browseHistory(ui, action.step);
    case 'chat-scroll':
      return { ...ui, chatScroll: Math.max(0, ui.chatScroll + action.by) };
    case 'toggle-research':
      return { ...ui, researchExpanded: !ui.researchExpanded };
    case 'notice':
      return { ...ui, notice: action.notice };
    case 'select-when-seen':
      return { ...ui, selectWhenSeen: action.id };
  }
}

function browseHistory(ui: UiState, step: -1 | 1): UiState {
  const { entries, cursor, draft } = ui.history;
  if (entries.length === 0) return ui;
  if (cursor === null) {
    if (step === 1) return ui; // ↓ with nothing recalled: nothing newer
    const last = entries.length - 1;
    return { ...ui, chatInput: lineOf(entries[last] ?? ''), history: { entries, cursor: last, draft: ui.chatInput } };
  }
  const next = cursor + step;
  if (next < 0) return ui; // the oldest stays
  if (next >= entries.length) return { ...ui, chatInput: draft, history: { entries, cursor: null, draft: EMPTY_LINE } };
  return { ...ui, chatInput: lineOf(entries[next] ?? ''), history: { entries, cursor: next, draft } };
}
