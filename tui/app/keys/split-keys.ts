/**
 * One read from the terminal can hold several keys: keys typed faster than they are read ("jjk"),
 * keys sent at once by a script (tmux send-keys Tab Tab), a paste. Ink hands such a chunk over as
 * one input with one Key that describes none of them; this splits it into the keys it holds, each
 * with its own Key, so every one counts. In a text field, a run of typed characters stays one
 * piece (a paste is inserted at once), and a line break inside a paste is a space, not Enter.
 */
import type { Key } from 'ink';

/** A Key with nothing pressed: the base every key event is built from. */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** Whether Ink recognised the chunk as one key (an arrow, Enter, a ctrl key…). */
function isOneKey(input: string, key: Key): boolean {
  return (
    [...input].length <= 1 ||
    key.ctrl ||
    key.meta ||
    key.return ||
    key.escape ||
    key.tab ||
    key.backspace ||
    key.delete ||
    key.upArrow ||
    key.downArrow ||
    key.leftArrow ||
    key.rightArrow ||
    key.pageUp ||
    key.pageDown ||
    key.home ||
    key.end
  );
}

/** The key one character of a chunk stands for. */
export function keyForChar(char: string): [string, Key] {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\r' || char === '\n') return ['', { ...NO_KEY, return: true }];
  if (char === '\t') return ['', { ...NO_KEY, tab: true }];
  if (char === '\u007f' || char === '\b') return ['', { ...NO_KEY, delete: true }];
  if (char === '\u001b') return ['', { ...NO_KEY, escape: true, meta: true }];
  if (code < 0x20) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }]; // ctrl+letter
  return [char, { ...NO_KEY, shift: /^[A-Z]$/.test(char) }];
}

function isTyped(char: string): boolean {
  return !/[\u0000-\u001f\u007f-\u009f]/.test(char);
}

/**
 * The keys of a chunk, in order. `inTextField` is asked before each run of typed characters (a key
 * earlier in the chunk may have moved the focus into or out of a field).
 */
export function* splitKeys(input: string, key: Key, inTextField: () => boolean): Generator<[string, Key]> {
  if (isOneKey(input, key)) {
    yield [input, key];
    return;
  }
  const chars = [...input];
  for (let i = 0; i < chars.length; ) {
    const char = chars[i] ?? '';
    if (isTyped(char) && inTextField()) {
      let run = '';
      while (i < chars.length) {
        const next = chars[i] ?? '';
        // A line break with more text after it, in the same chunk, is a paste's: a space.
        const pastedBreak = (next === '\r' || next === '\n') && chars.slice(i + 1).some(isTyped);
        if (!isTyped(next) && !pastedBreak) break;
        run += pastedBreak ? ' ' : next;
        i++;
        if (next === '\r' && chars[i] === '\n') i++;
      }
      yield [run, { ...NO_KEY }];
      continue;
    }
    yield keyForChar(char);
    i++;
  }
}
