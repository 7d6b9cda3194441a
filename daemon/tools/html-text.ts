/**
 * HTML reduced to the text a person would read (for fetch_url): headings, paragraphs, lists, code
 * blocks and links' text, with scripts, styles, navigation and hidden parts dropped. It is a small
 * tolerant scanner, not a full HTML parser: it never fails, whatever the markup, and unclosed
 * elements (`<p>`, `<li>`) only end blocks, so they need no matching end tag.
 */

export interface ReducedHtml {
  /** The `<title>`, whitespace collapsed; undefined when the page has none. */
  title?: string;
  /** Markdown-like text: `# Heading`, `- item`, fenced code, `[text](url)` links. */
  text: string;
}

/** Elements whose content is not markup and ends only at their own end tag. */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);

/** Elements dropped with everything inside them: code, decoration, navigation, controls. */
const DROPPED = new Set(['nav', 'svg', 'math', 'template', 'head', 'select', 'canvas', 'object', 'audio', 'video', 'map', 'button']);

/** Elements with no content and no end tag. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

/** Elements that stand on lines of their own. */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'html',
  'legend',
  'main',
  'ol',
  'p',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'ul',
]);

export function htmlToText(html: string, baseUrl?: string): ReducedHtml {
  const out = new TextWriter();
  let title: string | undefined;
  /** The element being dropped (with how deep its own name nests inside it), if any. */
  let dropping: { name: string; depth: number } | undefined;
  let preDepth = 0;
  const lists: { ordered: boolean; count: number }[] = [];
  let link: { href: string; start: number } | undefined;
  let cellsInRow = 0;

  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const textEnd = lt === -1 ? html.length : lt;
    if (textEnd > i && !dropping) {
      const text = decodeEntities(html.slice(i, textEnd));
      if (preDepth > 0) out.raw(text);
      else out.inline(text);
    }
    if (lt === -1) break;
    i = lt;

    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') {
      const end = html.indexOf('>', i);
      i = end === -1 ? html.length : end + 1;
      continue;
    }
    const tag = readTag(html, i);
    if (!tag) {
      // A '<' that starts no tag ("a < b") is text.
      if (!dropping) preDepth > 0 ? out.raw('<') : out.inline('<');
      i += 1;
      continue;
    }
    i = tag.end;
    const { name } = tag;

    if (tag.closing) {
      if (dropping) {
        if (name === dropping.name && --dropping.depth === 0) dropping = undefined;
        continue;
      }
      if (name === 'pre') {
        if (preDepth > 0 && --preDepth === 0) out.endFence();
      } else if (name === 'a' && link) {
        out.endLink(link.start, link.href);
        link = undefined;
      } else if (name === 'ul' || name === 'ol') {
        // A nested list ends inside its item: no blank line before the next item.
        out.breakLines(lists.length > 1 ? 1 : 2);
        lists.pop();
      } else if (/^h[1-6]$/.test(name) || BLOCKS.has(name)) {
        out.breakLines(2);
      } else if (name === 'li' || name === 'tr') {
        out.breakLines(1);
      }
      continue;
    }

    // A start tag. Raw text is skipped whole even inside a dropped element: a script may hold '</nav>'.
    if (RAW_TEXT.has(name) && !tag.selfClosing) {
      const close = findEndTag(html, name, i);
      // The title lives in <head>, which is otherwise dropped.
      if (name === 'title' && title === undefined) {
        title = collapse(decodeEntities(html.slice(i, close.start))) || undefined;
      }
      i = close.end;
      continue;
    }
    if (dropping) {
      if (name === dropping.name && !tag.selfClosing) dropping.depth++;
      continue;
    }
    const hidden = 'hidden' in tag.attributes || tag.attributes['aria-hidden'] === 'true';
    if ((DROPPED.has(name) || hidden) && !VOID.has(name) && !tag.selfClosing) {
      dropping = { name, depth: 1 };
      continue;
    }

    const heading = /^h([1-6])$/.exec(name);
    if (heading) {
      out.breakLines(2);
      out.marker(`${'#'.repeat(Number(heading[1]))} `);
    } else if (name === 'pre') {
      if (preDepth++ === 0) out.startFence();
    } else if (name === 'br') {
      preDepth > 0 ? out.raw('\n') : out.breakLines(1);
    } else if (name === 'hr') {
      out.breakLines(2);
      out.inline('---');
      out.breakLines(2);
    } else if (name === 'ul' || name === 'ol') {
      out.breakLines(lists.length === 0 ? 2 : 1);
      lists.push({ ordered: name === 'ol', count: 0 });
    } else if (name === 'li') {
      out.breakLines(1);
      const list = lists.at(-1);
      const marker = list?.ordered ? `${++list.count}.` : '-';
      out.marker(`${'  '.repeat(Math.max(0, lists.length - 1))}${marker} `);
    } else if (name === 'tr') {
      out.breakLines(1);
      cellsInRow = 0;
    } else if (name === 'td' || name === 'th') {
      if (cellsInRow++ > 0) out.marker(' | ');
    } else if (name === 'a') {
      const href = resolveLink(tag.attributes.href, baseUrl);
      if (link) out.endLink(link.start, link.href); // an unclosed link ends where the next begins
      link = href ? { href, start: out.mark() } : undefined;
    } else if (name === 'img') {
      const alt = collapse(decodeEntities(tag.attributes.alt ?? ''));
      if (alt) out.inline(` [image: ${alt}] `);
    } else if (BLOCKS.has(name)) {
      out.breakLines(2);
    }
  }
  if (preDepth > 0) out.endFence();
  const reduced: ReducedHtml = { text: out.finish() };
  if (title !== undefined) reduced.title = title;
  return reduced;
}

