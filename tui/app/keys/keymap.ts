/**
 * Every key binding of the TUI, by action: the defaults, how `tui.keys` in ralph.config.ts changes
 * them (a map action → keys, e.g. `{ goalNew: 'a', chatNew: 'ctrl+n' }`), and how a key Ink reports
 * becomes the name a binding uses. The help and the footer are drawn from this table, so what they
 * show is what the keys do.
 *
 * A key spec is one or more keys separated by spaces: a character (`q`, `Q`, `?`, `/`), or a name
 * (enter, escape, tab, space, backspace, delete, up, down, left, right, pageup, pagedown, home,
 * end) with modifiers (`ctrl+`, `meta+` or `alt+`, `shift+`): `ctrl+c q`, `shift+tab`, `j down`.
 */
import type { Key } from 'ink';
import { messageOf } from '../../../protocol/index.ts';

export const KEY_CONTEXTS = ['global', 'pipeline', 'chat', 'log'] as const;
export type KeyContext = (typeof KEY_CONTEXTS)[number];

export interface ActionInfo {
  context: KeyContext;
  /** The default keys (a key spec). */
  keys: string;
  /** What it does, for the help. */
  help: string;
  /** A word or two for the footer. */
  short: string;
}

function action(context: KeyContext, keys: string, short: string, help: string): ActionInfo {
  return { context, keys, short, help };
}

/** The order here is the order of the help and the footer. */
export const ACTIONS = {
  help: action('global', '?', 'help', 'show or hide this help'),
  nextPane: action('global', 'tab', 'pane', 'focus the next pane'),
  previousPane: action('global', 'shift+tab', 'pane', 'focus the previous pane'),
  quit: action('global', 'ctrl+c q', 'quit', 'leave the TUI (the daemon keeps running)'),
  inbox: action('global', 'I', 'inbox', "the inbox: agents' open questions (j/k pick, a or Enter answers in $EDITOR, Esc closes)"),

  goalDown: action('pipeline', 'j down', 'move', 'select the next goal'),
  goalUp: action('pipeline', 'k up', 'move', 'select the previous goal'),
  goalEnter: action('pipeline', 'enter', 'queue/log', 'queue a draft; open the log of any other goal'),
  goalQueue: action('pipeline', 'Q', 'queue', 'queue the goal (a draft, or a paused goal again)'),
  goalPause: action('pipeline', 'p', 'pause', 'pause the running goal'),
  goalCancel: action('pipeline', 'c', 'cancel', 'cancel the goal (asks first)'),
  goalRetry: action('pipeline', 'r', 'retry', 'retry a stuck goal'),
  goalLand: action('pipeline', 'L', 'land', "land a done goal's branch as one commit"),
  goalLog: action('pipeline', 'o', 'log', "open the goal's log"),
  goalEdit: action('pipeline', 'e', 'edit', 'edit the spec in $EDITOR'),
  goalAgent: action('pipeline', 'A', 'agent', 'choose the agent that runs the goal (ralph, claude, codex …; not while it runs)'),
  goalNew: action('pipeline', 'n', 'new', 'new draft goal (asks for its title)'),
  pipelinePause: action('pipeline', 'P', 'pause all', 'pause or resume the whole pipeline'),

  chatSend: action('chat', 'enter', 'send', 'send the message (/new starts a new session)'),
  chatInterrupt: action('chat', 'escape', 'interrupt', 'interrupt the reply being written'),
  chatHistoryBack: action('chat', 'up', 'history', 'your earlier message'),
  chatHistoryForward: action('chat', 'down', 'history', 'your later message'),
  chatScrollUp: action('chat', 'pageup', 'scroll', 'scroll the chat back'),
  chatScrollDown: action('chat', 'pagedown', 'scroll', 'scroll the chat forward'),
  chatQueueDraft: action('chat', 'ctrl+y', 'queue draft', 'queue the draft goal the agent proposed'),
  chatResearch: action('chat', 'ctrl+o', 'research', 'expand or collapse finished research runs'),
  chatNew: action('chat', 'ctrl+n', 'new chat', 'start a new chat session'),

  logDown: action('log', 'j down', 'scroll', 'one line down'),
  logUp: action('log', 'k up', 'scroll', 'one line up'),
  logPageDown: action('log', 'pagedown', 'page', 'one page down'),
  logPageUp: action('log', 'pageup', 'page', 'one page up (older lines are read as you go)'),
  logTop: action('log', 'g home', 'top', 'the start of the log'),
  logFollow: action('log', 'G end', 'follow', 'the end of the log, following it'),
  logSearch: action('log', '/', 'search', 'search the log'),
  logNextMatch: action('log', 'n', 'next', 'next match'),
  logPreviousMatch: action('log', 'N', 'previous', 'previous match'),
} as const satisfies Record<string, ActionInfo>;

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** A context's actions, in table order. */
export function contextActions(context: KeyContext): ActionName[] {
  return ACTION_NAMES.filter((name) => ACTIONS[name].context === context);
}

