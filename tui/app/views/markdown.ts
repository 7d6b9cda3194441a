/**
 * A small markdown renderer for chat replies: the subset models actually write — headings, bold,
 * italics, code spans, fenced code, lists, quotes, rules and links — into rows of styled segments
 * wrapped to a width. It works on partial text (a reply still streaming): an unclosed fence is
 * code so far, an unclosed `**` is plain text until it closes.
 */
import { cleanText, wrapSegments, type Row, type Segment, type Style } from './text.ts';

const BOLD: Style = { bold: true };
const ITALIC: Style = { italic: true };
const CODE: Style = { color: 'code' };
const DIM: Style = { dim: true };
const HEADING: Style = { bold: true, color: 'accent' };
const SUBHEADING: Style = { bold: true };

const FENCE = /^\s*(```+|~~~+)\s*([\w+-]*)/;
const HEADING_LINE = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;

/** The rows of a markdown text at `width` columns. */
export function markdownRows(markdown: string, width: number): Row[] {
  const lines = cleanText(markdown).split('\n');
  const rows: Row[] = [];
  let paragraph: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length === 0) return;
    rows.push(...wrapSegments(inline(paragraph.join(' ')), width));
    paragraph = [];
  };
  const blankRow = () => {
    // One empty row between blocks, never two, never first.
    if (rows.length > 0 && rows.at(-1)?.length !== 0) rows.push([]);
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      flushParagraph();
      const marker = fence[1] ?? '```';
      const code: string[] = [];
      let j = i + 1;
      while (j < lines.length && !(lines[j] ?? '').trimStart().startsWith(marker)) code.push(lines[j++] ?? '');
      i = j; // the closing fence (or past the end, for a fence still streaming)
      rows.push(...codeBlock(code, fence[2] ?? '', width));
      continue;
    }
    if (line.trim() === '') {
      flushParagraph();
      blankRow();
      continue;
    }
    const heading = HEADING_LINE.exec(line);
    if (heading) {
      flushParagraph();
      blankRow();
      const level = heading[1]?.length ?? 1;
      const style = level <= 2 ? HEADING : SUBHEADING;
      rows.push(...wrapSegments(inline(heading[2] ?? '', style), width));
      continue;
    }
    if (RULE.test(line)) {
      flushParagraph();
      rows.push([{ text: '─'.repeat(Math.max(1, Math.min(width, 40))), style: DIM }]);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flushParagraph();
      const depth = Math.floor((item[1] ?? '').replace(/\t/g, '  ').length / 2);
      const marker = /\d/.test(item[2] ?? '') ? `${item[2]} ` : '• ';
      const indent = '  '.repeat(Math.min(depth, 6));
      // Continuation lines of the item (indented, not a new block) belong to it.
      let text = item[3] ?? '';
      while (i + 1 < lines.length && isContinuation(lines[i + 1] ?? '')) text += ` ${(lines[++i] ?? '').trim()}`;
      rows.push(
        ...wrapSegments(inline(text), width, {
          firstPrefix: [{ text: indent }, { text: marker, style: DIM }],
          restPrefix: [{ text: indent + ' '.repeat(marker.length) }],
        }),
      );
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      flushParagraph();
      const bar = [{ text: '│ ', style: DIM }];
      rows.push(...wrapSegments(inline(quote[1] ?? '', ITALIC), width, { firstPrefix: bar, restPrefix: bar }));
      continue;
    }
    if (TABLE_ROW.test(line)) {
      // Tables are drawn as written: their columns already line up in a monospace terminal.
      flushParagraph();
      rows.push(...wrapSegments([{ text: line.trimEnd() }], width, { preserveSpaces: true }));
      continue;
    }
    paragraph.push(line.trim());
  }
  flushParagraph();
  while (rows.length > 0 && rows.at(-1)?.length === 0) rows.pop();
  return rows;
}

function isContinuation(line: string): boolean {
  return /^\s{2,}\S/.test(line) && !LIST_ITEM.test(line) && !FENCE.test(line);
}

