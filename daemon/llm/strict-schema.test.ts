/** Tool schemas made strict-compatible, and the model's nulls for optional properties taken back out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { argumentRestorer, restoreOptionalArguments, strictSchema } from './strict-schema.ts';
import type { JsonSchema } from './types.ts';

const ReadFile = z.object({
  path: z.string(),
  limit: z.number().int().optional(),
  ranges: z.array(z.object({ from: z.number(), note: z.string().optional() })),
});

test('strictSchema closes every object and requires every property; optional ones become nullable', () => {
  const original = z.toJSONSchema(ReadFile) as JsonSchema;
  const before = structuredClone(original);
  const strict = strictSchema(original) as {
    $schema?: unknown;
    additionalProperties: unknown;
    required: string[];
    properties: {
      limit: { type: unknown };
      ranges: { items: { additionalProperties: unknown; required: string[]; properties: { note: { type: unknown } } } };
    };
  };

  assert.deepEqual(original, before, 'the input schema is left as it was');
  assert.equal(strict.$schema, undefined);
  assert.equal(strict.additionalProperties, false);
  assert.deepEqual(strict.required, ['path', 'limit', 'ranges']);
  assert.deepEqual(strict.properties.limit.type, ['integer', 'null']);
  const item = strict.properties.ranges.items;
  assert.equal(item.additionalProperties, false);
  assert.deepEqual(item.required, ['from', 'note']);
  assert.deepEqual(item.properties.note.type, ['string', 'null']);
});

test('strictSchema: no parameters, oneOf, enums, $refs and properties that already allow null', () => {
  assert.deepEqual(strictSchema({}), { type: 'object', properties: {}, required: [], additionalProperties: false });
  const strict = strictSchema({
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['fast', 'slow'] },
      target: { $ref: '#/$defs/Target' },
      either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
      maybe: { type: ['string', 'null'] },
    },
    required: ['either'],
    $defs: { Target: { type: 'object', properties: { id: { type: 'string' } } } },
  }) as { properties: Record<string, unknown>; $defs: { Target: unknown } };

  assert.deepEqual(strict.properties.mode, { type: ['string', 'null'], enum: ['fast', 'slow', null] });
  assert.deepEqual(strict.properties.target, { anyOf: [{ $ref: '#/$defs/Target' }, { type: 'null' }] });
  assert.deepEqual(
    strict.properties.either,
    { anyOf: [{ type: 'string' }, { type: 'number' }] },
    'oneOf becomes anyOf; required stays non-null',
  );
  assert.deepEqual(strict.properties.maybe, { type: ['string', 'null'] }, 'already nullable: unchanged');
  assert.deepEqual(strict.$defs.Target, {
    type: 'object',
    properties: { id: { type: ['string', 'null'] } },
    required: ['id'],
    additionalProperties: false,
  });
});

test('restoreOptionalArguments drops the nulls written for optional properties, nested ones included', () => {
  const schema = z.toJSONSchema(ReadFile) as JsonSchema;
  const written = {
    path: 'README.md',
    limit: null,
    ranges: [
      { from: 1, note: null },
      { from: 2, note: 'x' },
    ],
  };
  assert.deepEqual(restoreOptionalArguments(written, schema), { path: 'README.md', ranges: [{ from: 1 }, { from: 2, note: 'x' }] });
  assert.doesNotThrow(() => ReadFile.parse(restoreOptionalArguments(written, schema)), 'the original schema accepts them');

  const withNullable = {
    type: 'object',
    properties: { a: { type: ['string', 'null'] }, b: { $ref: '#/$defs/B' } },
    $defs: { B: { type: 'string' } },
  };
  assert.deepEqual(restoreOptionalArguments({ a: null, b: null }, withNullable), { a: null }, 'a null the schema allows is kept');
});

test('argumentRestorer returns the same text when nothing changes, and leaves text that is not JSON alone', () => {
  const restore = argumentRestorer([{ name: 'read_file', description: '', parameters: z.toJSONSchema(ReadFile) as JsonSchema }]);
  const unchanged = '{"path": "a", "limit": 3, "ranges": []}';
  assert.equal(restore('read_file', unchanged), unchanged);
  assert.equal(restore('read_file', '{"path":"a","limit":null,"ranges":[]}'), '{"path":"a","ranges":[]}');
  assert.equal(restore('read_file', '{not json'), '{not json');
  assert.equal(restore('other_tool', '{"x":null}'), '{"x":null}');
});