// ---------------------------------------------------------------------------------------------
// Scanning tags

interface Tag {
  name: string;
  closing: boolean;
  selfClosing: boolean;
  attributes: Record<string, string>;
  /** Index just past the tag's '>'. */
  end: number;
}

const TAG_NAME = /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)/;

/** The tag starting at `start` (a '<'), or undefined when none does. Quoted attribute values may hold '>'. */
function readTag(html: string, start: number): Tag | undefined {
  const head = TAG_NAME.exec(html.slice(start, start + 100));
  if (!head) return undefined;
  const closing = head[1] === '/';
  const name = head[2]!.toLowerCase();
  const attributes: Record<string, string> = {};
  let i = start + head[0].length;
  let selfClosing = false;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '>') return { name, closing, selfClosing, attributes, end: i + 1 };
    if (c === '/') {
      selfClosing = html[i + 1] === '>';
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // An attribute: name, then optionally = and a value (quoted or not).
    const nameMatch = /^[^\s=>/]+/.exec(html.slice(i, i + 200));
    if (!nameMatch) {
      i++;
      continue;
    }
    const attrName = nameMatch[0].toLowerCase();
    i += nameMatch[0].length;
    while (/\s/.test(html[i] ?? '')) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (/\s/.test(html[i] ?? '')) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const end = close === -1 ? html.length : close;
        value = html.slice(i + 1, end);
        i = end + 1;
      } else {
        const unquoted = /^[^\s>]*/.exec(html.slice(i))![0];
        value = unquoted;
        i += unquoted.length;
      }
    }
    if (!(attrName in attributes)) attributes[attrName] = value;
  }
  // No '>' before the end: the rest of the document was one broken tag.
  return { name, closing, selfClosing, attributes, end: html.length };
}

/** Where the raw text of `name` starting at `from` ends: its end tag, or the end of the document. */
function findEndTag(html: string, name: string, from: number): { start: number; end: number } {
  const pattern = new RegExp(`</${name}\\s*>`, 'ig');
  pattern.lastIndex = from;
  const match = pattern.exec(html);
  return match ? { start: match.index, end: match.index + match[0].length } : { start: html.length, end: html.length };
}

