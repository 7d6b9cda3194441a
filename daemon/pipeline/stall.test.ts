/** Stall detection around a question: an iteration that asked a person is no stall, and what came before it does not count. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyUsage } from '../../protocol/index.ts';
import { boundsFrom, stallDetected, type BoundedIteration } from './bounds.ts';
import { defaultConfig } from '../config/schema.ts';

const bounds = boundsFrom(defaultConfig().executor);

function iteration(number: number, extra: Partial<BoundedIteration> = {}): BoundedIteration {
  return { number, commit: null, check: null, usage: emptyUsage(), ...extra };
}

test('three iterations in a row that change nothing are a stall, unless one of them asked a person', () => {
  assert.match(stallDetected([iteration(1), iteration(2), iteration(3)], bounds) ?? '', /3 iterations in a row changed nothing/);
  const asked = { asked: { question: 'Which one?' } };
  assert.equal(stallDetected([iteration(1), iteration(2), iteration(3, asked)], bounds), null, 'the asking iteration is no stall');
  assert.equal(
    stallDetected([iteration(1), iteration(2, asked), iteration(3), iteration(4)], bounds),
    null,
    'nor is what came before it counted',
  );
  assert.match(
    stallDetected([iteration(1, asked), iteration(2), iteration(3), iteration(4)], bounds) ?? '',
    /changed nothing/,
    'three after the answer are a stall again',
  );
});
