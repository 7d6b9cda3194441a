import assert from 'node:assert/strict';
import { test } from 'node:test';
import { themeFor } from './theme.ts';

test('NO_COLOR set to anything non-empty turns every color off', () => {
  assert.ok(Object.values(themeFor({ NO_COLOR: '1' })).every((color) => color === undefined));
  assert.ok(Object.values(themeFor({})).every((color) => typeof color === 'string'));
  assert.ok(
    Object.values(themeFor({ NO_COLOR: '' })).every((color) => typeof color === 'string'),
    'empty means unset',
  );
});
