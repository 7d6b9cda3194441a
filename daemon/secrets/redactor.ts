/**
 * The one place that knows the daemon's secret values (the provider key, the daemon token, every
 * secret-looking variable of its environment) and replaces them with `[redacted NAME]` wherever
 * text is about to be stored or sent: tool output before the model reads it, model requests, goal
 * files, logs, transcripts, research reports and events (DESIGN.md, "Secrets").
 *
 * What is matched, per value:
 * - the value itself, and its JSON-escaped and URL-encoded forms where they differ (a JSON file
 *   or a URL printed by a command);
 * - its base64, standard and URL-safe, at each of the three byte alignments it can have inside a
 *   longer base64 text (`base64 .ralph/daemon.json`), minus the few characters at either end that
 *   depend on the neighbouring bytes;
 * - each line (16 characters or more) of a value that spans lines (a PEM key).
 * Values shorter than 8 characters are not redacted: `true`, `1`, `admin` would turn up in
 * ordinary output everywhere, and redacting them would garble it while protecting nothing that a
 * guess could not find; nor are a few words settings take (`AUTH_MODE=disabled` must not turn
 * every "disabled" into a label). Such variables are still kept out of commands' environments.
 *
 * This is a net for what an agent happens to read or print, not a wall: a command that reads a
 * secret and transforms it (splits it, reverses it, hex-dumps it) gets it past any redaction.
 * Keeping commands from reading the secrets at all is what the environment scrub and the sandbox
 * are for; this catches what gets through anyway.
 */
import type { NamedSecret } from './environment.ts';

export type { NamedSecret } from './environment.ts';

/** Replaces the known secrets in a text. */
export type Redact = (text: string) => string;

/** Values shorter than this are not redacted (see the header). */
export const MIN_SECRET_LENGTH = 8;
/** Values of secret-named settings that are ordinary words, not secrets (compared in lower case). */
const SETTING_WORDS: ReadonlySet<string> = new Set([
  'disabled',
  'enabled',
  'required',
  'optional',
  'production',
  'development',
  'staging',
  'localhost',
  'readonly',
  'readwrite',
  'anonymous',
]);
/** A line of a multi-line value is redacted on its own from this length. */
const MIN_LINE_LENGTH = 16;
/** How Ralph marks where it cut a text (text-limits.ts, clip): a secret may have been cut there. */
const ELLIPSIS = '…';
/** A streamed text holds back an end that may begin a secret from this length (see Redactor.stream). */
const STREAM_HOLD_MIN = 4;
/** Deeper than this, a value is redacted through its JSON text (no recursion that deep). */
const MAX_WALK_DEPTH = 200;

export class Redactor {
  /** The secrets by where they come from ('env', 'token', 'provider'): a source is replaced as a whole. */
  private readonly sources = new Map<string, readonly NamedSecret[]>();
  private pattern: RegExp | null = null;
  /** Each matched form → its replacement. */
  private labels = new Map<string, string>();
  /** The forms by their first character, for streams (a piece that may be a secret's start is held back). */
  private formsByFirst = new Map<string, string[]>();
  /** Every run of 4 characters in any form: a cut's far side that starts with none of them ends no secret. */
  private fourGrams = new Set<string>();
  private longestForm = 0;

  constructor(sources: Record<string, readonly NamedSecret[]> = {}) {
    for (const [source, secrets] of Object.entries(sources)) this.sources.set(source, secrets);
    this.compile();
  }

  /** Replaces the secrets of one source (the provider's key after a config reload). */
  set(source: string, secrets: readonly NamedSecret[]): void {
    this.sources.set(source, secrets);
    this.compile();
  }

  /** The secret values that are redacted. */
  values(): string[] {
    return [...new Set([...this.sources.values()].flat().map((secret) => secret.value))].filter(isRedactable);
  }