const NAMED_KEYS = new Set([
  'enter',
  'escape',
  'tab',
  'space',
  'backspace',
  'delete',
  'up',
  'down',
  'left',
  'right',
  'pageup',
  'pagedown',
  'home',
  'end',
]);
const ALIASES: Record<string, string> = { return: 'enter', esc: 'escape', pgup: 'pageup', pgdn: 'pagedown', del: 'delete' };
const MODIFIER_ALIASES: Record<string, 'ctrl' | 'meta' | 'shift'> = {
  ctrl: 'ctrl',
  control: 'ctrl',
  meta: 'meta',
  alt: 'meta',
  option: 'meta',
  shift: 'shift',
};

/**
 * One key in its canonical form: modifiers in the order ctrl, meta, shift, then the key; a typed
 * character is itself (its case says shift: `Q`, not `shift+q`).
 */
export function parseKey(spec: string): string {
  const parts = spec.split('+');
  // A lone '+' is the plus key, and 'ctrl++' is ctrl with it.
  let base = parts.pop() ?? '';
  if (base === '' && parts.at(-1) === '') {
    parts.pop();
    base = '+';
  }
  const modifiers = new Set<'ctrl' | 'meta' | 'shift'>();
  for (const part of parts) {
    const modifier = MODIFIER_ALIASES[part.toLowerCase()];
    if (!modifier) throw new Error(`"${spec}": unknown modifier "${part}" (use ctrl, meta/alt, shift)`);
    modifiers.add(modifier);
  }
  const lower = base.toLowerCase();
  const name = ALIASES[lower] ?? lower;
  if ([...base].length === 1) {
    let char = base;
    if (modifiers.has('shift') && /^[a-z]$/i.test(char)) {
      char = char.toUpperCase();
      modifiers.delete('shift');
    }
    if (modifiers.has('ctrl')) char = char.toLowerCase(); // terminals send ctrl+a and ctrl+A alike
    if (modifiers.has('shift')) throw new Error(`"${spec}": shift+ only goes with letters and named keys`);
    return [...orderModifiers(modifiers), char].join('+');
  }
  if (!NAMED_KEYS.has(name)) throw new Error(`"${spec}": unknown key "${base}" (a character, or one of ${[...NAMED_KEYS].join(', ')})`);
  return [...orderModifiers(modifiers), name].join('+');
}

function orderModifiers(modifiers: ReadonlySet<string>): string[] {
  return ['ctrl', 'meta', 'shift'].filter((modifier) => modifiers.has(modifier));
}

/** The keys of a spec ("j down" → ["j", "down"]). */
export function parseKeySpec(spec: string): string[] {
  const keys = spec
    .trim()
    .split(/\s+/)
    .filter((key) => key !== '');
  if (keys.length === 0) throw new Error('no key given');
  return keys.map(parseKey);
}

/** The canonical name of a key Ink reported, or null for text that is not one key (a paste). */
export function keyName(input: string, key: Key): string | null {
  const withModifiers = (name: string, shift = key.shift) =>
    [key.ctrl ? 'ctrl' : '', key.meta ? 'meta' : '', shift ? 'shift' : '', name].filter(Boolean).join('+');
  if (key.escape) return 'escape'; // Ink marks Esc as meta too
  if (key.return) return withModifiers('enter');
  if (key.tab) return withModifiers('tab');
  if (key.upArrow) return withModifiers('up');
  if (key.downArrow) return withModifiers('down');
  if (key.leftArrow) return withModifiers('left');
  if (key.rightArrow) return withModifiers('right');
  if (key.pageUp) return withModifiers('pageup');
  if (key.pageDown) return withModifiers('pagedown');
  if (key.home) return withModifiers('home');
  if (key.end) return withModifiers('end');
  // Most terminals send DEL for Backspace, which Ink reports as delete.
  if (key.backspace || key.delete) return withModifiers('backspace');
  if (input === ' ') return withModifiers('space', false);
  if ([...input].length !== 1) return null;
  if (key.ctrl) return withModifiers(input.toLowerCase(), false);
  if (key.meta) return withModifiers(input, false);
  return input;
}

