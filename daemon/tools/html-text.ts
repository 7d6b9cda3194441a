/**
 * HTML reduced to the text a person would read (for fetch_url): headings, paragraphs, lists, code
 * blocks, tables and links, Markdown-like, with scripts, styles, navigation and hidden parts dropped.
 *
 * The reading is html-to-text's (htmlparser2 underneath: a tolerant parser that never fails on broken
 * markup and decodes every HTML entity as browsers do); this file only says how each element is
 * written. It replaced a hand-written scanner that was quadratic in the page (it re-scanned all the
 * text written so far at every block). On a generated 600 KB documentation page (`bench/html-text.ts`:
 * headings, paragraphs, nested lists, tables, code, hidden parts) the scanner took 30 s (150 KB: 1.4 s),
 * node-html-markdown 21 s (quadratic too), turndown + domino 0.37 s, html-to-text with its defaults
 * 0.09 s, and this file 0.16 s; a 1.9 MB page (fetch_url reads up to 2 MB) takes 0.47 s.
 */
import { compile, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';

export interface ReducedHtml {
  /** The `<title>`, whitespace collapsed; undefined when the page has none. */
  title?: string;
  /** Markdown-like text: `# Heading`, `- item`, fenced code, `a | b` table rows, `[text](url)` links. */
  text: string;
}

/** Elements dropped with everything inside them: code, decoration, navigation, controls. */
const DROPPED = [
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'textarea',
  'noembed',
  'noframes',
  'nav',
  'svg',
  'math',
  'select',
  'canvas',
  'object',
  'audio',
  'video',
  'map',
  'button',
];

/** Elements on lines of their own that html-to-text writes inline by default. */
const BLOCKS = [
  'address',
  'caption',
  'dd',
  'details',
  'dialog',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'hgroup',
  'legend',
  'summary',
];

/**
 * The conversion under way: html-to-text calls the formatters synchronously, so one at a time is all
 * there ever is (and its typings give the formatters no per-call argument).
 */
let current: { baseUrl: string | undefined; title: string | undefined } = { baseUrl: undefined, title: undefined };

const formatters: Record<string, FormatCallback> = {
  /** `<title>`, wherever it is: kept aside, not written. */
  title(elem) {
    keepTitle(elem);
  },
  /** `<head>`: only its title counts. */
  head(elem) {
    const title = elem.children.find((child) => child.type === 'tag' && child.name === 'title');
    if (title) keepTitle(title);
  },
  heading(elem, walk, builder, options) {
    builder.openBlock({ leadingLineBreaks: 2 });
    builder.addInline(`${'#'.repeat(Number(options.level ?? 1))} `, { noWordTransform: true });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 2 });
  },
  /** `<pre>`: a fenced code block, its whitespace kept. */
  fence(elem, walk, builder) {
    builder.openBlock({ leadingLineBreaks: 2, isPre: true });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 2, blockTransform: (code) => `\`\`\`\n${code.replace(/\n+$/, '')}\n\`\`\`` });
  },
  /** `[text](absolute url)`; fragments, `javascript:` and the like, and links whose text is their URL, as plain text. */
  link(elem, walk, builder) {
    const href = resolveLink(elem.attribs?.href, current.baseUrl);
    const text = collapse(textOf(elem));
    if (!href || text === '' || text === href) {
      walk(elem.children, builder);
      return;
    }
    // The brackets go on the first and last words, so the spaces around the link stay outside it.
    const words = textOf(elem)
      .split(/[ \t\r\n\f\u200b]+/)
      .filter((word) => word !== '').length;
    let seen = 0;
    builder.pushWordTransform((word) => {
      seen++;
      const opened = seen === 1 ? `[${word}` : word;
      return seen === words ? `${opened}](${href})` : opened;
    });
    walk(elem.children, builder);
    builder.popWordTransform();
    if (seen === 0) builder.addInline(`[${text}](${href})`, { noWordTransform: true });
    else if (seen < words) builder.addInline(`](${href})`, { noWordTransform: true });
  },
  /** `- item` and `1. item`; a nested list is indented under its item's text, as Markdown nests. */
  list(elem, walk, builder, options) {
    const ordered = options.ordered === true;
    let next = Number(elem.attribs?.start ?? 1) || 1;
    const items = elem.children.filter((child) => child.type !== 'text' || !/^\s*$/.test(child.data ?? ''));
    if (items.length === 0) return;
    const prefixes = items.map((item) => (item.type === 'tag' && item.name === 'li' ? (ordered ? `${next++}. ` : '- ') : ''));
    const nested = elem.parent?.type === 'tag' && elem.parent.name === 'li';
    builder.openList({
      interRowLineBreaks: 1,
      leadingLineBreaks: nested ? 1 : 2,
      maxPrefixLength: Math.max(...prefixes.map((prefix) => prefix.length)),
      prefixAlign: 'left',
    });
    items.forEach((item, index) => {
      builder.openListItem({ prefix: prefixes[index]! });
      walk([item], builder);
      builder.closeListItem();
    });
    builder.closeList({ trailingLineBreaks: nested ? 1 : 2 });
  },
  image(elem, _walk, builder) {
    const alt = collapse(elem.attribs?.alt ?? '');
    if (alt) builder.addInline(` [image: ${alt}] `, { noWordTransform: true });
  },
  /** A table as rows of cells joined by ` | `, one line a row. */
  table(elem, walk, builder) {
    builder.openTable();
    const walkRows = (node: (typeof elem.children)[number]): void => {
      if (node.type !== 'tag') return;
      if (node.name === 'thead' || node.name === 'tbody' || node.name === 'tfoot') node.children.forEach(walkRows);
      if (node.name !== 'tr') return;
      builder.openTableRow();
      for (const cell of node.children) {
        if (cell.type !== 'tag' || (cell.name !== 'td' && cell.name !== 'th')) continue;
        builder.openTableCell({ maxColumnWidth: Number.MAX_SAFE_INTEGER });
        walk(cell.children, builder);
        builder.closeTableCell();
      }
      builder.closeTableRow();
    };
    elem.children.forEach(walkRows);
    builder.closeTable({
      leadingLineBreaks: 2,
      trailingLineBreaks: 2,
      tableToString: (rows) => rows.map((cells) => cells.map((cell) => collapse(cell.text)).join(' | ')).join('\n'),
    });
  },
};