  /** `text` with every known secret replaced. Bound: pass it around as a function. */
  readonly redact: Redact = (text) => {
    const pattern = this.pattern;
    if (pattern === null || text.length < MIN_SECRET_LENGTH) return text;
    pattern.lastIndex = 0;
    let redacted = text;
    if (pattern.test(text)) {
      pattern.lastIndex = 0;
      redacted = text.replace(pattern, (match) => this.labels.get(match) ?? '[redacted]');
    }
    return redacted.includes(ELLIPSIS) ? this.redactSeams(redacted) : redacted;
  };

  /**
   * Where text was cut (an output kept by its head and tail, a clipped line: Ralph marks each cut
   * with '…'), a secret may have been cut in two: the end before a '…' that begins a secret, and the
   * start after one (past a cut note: `… [64 KiB cut from the middle…] …`) that ends one, 4
   * characters or more, are redacted too.
   */
  private redactSeams(text: string): string {
    let out = '';
    let from = 0;
    for (let at = text.indexOf(ELLIPSIS); at !== -1; at = text.indexOf(ELLIPSIS, at + 1)) {
      // Before the cut (and the line break a cut note starts with): the longest end that begins a secret.
      let before = at;
      while (before > from && (text[before - 1] === ' ' || text[before - 1] === '\n')) before--;
      for (let start = Math.max(from, before - this.longestForm + 1); start <= before - STREAM_HOLD_MIN; start++) {
        const end = text.slice(start, before);
        const form = this.formsByFirst.get(end[0]!)?.find((candidate) => candidate.length > end.length && candidate.startsWith(end));
        if (form) {
          out += `${text.slice(from, start)}${this.labels.get(form)!}`;
          from = before;
          break;
        }
      }
      // After the cut (and the note's closing '] …' with the line break after it): the longest start that ends one.
      let after = at + ELLIPSIS.length;
      while (after < text.length && (text[after] === ' ' || text[after] === '\n')) after++;
      if (after < from || !this.fourGrams.has(text.slice(after, after + STREAM_HOLD_MIN))) continue;
      for (let stop = Math.min(text.length, after + this.longestForm - 1); stop - after >= STREAM_HOLD_MIN; stop--) {
        const start = text.slice(after, stop);
        const form = [...this.labels.keys()].find((candidate) => candidate.length > start.length && candidate.endsWith(start));
        if (form) {
          out += `${text.slice(from, after)}${this.labels.get(form)!}`;
          from = stop;
          break;
        }
      }
    }
    return from === 0 ? text : out + text.slice(from);
  }

  /**
   * `value` with every string in it redacted (plain objects and arrays are walked; keys are left
   * alone). What holds no secret is returned as it is, the same object: most values hold none.
   */
  readonly redactValue = <T>(value: T): T => {
    if (this.pattern === null) return value;
    return this.walk(value, 0) as T;
  };

  /**
   * For text that arrives in pieces (a streamed reply): `push` returns what can be shown now,
   * redacted; an end of 4 characters or more that may be the start of a secret still arriving is
   * held back until the next piece says (usually nothing is held: pieces keep their boundaries).
   * A shorter end is shown, and if a secret turns out to begin there, the rest of it comes out as
   * the label: at most 3 characters of a secret split across pieces are ever shown. `end` returns
   * what is still held.
   */
  stream(): { push(piece: string): string; end(): string } {
    /** The last characters shown (fewer than STREAM_HOLD_MIN): a secret may have begun in them. */
    let shown = '';
    /** Held back: may be the start of a secret. */
    let held = '';
    const next = (piece: string, last: boolean): string => {
      const redacted = this.redact(shown + held + piece);
      // What of `shown` is still as it was; a label from there on covers a secret that began in it.
      let kept = 0;
      while (kept < shown.length && redacted[kept] === shown[kept]) kept++;
      const body = redacted.slice(kept);
      const keep = last ? 0 : Math.min(body.length, this.heldBack(redacted));
      const out = body.slice(0, body.length - keep);
      held = body.slice(body.length - keep);
      shown = (redacted.slice(0, kept) + out).slice(-(STREAM_HOLD_MIN - 1));
      return out;
    };
    return { push: (piece) => next(piece, false), end: () => next('', true) };
  }