/** A key that types a character (in a text field it is text, never a binding). */
export function isTypedKey(name: string): boolean {
  return [...name].length === 1;
}

export interface Keymap {
  /** Context → key → action. */
  bindings: Readonly<Record<KeyContext, ReadonlyMap<string, ActionName>>>;
  /** Action → its keys, canonical, in the order given. */
  keys: Readonly<Record<ActionName, readonly string[]>>;
  /** What was wrong with `tui.keys` (each bad entry is ignored: its action keeps its default keys). */
  problems: readonly string[];
}

/**
 * The keymap: the defaults, changed by `overrides` (action → key spec). An override that names no
 * action, does not parse, types text in the chat, or takes a key another action of the same pane
 * (or a global one) already has is refused with a problem; its action keeps its default keys.
 */
export function buildKeymap(overrides: Readonly<Record<string, string>> = {}): Keymap {
  const problems: string[] = [];
  const keys = {} as Record<ActionName, readonly string[]>;
  for (const name of ACTION_NAMES) keys[name] = parseKeySpec(ACTIONS[name].keys);

  for (const [name, spec] of Object.entries(overrides)) {
    if (!(name in ACTIONS)) {
      problems.push(`tui.keys.${name}: no such action (one of ${ACTION_NAMES.join(', ')})`);
      continue;
    }
    const actionName = name as ActionName;
    let parsed: string[];
    try {
      parsed = parseKeySpec(spec);
    } catch (error) {
      problems.push(`tui.keys.${name}: ${messageOf(error)}`);
      continue;
    }
    const context = ACTIONS[actionName].context;
    const typed = parsed.find(isTypedKey);
    if (context === 'chat' && typed) {
      problems.push(`tui.keys.${name}: "${typed}" types text in the chat; use a key with ctrl or meta, or a named key`);
      continue;
    }
    const taken = parsed.map((key) => [key, holderOf(keys, key, context, actionName)] as const).find(([, holder]) => holder !== null);
    if (taken) {
      problems.push(`tui.keys.${name}: "${taken[0]}" is already ${taken[1]}'s key`);
      continue;
    }
    keys[actionName] = parsed;
  }

  const bindings = Object.fromEntries(KEY_CONTEXTS.map((context) => [context, new Map<string, ActionName>()])) as Record<
    KeyContext,
    Map<string, ActionName>
  >;
  for (const name of ACTION_NAMES) for (const key of keys[name]) bindings[ACTIONS[name].context].set(key, name);
  return { bindings, keys, problems };
}

/** The action already holding `key` where it would clash with `context` (the same pane, or global with any pane). */
function holderOf(keys: Record<ActionName, readonly string[]>, key: string, context: KeyContext, self: ActionName): ActionName | null {
  for (const name of ACTION_NAMES) {
    if (name === self || !keys[name].includes(key)) continue;
    const other = ACTIONS[name].context;
    if (other === context || other === 'global' || context === 'global') return name;
  }
  return null;
}

// ---- how keys are shown ----------------------------------------------------------------------

const SHOWN: Record<string, string> = {
  enter: 'Enter',
  escape: 'Esc',
  tab: 'Tab',
  space: 'Space',
  backspace: 'Backspace',
  delete: 'Del',
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
};

/** A key as a person reads it: `Ctrl+C`, `Shift+Tab`, `↓`, `Q`. */
export function showKey(key: string): string {
  const parts = key.length === 1 ? [key] : key.split('+');
  const base = parts.pop() ?? '';
  const modifiers = parts.map((modifier) => (modifier === 'ctrl' ? 'Ctrl' : modifier === 'meta' ? 'Alt' : 'Shift'));
  return [...modifiers, SHOWN[base] ?? (key.includes('+') ? base.toUpperCase() : base)].join('+');
}

/** An action's keys as shown: `j/↓`. */
export function showKeys(keymap: Keymap, action: ActionName): string {
  return keymap.keys[action].map(showKey).join('/');
}
