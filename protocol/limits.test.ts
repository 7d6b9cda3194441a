import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Goal, createGoal } from './goal.ts';
import { JsonRpcRequest, describeZodError } from './jsonrpc.ts';
import { FREE_JSON_BOUNDS, GOAL_TITLE_MAX, Methods, boundedJson, clipUnits, jsonBoundsViolation, type JsonBounds } from './index.ts';

const small: JsonBounds = { maxDepth: 3, maxNodes: 10, maxStringUnits: 8 };

/** Nested `depth` deep without recursion (building it recursively would be the overflow under test). */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

describe('bounded JSON', () => {
  it('measures depth, values and text exactly at the bounds', () => {
    assert.equal(jsonBoundsViolation(1, small), null);
    assert.equal(jsonBoundsViolation([[[]]], small), null, '3 deep');
    assert.equal(jsonBoundsViolation([[[[]]]], small), 'nested deeper than 3 levels');
    assert.equal(jsonBoundsViolation({ a: { b: { c: 1 } } }, small), null);
    assert.equal(jsonBoundsViolation({ a: { b: { c: {} } } }, small), 'nested deeper than 3 levels');
    assert.equal(jsonBoundsViolation([1, 2, 3, 4, 5, 6, 7, 8, 9], small), null, '10 values with the array');
    assert.equal(jsonBoundsViolation([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], small), 'more than 10 values');
    assert.equal(jsonBoundsViolation({ abc: 'defgh' }, small), null, '8 units, key included');
    assert.equal(jsonBoundsViolation({ abc: 'defghi' }, small), 'more than 8 characters of text');
    // UTF-16 code units, like zod's .max(): an emoji is two, é is one.
    assert.equal(jsonBoundsViolation('😀😀😀😀', small), null);
    assert.equal(jsonBoundsViolation('😀😀😀😀x', small), 'more than 8 characters of text');
    assert.equal(jsonBoundsViolation('éééééééé', small), null);
  });

  it('measures values a million deep or wide without overflowing, and stops early', () => {
    for (const kind of ['array', 'object'] as const) {
      assert.equal(jsonBoundsViolation(nested(1_000_000, kind), FREE_JSON_BOUNDS), 'nested deeper than 32 levels');
    }
    assert.equal(jsonBoundsViolation(new Array(5_000_000).fill(0), FREE_JSON_BOUNDS), 'more than 100000 values');
    // A cycle (never from JSON, but a value built in the daemon) ends at the bounds too.
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.match(jsonBoundsViolation(cycle, FREE_JSON_BOUNDS) ?? '', /nested deeper/);
  });

  it('prototype keys are counted as plain keys, and are never followed', () => {
    const bounds = { ...small, maxStringUnits: 100 };
    const value = JSON.parse('{"__proto__": {"a": {"b": {"c": 1}}}, "constructor": {"prototype": 1}}') as unknown;
    assert.equal(jsonBoundsViolation(value, bounds), 'nested deeper than 3 levels');
    assert.equal(jsonBoundsViolation(JSON.parse('{"__proto__": 1, "constructor": 2}'), bounds), null);
  });

  it('a bounded schema keeps its type and shape, and says which bound a value passes', () => {
    const schema = boundedJson(z.looseObject({ name: z.string() }), { ...small, maxStringUnits: 100 });
    assert.deepEqual(Object.keys(schema.shape), ['name']);
    assert.deepEqual(schema.parse({ name: 'x', extra: [1] }), { name: 'x', extra: [1] });
    const failed = schema.safeParse({ name: 'x', extra: [[[1]]] });
    assert.ok(!failed.success);
    assert.equal(describeZodError(failed.error), 'nested deeper than 3 levels');
  });

  it('bounds every free-form field of the protocol: request params, goal extras, links', () => {
    const deep = nested(100, 'object');
    assert.match(
      describeZodError(JsonRpcRequest.safeParse({ jsonrpc: '2.0', id: 1, method: 'goal.list', params: deep }).error!),
      /^params: nested deeper than 32 levels/,
    );
    const goal = createGoal({ id: 1, title: 'bounded', now: new Date('2026-01-01T00:00:00Z') });
    assert.ok(Goal.safeParse({ ...goal, later: nested(20, 'array') }).success, 'a later version’s fields survive');
    assert.equal(describeZodError(Goal.safeParse({ ...goal, later: nested(40, 'array') }).error!), 'nested deeper than 32 levels');
    assert.equal(
      describeZodError(Goal.safeParse({ ...goal, links: { chat: 's', x: nested(4, 'array') } }).error!),
      'links: nested deeper than 4 levels',
    );
    assert.equal(
      describeZodError(Methods['goal.create'].params.safeParse({ title: 't', links: { x: nested(4, 'object') } }).error!),
      'links: nested deeper than 4 levels',
    );
  });

  it('string limits count UTF-16 units: a title of 200 units passes, 201 does not, whatever the characters', () => {
    const params = Methods['goal.create'].params;
    assert.ok(params.safeParse({ title: 'é'.repeat(GOAL_TITLE_MAX) }).success, '200 × é: 200 units, 400 bytes');
    assert.ok(params.safeParse({ title: '😀'.repeat(GOAL_TITLE_MAX / 2) }).success, '100 emoji: 200 units');
    assert.ok(!params.safeParse({ title: `${'😀'.repeat(GOAL_TITLE_MAX / 2)}x` }).success);
    assert.ok(!params.safeParse({ title: 'a'.repeat(GOAL_TITLE_MAX + 1) }).success);
    // What a model's tool is told stays the same limit.
    assert.equal(
      (z.toJSONSchema(params, { io: 'input' }) as unknown as { properties: { title: { maxLength: number } } }).properties.title.maxLength,
      GOAL_TITLE_MAX,
    );
  });

  it('clipUnits cuts to UTF-16 units, never through a surrogate pair', () => {
    assert.equal(clipUnits('abc', 5), 'abc');
    assert.equal(clipUnits('abcdef', 3), 'abc');
    assert.equal(clipUnits('ab😀', 3), 'ab');
    assert.equal(clipUnits('ab😀', 4), 'ab😀');
  });

  it('an error names only the first few issues (an array can have one per element)', () => {
    const schema = z.array(z.string());
    const error = schema.safeParse(Array.from({ length: 5000 }, (_, i) => i)).error!;
    const described = describeZodError(error);
    assert.match(described, /^0: .*; 9: [^;]*; and 4990 more$/);
  });
});