const options: HtmlToTextOptions = {
  wordwrap: false,
  // The whole document: a fragment has no <body>, and <head> is read for its title only.
  baseElements: { selectors: [], returnDomByDefault: true },
  // Deeper nesting is cut rather than risking the stack on a hostile page.
  limits: { maxDepth: 200 },
  formatters,
  selectors: [
    ...DROPPED.map((selector) => ({ selector, format: 'skip' })),
    { selector: '[hidden]', format: 'skip' },
    { selector: '[aria-hidden="true"]', format: 'skip' },
    { selector: 'head', format: 'head' },
    { selector: 'title', format: 'title' },
    ...[1, 2, 3, 4, 5, 6].map((level) => ({ selector: `h${level}`, format: 'heading', options: { level } as object })),
    { selector: 'pre', format: 'fence' },
    { selector: 'a', format: 'link' },
    { selector: 'img', format: 'image' },
    { selector: 'table', format: 'table' },
    { selector: 'ul', format: 'list' },
    { selector: 'ol', format: 'list', options: { ordered: true } as object },
    { selector: 'hr', options: { length: 3 } },
    ...BLOCKS.map((selector) => ({ selector, format: 'block' })),
  ],
};

const convert = compile(options);

export function htmlToText(html: string, baseUrl?: string): ReducedHtml {
  current = { baseUrl, title: undefined };
  try {
    const text = convert(html)
      .replaceAll('\u00a0', ' ') // a no-break space is a space to a reader
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    const reduced: ReducedHtml = { text };
    if (current.title !== undefined) reduced.title = current.title;
    return reduced;
  } finally {
    current = { baseUrl: undefined, title: undefined };
  }
}

interface TextNode {
  type: string;
  data?: string | undefined;
  children?: TextNode[] | undefined;
}

function keepTitle(title: TextNode): void {
  current.title ??= collapse(textOf(title)) || undefined;
}

/** The text inside a node (entities are already decoded by the parser). */
function textOf(node: TextNode): string {
  if (node.type === 'text') return node.data ?? '';
  return (node.children ?? []).map(textOf).join('');
}

/** An absolute http(s) URL for a link's href; undefined for fragments, `javascript:`, `mailto:` and the like. */
function resolveLink(href: string | undefined, baseUrl: string | undefined): string | undefined {
  const trimmed = href?.trim();
  if (!trimmed || trimmed.startsWith('#')) return undefined;
  try {
    const url = new URL(trimmed, baseUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