function codeBlock(lines: readonly string[], language: string, width: number): Row[] {
  const gutter: Segment = { text: '│ ', style: DIM };
  const rows: Row[] = [];
  if (language) rows.push([{ text: `╭ ${language}`, style: DIM }]);
  for (const line of lines) {
    rows.push(
      ...wrapSegments([{ text: line.trimEnd(), style: CODE }], width, {
        firstPrefix: [gutter],
        restPrefix: [gutter],
        preserveSpaces: true,
      }),
    );
  }
  if (lines.length === 0) rows.push([gutter]);
  return rows;
}

// ---- inline ----------------------------------------------------------------------------------

/**
 * Inline markup of one paragraph: `code`, **bold**, __bold__, *italic*, _italic_, [text](url),
 * backslash escapes. A marker without its closing partner is literal text.
 */
export function inline(text: string, base?: Style): Segment[] {
  const segments: Segment[] = [];
  const emit = (piece: string, style?: Style) => {
    if (piece === '') return;
    const merged = merge(base, style);
    const last = segments.at(-1);
    if (last && sameStyle(last.style, merged)) last.text += piece;
    else segments.push(merged ? { text: piece, style: merged } : { text: piece });
  };
  let i = 0;
  let plain = '';
  const flushPlain = (style?: Style) => {
    emit(plain, style);
    plain = '';
  };
  while (i < text.length) {
    const char = text[i] ?? '';
    if (char === '\\' && i + 1 < text.length && /[\\`*_[\]()#>~|-]/.test(text[i + 1] ?? '')) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (char === '`') {
      const ticks = /^`+/.exec(text.slice(i))?.[0] ?? '`';
      const close = text.indexOf(ticks, i + ticks.length);
      if (close !== -1) {
        flushPlain();
        emit(text.slice(i + ticks.length, close).trim() || ' ', CODE);
        i = close + ticks.length;
        continue;
      }
    }
    if ((char === '*' || char === '_') && text[i + 1] === char) {
      const marker = char + char;
      const close = text.indexOf(marker, i + 2);
      if (close > i + 2) {
        flushPlain();
        for (const inner of inline(text.slice(i + 2, close))) emit(inner.text, merge(BOLD, inner.style));
        i = close + 2;
        continue;
      }
    }
    if ((char === '*' || char === '_') && text[i + 1] !== char && text[i + 1] !== ' ' && opensEmphasis(text, i)) {
      const close = findEmphasisClose(text, i + 1, char);
      if (close !== -1) {
        flushPlain();
        for (const inner of inline(text.slice(i + 1, close))) emit(inner.text, merge(ITALIC, inner.style));
        i = close + 1;
        continue;
      }
    }
    if (char === '[') {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(text.slice(i));
      if (link) {
        flushPlain();
        const [whole, label = '', url = ''] = link;
        for (const inner of inline(label)) emit(inner.text, merge({ color: 'accent' }, inner.style));
        if (url !== label) emit(` (${url})`, DIM);
        i += whole.length;
        continue;
      }
    }
    plain += char;
    i++;
  }
  flushPlain();
  return segments;
}

/** `_` inside a word (snake_case) is not emphasis; `*` is, as in CommonMark. */
function opensEmphasis(text: string, at: number): boolean {
  if (text[at] === '*') return true;
  return at === 0 || !/[\p{L}\p{N}]/u.test(text[at - 1] ?? '');
}

function findEmphasisClose(text: string, from: number, marker: string): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] !== marker || text[j - 1] === ' ' || text[j + 1] === marker) continue;
    if (marker === '_' && /[\p{L}\p{N}]/u.test(text[j + 1] ?? '')) continue;
    return j;
  }
  return -1;
}

function merge(a: Style | undefined, b: Style | undefined): Style | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

function sameStyle(a: Style | undefined, b: Style | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.bold === b.bold && a.italic === b.italic && a.dim === b.dim && a.inverse === b.inverse && a.color === b.color;
}
