/**
 * Turning a file's bytes into JSON, strictly, with errors that say where but never what: the
 * bytes may be anything (a link to /etc/passwd read by someone else, a secret), and V8's
 * JSON.parse messages quote the text. Bytes that are not UTF-8 are refused rather than decoded
 * with replacement characters: a file saved again would silently lose them.
 */
import { isUtf8 } from 'node:buffer';

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

/** The text of UTF-8 bytes (a leading byte-order mark dropped), or an error naming the first bad byte's offset. */
export function decodeUtf8(bytes: Uint8Array): { ok: true; text: string } | { ok: false; error: string } {
  if (!isUtf8(bytes)) return { ok: false, error: `not valid UTF-8 text (the first bad byte is at offset ${firstInvalidUtf8Byte(bytes)})` };
  // A byte-order mark (some Windows editors add one) is not a reason to reject the file.
  return { ok: true, text: new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes) };
}

/** Parses UTF-8 JSON bytes; the error says what kind of problem and where (line, column), quoting nothing. */
export function parseJsonBytes(bytes: Uint8Array): JsonParse {
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) return decoded;
  return parseJsonText(decoded.text);
}

export function parseJsonText(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    if (text.trim() === '') return { ok: false, error: 'not valid JSON: it is empty' };
    const found = findJsonSyntaxError(text);
    if (found) return { ok: false, error: `not valid JSON: ${found.problem} at ${lineAndColumn(text, found.offset)}` };
    // The scan below and V8 disagree (should not happen): V8's position, without its quote of the text.
    const position = /at position (\d+)/.exec(error.message);
    return { ok: false, error: position ? `not valid JSON at ${lineAndColumn(text, Number(position[1]))}` : 'not valid JSON' };
  }
}

function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * The first syntax error of JSON text (RFC 8259), as an offset and a description that quotes
 * nothing; null when the text is valid. Iterative: nesting depth costs no stack.
 */
export function findJsonSyntaxError(text: string): { offset: number; problem: string } | null {
  /** Open containers: '{' or '['. */
  const stack: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (problem: string) => ({ offset: i, problem: i >= text.length ? 'the text ends too early' : problem });
  // After '{' or ',' in an object: a key comes next ('}' too right after '{').
  let expect: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'after-value' = 'value';
  for (;;) {
    skipSpace();
    if (expect === 'after-value') {
      const open = stack.at(-1);
      if (open === undefined) return i < text.length ? fail('unexpected text after the value') : null;
      const c = text[i];
      if (c === ',') {
        i++;
        expect = open === '{' ? 'key' : 'value';
      } else if ((c === '}' && open === '{') || (c === ']' && open === '[')) {
        i++;
        stack.pop();
      } else {
        return fail(open === '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      if (expect === 'key-or-close' && text[i] === '}') {
        i++;
        stack.pop();
        expect = 'after-value';
        continue;
      }
      if (text[i] !== '"') return fail('expected a property name in double quotes');
      const problem = scanString();
      if (problem) return fail(problem);
      skipSpace();
      if (text[i] !== ':') return fail("expected ':' after a property name");
      i++;
      expect = 'value';
      continue;
    }
    // A value.
    const c = text[i];
    if (expect === 'value-or-close' && c === ']') {
      i++;
      stack.pop();
      expect = 'after-value';
      continue;
    }
    if (c === '{') {
      i++;
      stack.push('{');
      expect = 'key-or-close';
    } else if (c === '[') {
      i++;
      stack.push('[');
      expect = 'value-or-close';
    } else if (c === '"') {
      const problem = scanString();
      if (problem) return fail(problem);
      expect = 'after-value';
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const problem = scanNumber();
      if (problem) return fail(problem);
      expect = 'after-value';
    } else {
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (!literal) return fail('unexpected character');
      i += literal.length;
      expect = 'after-value';
    }
  }

  /** Moves past the string starting at i (its quote); a problem leaves i at the offending character. */
  function scanString(): string | null {
    i++;
    for (;;) {
      if (i >= text.length) return 'unterminated string';
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return null;
      }
      if (code < 0x20) return 'control character in a string';
      if (code === 0x5c) {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return 'bad \\u escape in a string';
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          return 'bad escape in a string';
        }
        continue;
      }
      i++;
    }
  }

  function scanNumber(): string | null {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!digitAt(i)) return 'bad number';
    else while (digitAt(i)) i++;
    if (text[i] === '.') {
      i++;
      if (!digitAt(i)) return 'bad number';
      while (digitAt(i)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!digitAt(i)) return 'bad number';
      while (digitAt(i)) i++;
    }
    return null;
  }

  function digitAt(at: number): boolean {
    const c = text.charCodeAt(at);
    return c >= 0x30 && c <= 0x39;
  }
}

/** Offset of the first byte that breaks UTF-8 (called only on bytes that are not valid UTF-8). */
function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let length: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [length, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [length, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [length, min] = [4, 0x10000];
    else return i;
    if (i + length > bytes.length) return i;
    let code = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return i;
    i += length;
  }
  return bytes.length;
}