  /** How many characters at the end of `text` (4 or more) could begin a secret: the longest such end. */
  private heldBack(text: string): number {
    for (let start = Math.max(0, text.length - this.longestForm + 1); start <= text.length - STREAM_HOLD_MIN; start++) {
      const candidates = this.formsByFirst.get(text[start]!);
      if (!candidates) continue;
      const end = text.slice(start);
      if (candidates.some((form) => form.length > end.length && form.startsWith(end))) return text.length - start;
    }
    return 0;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_WALK_DEPTH) return this.redactDeepByJson(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | null = null;
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        const redacted = this.walk(item, depth + 1);
        if (redacted === item) continue;
        copy ??= [...value];
        copy[index] = redacted;
      }
      return copy ?? value;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return value; // a Date, a Buffer, an Error: not data we write
    let copy: Record<string, unknown> | null = null;
    for (const [key, item] of Object.entries(value)) {
      const redacted = this.walk(item, depth + 1);
      if (redacted === item) continue;
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = redacted;
    }
    return copy ?? value;
  }

  /** A value nested too deep to walk: through its JSON (where the JSON-escaped forms match). */
  private redactDeepByJson(value: object): unknown {
    try {
      const json = JSON.stringify(value);
      const redacted = this.redact(json);
      return redacted === json ? value : (JSON.parse(redacted) as unknown);
    } catch {
      return value; // too deep for JSON too: nothing can serialize it, so nothing will store or send it
    }
  }

  private compile(): void {
    const labels = new Map<string, string>();
    for (const secrets of this.sources.values()) {
      for (const { name, value } of secrets) {
        if (!isRedactable(value)) continue;
        for (const [form, how] of formsOf(value)) {
          if (form.length >= MIN_SECRET_LENGTH && !labels.has(form)) labels.set(form, `[redacted ${name}${how}]`);
        }
      }
    }
    this.labels = labels;
    const byFirst = new Map<string, string[]>();
    for (const form of labels.keys()) {
      const list = byFirst.get(form[0]!);
      if (list) list.push(form);
      else byFirst.set(form[0]!, [form]);
    }
    this.formsByFirst = byFirst;
    const grams = new Set<string>();
    for (const form of labels.keys())
      for (let at = 0; at + STREAM_HOLD_MIN <= form.length; at++) grams.add(form.slice(at, at + STREAM_HOLD_MIN));
    this.fourGrams = grams;
    this.longestForm = Math.max(0, ...[...labels.keys()].map((form) => form.length));
    // Longest first: where one form holds another, the whole of it goes.
    const alternatives = [...labels.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = alternatives.length === 0 ? null : new RegExp(alternatives.join('|'), 'g');
  }
}

function isRedactable(value: string): boolean {
  return value.length >= MIN_SECRET_LENGTH && !SETTING_WORDS.has(value.trim().toLowerCase());
}

/** The forms of a value that are matched, each with what the label says about it. */
function formsOf(value: string): [string, string][] {
  const forms: [string, string][] = [[value, '']];
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) forms.push([json, '']);
  const url = encodeURIComponent(value);
  if (url !== value) forms.push([url, '']);
  for (const inner of base64Forms(value)) forms.push([inner, ', base64']);
  if (value.includes('\n')) {
    for (const line of value.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_LINE_LENGTH && !trimmed.startsWith('-----')) forms.push([trimmed, '']);
    }
  }
  return forms;
}

/**
 * The part of `value`'s base64 that is the same wherever the value sits in a longer text, for each
 * of the three byte alignments, standard and URL-safe alphabets.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const total = offset + bytes.length;
    // Characters that mix in bits of the bytes before (the padding) or after the value are left out.
    const start = [0, 2, 3][offset]!;
    const end = 4 * Math.floor(total / 3) + [0, 1, 2][total % 3]!;
    const inner = encoded.slice(start, end);
    forms.add(inner);
    forms.add(inner.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
