import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeUtf8, findJsonSyntaxError, parseJsonBytes } from './json-text.ts';

test('a JSON error says where, and quotes none of the text', () => {
  const secret = 'root:x:0:0:root:/root:/bin/bash\n';
  const result = parseJsonBytes(Buffer.from(secret));
  assert.deepEqual(result, { ok: false, error: 'not valid JSON: unexpected character at line 1, column 1' });
  const nested = parseJsonBytes(Buffer.from('{\n  "title": "x",\n  "spec": tru\n}'));
  assert.deepEqual(nested, { ok: false, error: 'not valid JSON: unexpected character at line 3, column 11' });
  assert.deepEqual(parseJsonBytes(Buffer.from('{"a": "sk-secret-value')), {
    ok: false,
    error: 'not valid JSON: the text ends too early at line 1, column 23',
  });
  assert.deepEqual(parseJsonBytes(Buffer.from('')), { ok: false, error: 'not valid JSON: it is empty' });
});

test('bytes that are not UTF-8 are refused, with the offset of the first bad byte; a byte-order mark is not', () => {
  assert.deepEqual(decodeUtf8(Buffer.from([0x7b, 0x22, 0x61, 0xe9, 0x22, 0x7d])), {
    ok: false,
    error: 'not valid UTF-8 text (the first bad byte is at offset 3)',
  });
  // An overlong '/' and a UTF-16 surrogate are not UTF-8 either.
  assert.equal(decodeUtf8(Buffer.from([0x20, 0xc0, 0xaf])).ok, false);
  assert.deepEqual(decodeUtf8(Buffer.from([0x20, 0xed, 0xa0, 0x80])), {
    ok: false,
    error: 'not valid UTF-8 text (the first bad byte is at offset 1)',
  });
  assert.deepEqual(decodeUtf8(Buffer.from('\uFEFF{"é": 1}')), { ok: true, text: '{"é": 1}' });
  assert.deepEqual(parseJsonBytes(Buffer.from('\uFEFF{"é": 1}')), { ok: true, value: { é: 1 } });
});

test('the syntax scan agrees with JSON.parse on what is valid, at any depth', () => {
  const valid = ['0', '-0.5e+10', '"a\\u00e9\\n"', '[]', '{}', '[1, [2, {"a": [null, true, false]}]]', ' {"a" : {"b": []}} ', '1E5'];
  const invalid = [
    '01',
    '1.',
    '-',
    '+1',
    '[1,]',
    '{"a":1,}',
    '{a:1}',
    '[1 2]',
    '"\t"',
    '"\\x"',
    '"\\u12g4"',
    'nul',
    '{"a"}',
    '[',
    ']',
    '{"a":1}}',
    'true false',
  ];
  for (const text of valid) assert.equal(findJsonSyntaxError(text), null, text);
  for (const text of invalid) assert.notEqual(findJsonSyntaxError(text), null, text);
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.equal(findJsonSyntaxError(deep), null);
  assert.notEqual(findJsonSyntaxError(`${'['.repeat(100_000)}${']'.repeat(99_999)}`), null);
  // Random mutations of a valid document: the scan and JSON.parse agree every time.
  const base = JSON.stringify({ id: 1, title: 'x', list: [1, -2.5e3, 'a"b', null, { deep: [true, false] }] });
  const alphabet = '{}[]":,0123456789.-+eE \\truefalsn\t\n';
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 3000; round++) {
    const at = random(base.length);
    const text = base.slice(0, at) + alphabet[random(alphabet.length)]! + base.slice(at + random(3));
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    assert.equal(findJsonSyntaxError(text) === null, parses, text);
  }
});
