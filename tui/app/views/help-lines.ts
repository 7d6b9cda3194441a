/** The help and the footer, drawn from the keymap: what they show is what the keys do. Pure. */
import { ACTIONS, contextActions, KEY_CONTEXTS, showKey, showKeys, type ActionName, type KeyContext, type Keymap } from '../keys/keymap.ts';
import type { Row } from './text.ts';
import { padEnd, truncate, truncateRow } from './text.ts';

const CONTEXT_TITLES: Record<KeyContext, string> = {
  global: 'Everywhere',
  pipeline: 'Pipeline',
  chat: 'Chat',
  log: 'Log',
};

/** Keys of text fields (fixed: they are the readline keys every shell has). */
const TEXT_FIELD_KEYS: readonly [string, string][] = [
  ['←/→', 'move (Ctrl: by word)'],
  ['Ctrl+A/E', 'start / end of the line'],
  ['Ctrl+W', 'delete a word'],
  ['Ctrl+U/K', 'delete to the start / end'],
  ['/new', 'typed in the chat: a new session'],
  ['y/n', 'answer a question (cancel?)'],
];

/** Every binding, by pane: `key  what it does`, in one column, or two when the width allows. */
export function helpRows(keymap: Keymap, width: number): Row[] {
  const sections: { title: string; entries: [string, string][] }[] = KEY_CONTEXTS.map((context) => ({
    title: CONTEXT_TITLES[context],
    entries: contextActions(context).map((action): [string, string] => [showKeys(keymap, action), ACTIONS[action].help]),
  }));
  sections.push({ title: 'Text fields', entries: [...TEXT_FIELD_KEYS] });
  const keyWidth = Math.min(14, Math.max(...sections.flatMap((section) => section.entries.map(([keys]) => keys.length))) + 2);
  const columns = width >= 100 ? 2 : 1;
  const columnWidth = Math.floor(width / columns);
  const blocks = sections.map((section) => [
    [{ text: section.title, style: { bold: true, color: 'accent' as const } }],
    ...section.entries.map(
      ([keys, help]): Row =>
        truncateRow([{ text: padEnd(truncate(keys, keyWidth - 1), keyWidth), style: { bold: true } }, { text: help }], columnWidth - 1),
    ),
  ]);
  if (columns === 1) return blocks.flatMap((block, i) => (i === 0 ? block : [[], ...block]));
  // Two columns: sections go left or right, to whichever side is shorter so far.
  const sides: Row[][] = [[], []];
  for (const block of blocks) {
    const side = (sides[0]?.length ?? 0) <= (sides[1]?.length ?? 0) ? 0 : 1;
    const target = sides[side] ?? [];
    if (target.length > 0) target.push([]);
    target.push(...block);
  }
  const [left = [], right = []] = sides;
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i): Row => {
    const l = left[i] ?? [];
    const r = right[i] ?? [];
    const pad = columnWidth - l.reduce((sum, segment) => sum + segment.text.length, 0);
    return r.length === 0 ? l : [...l, { text: ' '.repeat(Math.max(1, pad)) }, ...r];
  });
}

/**
 * The footer: the focused pane's keys then the global ones, `key word` each (first key only),
 * help first so it is never cut off.
 */
export function footerText(keymap: Keymap, context: KeyContext): string {
  const shown: string[] = [`${showKey(keymap.keys.help[0] ?? '?')} ${ACTIONS.help.short}`];
  const paneActions = context === 'global' ? [] : contextActions(context);
  const actions: ActionName[] = [...paneActions, ...contextActions('global').filter((action) => action !== 'help')];
  // Actions sharing a word (move down, move up) are one entry: `j/k move`.
  const byWord = new Map<string, string[]>();
  for (const action of actions) {
    const key = keymap.keys[action][0];
    if (key === undefined) continue;
    const word = ACTIONS[action].short;
    byWord.set(word, [...(byWord.get(word) ?? []), showKey(key)]);
  }
  for (const [word, keys] of byWord) shown.push(`${keys.join('/')} ${word}`);
  return shown.join(' · ');
}
