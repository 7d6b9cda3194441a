/**
 * Text helpers for drawing: everything shown comes from goal files, models and other people, so it
 * is cleaned of control characters (tui/terminal-text.ts) before it is measured or cut.
 */

import stringWidth from 'string-width';
import { cleanText } from '../../terminal-text.ts';

// The control-character rules are shared with the command line; the wording with the daemon.
export { cleanText, oneLine } from '../../terminal-text.ts';
export { plural } from '../../../protocol/index.ts';

export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// ---- display width ---------------------------------------------------------------------------

/*
 * Widths are Ink's own (string-width, by grapheme cluster): a row measured here is a row Ink lays
 * out in as many columns, so ✅, 👍🏽 or 中 never push a row's last column off the pane. Wrapping stays
 * here rather than in wrap-ansi because rows are styled segments, not ANSI strings.
 */
const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The user-perceived characters of a string (an emoji with its skin tone, a letter with its accents). */
export function* graphemes(text: string): Generator<string> {
  for (const { segment } of graphemeSegmenter.segment(text)) yield segment;
}

/** Columns one grapheme takes in a terminal: 0, 1 or 2. */
export function charWidth(grapheme: string): number {
  return stringWidth(grapheme);
}

/** Columns a (control-free) string takes. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** The string cut to `width` columns, ending in "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let kept = '';
  let used = 0;
  for (const grapheme of graphemes(text)) {
    const w = charWidth(grapheme);
    if (used + w > width - 1) break;
    kept += grapheme;
    used += w;
  }
  return `${kept}…`;
}

/** The end of the string that fits `width` columns (an input line shows where the cursor is). */
export function takeEnd(text: string, width: number): string {
  const chars = [...graphemes(text)];
  let used = 0;
  let start = chars.length;
  while (start > 0) {
    const w = charWidth(chars[start - 1] ?? '');
    if (used + w > width) break;
    used += w;
    start--;
  }
  return chars.slice(start).join('');
}

/** Pads with spaces to `width` columns (never cuts). */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

// ---- styled text and wrapping -----------------------------------------------------------------

/** A role from the theme, never a raw color: views map roles to colors (or none, under NO_COLOR). */
export type ColorRole = 'accent' | 'success' | 'warning' | 'error' | 'code';

export interface Style {
  bold?: boolean;
  italic?: boolean;
  dim?: boolean;
  inverse?: boolean;
  color?: ColorRole;
}

/** A run of text in one style. */
export interface Segment {
  text: string;
  style?: Style;
}

/** One row of a pane: segments that together fit its width. */
export type Row = readonly Segment[];

export function rowText(row: Row): string {
  return row.map((segment) => segment.text).join('');
}

export function rowWidth(row: Row): number {
  return displayWidth(rowText(row));
}

/** A row cut to `width` columns, the cut marked with "…" in the style of the segment it falls in. */
export function truncateRow(row: Row, width: number): Row {
  if (rowWidth(row) <= width) return row;
  const out: Segment[] = [];
  let left = width - 1;
  for (const segment of row) {
    const w = displayWidth(segment.text);
    if (w <= left) {
      out.push(segment);
      left -= w;
      continue;
    }
    const cut = truncate(segment.text, left + 1); // ends in "…"
    out.push({ ...segment, text: cut });
    return out;
  }
  return out;
}

export interface WrapOptions {
  /** Drawn before the first row (a bullet, a "› "). */
  firstPrefix?: Row;
  /** Drawn before every later row (the hanging indent). */
  restPrefix?: Row;
  /** Keep spaces at the start of a row (code); by default a wrapped row does not start with a space. */
  preserveSpaces?: boolean;
}

/**
 * Wraps styled text into rows of at most `width` columns: at spaces where it can, inside a word
 * only when the word alone is wider than a row. Text must not contain newlines (split first).
 */
export function wrapSegments(segments: readonly Segment[], width: number, options: WrapOptions = {}): Row[] {
  const firstPrefix = options.firstPrefix ?? [];
  const restPrefix = options.restPrefix ?? firstPrefix.map((segment) => ({ text: ' '.repeat(displayWidth(segment.text)) }));
  const rows: Segment[][] = [];
  let row: Segment[] = [...firstPrefix];
  let used = rowWidth(firstPrefix);
  let rowHasText = false;
  const startRow = () => {
    rows.push(row);
    row = [...restPrefix];
    used = rowWidth(restPrefix);
    rowHasText = false;
  };
  const push = (text: string, style: Style | undefined) => {
    const last = row.at(-1);
    if (last && last.style === style && rowHasText) last.text += text;
    else row.push(style ? { text, style } : { text });
    used += displayWidth(text);
    rowHasText = true;
  };

  for (const segment of segments) {
    // Words and the spaces between them, in order.
    for (const token of segment.text.match(/\s+|\S+/g) ?? []) {
      const isSpace = /^\s/.test(token);
      const tokenWidth = displayWidth(token);
      if (isSpace) {
        if (!rowHasText && !options.preserveSpaces) continue; // no space at the start of a row
        if (used + tokenWidth > width) {
          startRow();
          if (!options.preserveSpaces) continue;
        }
        push(token, segment.style);
        continue;
      }
      if (used + tokenWidth <= width) {
        push(token, segment.style);
        continue;
      }
      if (rowHasText && tokenWidth <= width - rowWidth(restPrefix)) {
        startRow();
        push(token, segment.style);
        continue;
      }
      // A word wider than a row: cut it where the row ends, and go on on the next.
      let rest = token;
      while (rest.length > 0) {
        let piece = '';
        let pieceWidth = 0;
        for (const grapheme of graphemes(rest)) {
          const w = charWidth(grapheme);
          if (used + pieceWidth + w > width) break;
          piece += grapheme;
          pieceWidth += w;
        }
        if (piece === '') {
          if (rowHasText) {
            startRow();
            continue;
          }
          piece = graphemes(rest).next().value ?? ''; // narrower than one character: show it anyway
        }
        push(piece, segment.style);
        rest = rest.slice(piece.length);
        if (rest.length > 0) startRow();
      }
    }
  }
  rows.push(row);
  // Trailing spaces are invisible and only risk an extra wrap in the terminal.
  return rows.map((r) => trimRowEnd(r));
}

function trimRowEnd(row: Segment[]): Row {
  const out = [...row];
  while (out.length > 0) {
    const last = out[out.length - 1];
    if (!last) break;
    const trimmed = last.text.replace(/\s+$/, '');
    if (trimmed === last.text) break;
    if (trimmed === '') out.pop();
    else {
      out[out.length - 1] = { ...last, text: trimmed };
      break;
    }
  }
  return out;
}

/** Plain text wrapped into rows (newlines kept as row breaks). */
export function wrapText(text: string, width: number, style?: Style): Row[] {
  return cleanText(text)
    .split('\n')
    .flatMap((line) => wrapSegments([style ? { text: line, style } : { text: line }], width));
}
