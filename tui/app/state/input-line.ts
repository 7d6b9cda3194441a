/**
 * A one-line text field as a value (the chat input, a prompt): text and cursor, changed only by
 * `editLine`. Pure, so typing is tested without a terminal.
 */
export interface InputLine {
  text: string;
  /** Cursor position in code points (0 … length). */
  cursor: number;
}

export const EMPTY_LINE: InputLine = { text: '', cursor: 0 };

export function lineOf(text: string): InputLine {
  return { text, cursor: [...text].length };
}

export type LineEdit =
  | { kind: 'insert'; text: string }
  | { kind: 'delete-back' }
  | { kind: 'delete-forward' }
  | { kind: 'delete-word-back' }
  | { kind: 'clear-to-start' }
  | { kind: 'clear-to-end' }
  | { kind: 'move'; to: 'left' | 'right' | 'start' | 'end' | 'word-left' | 'word-right' };

export function editLine(line: InputLine, edit: LineEdit): InputLine {
  const chars = [...line.text];
  const at = Math.min(Math.max(0, line.cursor), chars.length);
  const make = (next: string[], cursor: number): InputLine => ({ text: next.join(''), cursor });
  switch (edit.kind) {
    case 'insert': {
      // Pasted text may hold line breaks: a one-line field keeps them as spaces.
      const inserted = [...edit.text.replace(/\r\n?|\n/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '')];
      if (inserted.length === 0) return line;
      return make([...chars.slice(0, at), ...inserted, ...chars.slice(at)], at + inserted.length);
    }
    case 'delete-back':
      return at === 0 ? line : make([...chars.slice(0, at - 1), ...chars.slice(at)], at - 1);
    case 'delete-forward':
      return at === chars.length ? line : make([...chars.slice(0, at), ...chars.slice(at + 1)], at);
    case 'delete-word-back': {
      const start = wordStart(chars, at);
      return start === at ? line : make([...chars.slice(0, start), ...chars.slice(at)], start);
    }
    case 'clear-to-start':
      return at === 0 ? line : make(chars.slice(at), 0);
    case 'clear-to-end':
      return at === chars.length ? line : make(chars.slice(0, at), at);
    case 'move': {
      const cursor =
        edit.to === 'left'
          ? Math.max(0, at - 1)
          : edit.to === 'right'
            ? Math.min(chars.length, at + 1)
            : edit.to === 'start'
              ? 0
              : edit.to === 'end'
                ? chars.length
                : edit.to === 'word-left'
                  ? wordStart(chars, at)
                  : wordEnd(chars, at);
      return cursor === line.cursor ? line : { text: line.text, cursor };
    }
  }
}

function wordStart(chars: readonly string[], at: number): number {
  let i = at;
  while (i > 0 && /\s/.test(chars[i - 1] ?? '')) i--;
  while (i > 0 && !/\s/.test(chars[i - 1] ?? '')) i--;
  return i;
}

function wordEnd(chars: readonly string[], at: number): number {
  let i = at;
  while (i < chars.length && /\s/.test(chars[i] ?? '')) i++;
  while (i < chars.length && !/\s/.test(chars[i] ?? '')) i++;
  return i;
}

/** The text before and after the cursor, and the character under it (a space at the end): what the field draws. */
export function splitAtCursor(line: InputLine): { before: string; under: string; after: string } {
  const chars = [...line.text];
  const at = Math.min(Math.max(0, line.cursor), chars.length);
  return { before: chars.slice(0, at).join(''), under: chars[at] ?? ' ', after: chars.slice(at + 1).join('') };
}