/** An absolute http(s) URL for a link's href; undefined for fragments, `javascript:`, `mailto:` and the like. */
function resolveLink(href: string | undefined, baseUrl: string | undefined): string | undefined {
  if (!href) return undefined;
  const trimmed = decodeEntities(href).trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
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

// ---------------------------------------------------------------------------------------------
// Writing text

/** Builds the text: collapses whitespace outside code blocks and keeps at most one blank line between blocks. */
class TextWriter {
  private out = '';
  private pendingSpace = false;

  /** Text of the flow: whitespace runs become one space; none at the start of a line. */
  inline(text: string): void {
    const body = collapse(text);
    if (/^\s/.test(text)) this.pendingSpace = true;
    if (body === '') return;
    if (this.pendingSpace && !this.atLineStart() && !this.out.endsWith(' ')) this.out += ' ';
    this.out += body;
    this.pendingSpace = /\s$/.test(text);
  }

  /** A list marker, heading mark or cell separator, written as it is. */
  marker(text: string): void {
    this.out += text;
    this.pendingSpace = false;
  }

  /** Text kept as it is (inside `<pre>`). */
  raw(text: string): void {
    this.out += text;
    this.pendingSpace = false;
  }

  /** Ends the current line, leaving `count` line breaks (2: a blank line) before what follows. */
  breakLines(count: 1 | 2): void {
    this.pendingSpace = false;
    this.out = this.out.replace(/[ \t]+$/, '');
    if (this.out === '') return;
    const have = /\n*$/.exec(this.out)![0].length;
    if (have < count) this.out += '\n'.repeat(count - have);
  }

  startFence(): void {
    this.breakLines(2);
    this.out += '```\n';
  }

  endFence(): void {
    if (!this.out.endsWith('\n')) this.out += '\n';
    this.out += '```';
    this.breakLines(2);
  }

  mark(): number {
    return this.out.length;
  }

  /** Turns the text written since `start` into `[text](href)`, unless it is empty or the URL itself. */
  endLink(start: number, href: string): void {
    const text = this.out.slice(start).trim();
    if (text === '' || text === href) return;
    const leading = this.out.slice(start).match(/^\s*/)![0];
    this.out = `${this.out.slice(0, start)}${leading}[${text}](${href})`;
  }

  finish(): string {
    return this.out
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }

  private atLineStart(): boolean {
    return this.out === '' || this.out.endsWith('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Entities

/** The named character references pages commonly use; others are left as written. */
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  shy: '\u00ad',
  zwj: '\u200d',
  zwnj: '\u200c',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  bull: '•',
  middot: '·',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  laquo: '«',
  raquo: '»',
  lsaquo: '‹',
  rsaquo: '›',
  prime: '′',
  Prime: '″',
  copy: '©',
  reg: '®',
  trade: '™',
  deg: '°',
  plusmn: '±',
  times: '×',
  divide: '÷',
  minus: '−',
  le: '≤',
  ge: '≥',
  ne: '≠',
  asymp: '≈',
  infin: '∞',
  larr: '←',
  rarr: '→',
  uarr: '↑',
  darr: '↓',
  harr: '↔',
  rArr: '⇒',
  lArr: '⇐',
  hArr: '⇔',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  dagger: '†',
  Dagger: '‡',
  permil: '‰',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  sup1: '¹',
  sup2: '²',
  sup3: '³',
  micro: 'µ',
  iexcl: '¡',
  iquest: '¿',
  check: '✓',
  star: '☆',
  hearts: '♥',
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  lambda: 'λ',
  mu: 'μ',
  pi: 'π',
  sigma: 'σ',
  omega: 'ω',
  Delta: 'Δ',
  Sigma: 'Σ',
  Omega: 'Ω',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  oacute: 'ó',
  iacute: 'í',
  uacute: 'ú',
  ntilde: 'ñ',
  ccedil: 'ç',
  Eacute: 'É',
};

/** Named references HTML also accepts without their semicolon (in text that predates the rule). */
const LEGACY_NO_SEMICOLON = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'copy', 'reg']);

const ENTITY = /&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z][a-zA-Z0-9]{1,31}))(;?)/g;

export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    ENTITY,
    (whole, decimal: string | undefined, hex: string | undefined, name: string | undefined, semicolon: string) => {
      if (decimal !== undefined || hex !== undefined) return codePoint(decimal !== undefined ? Number(decimal) : parseInt(hex!, 16));
      const value = NAMED_ENTITIES[name!];
      if (value === undefined || (!semicolon && !LEGACY_NO_SEMICOLON.has(name!))) return whole;
      return value;
    },
  );
}

/** A numeric reference's character; U+FFFD for what is no character (0, surrogates, beyond U+10FFFF). */
function codePoint(value: number): string {
  if (value === 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(value);
}
