import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../testing/wait-for.ts';
import { FrameBatcher } from './frame-batcher.ts';

test('a burst of items is delivered once, in order', async () => {
  const deliveries: number[][] = [];
  const batcher = new FrameBatcher<number>((items) => deliveries.push(items));
  for (let i = 0; i < 1000; i++) batcher.push(i);
  assert.equal(deliveries.length, 0, 'nothing is delivered synchronously');
  await eventually(() => assert.equal(deliveries.length, 1));
  assert.deepEqual(deliveries[0], Array.from({ length: 1000 }, (_, i) => i));
});

test('items pushed after a delivery start a new frame', async () => {
  const deliveries: string[][] = [];
  const batcher = new FrameBatcher<string>((items) => deliveries.push(items));
  batcher.push('a', 'b');
  await eventually(() => assert.equal(deliveries.length, 1));
  batcher.push('c');
  await eventually(() => assert.equal(deliveries.length, 2));
  assert.deepEqual(deliveries, [['a', 'b'], ['c']]);
});

test('flush delivers at once; dispose drops what is pending', async () => {
  const deliveries: number[][] = [];
  const batcher = new FrameBatcher<number>((items) => deliveries.push(items));
  batcher.push(1);
  batcher.flush();
  assert.deepEqual(deliveries, [[1]]);
  batcher.push(2);
  batcher.dispose();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(deliveries, [[1]]);
});
