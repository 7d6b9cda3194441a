import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../../../test/helpers/tui/wait-for.ts';
import { FrameBatcher } from './frame-batcher.ts';

test('a burst of items is delivered once, in order', async () => {
  const deliveries: number[][] = [];
  const batcher = new FrameBatcher<number>((items) => deliveries.push(items));
  for (let i = 0; i < 1000; i++) batcher.push(i);
  assert.equal(deliveries.length, 0, 'nothing is delivered synchronously');
  await eventually(() => assert.equal(deliveries.length, 1));
  assert.deepEqual(
    deliveries[0],
    Array.from({ length: 1000 }, (_, i) => i),
  );
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

test('after a quiet spell a frame is short; while items keep coming frames stretch to the busy length', async () => {
  // Lengths far apart, so the bounds below hold on a loaded machine (timers never fire early).
  const QUIET = 10;
  const BUSY = 500;
  const deliveredAt: number[] = [];
  const batcher = new FrameBatcher<number>(() => deliveredAt.push(performance.now()), QUIET, BUSY);
  const quietStart = performance.now();
  batcher.push(1);
  await eventually(() => assert.equal(deliveredAt.length, 1));
  assert.ok(deliveredAt[0]! - quietStart >= QUIET - 1, 'a frame of its own length');
  assert.ok(deliveredAt[0]! - quietStart < BUSY - 100, 'not the busy length after a quiet spell');

  batcher.push(2); // right after a delivery: the stream is busy
  await eventually(() => assert.equal(deliveredAt.length, 2));
  assert.ok(deliveredAt[1]! - deliveredAt[0]! >= BUSY - 1, `the busy frame length, not ${deliveredAt[1]! - deliveredAt[0]!} ms`);

  await new Promise((resolve) => setTimeout(resolve, BUSY + 50)); // quiet again
  const again = performance.now();
  batcher.push(3);
  await eventually(() => assert.equal(deliveredAt.length, 3));
  assert.ok(deliveredAt[2]! - again < BUSY - 100, 'short again after a quiet spell');
  batcher.dispose();
});
