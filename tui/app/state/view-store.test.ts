import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeGoal, makeSnapshot } from '../../../test/helpers/tui/fixtures.ts';
import { ViewStore } from './view-store.ts';
import { initialViewState } from './view-state.ts';

test('dispatch applies actions at once and notifies once per call, only on change', () => {
  const store = new ViewStore(initialViewState(makeSnapshot({ goals: [makeGoal(1), makeGoal(2), makeGoal(3)] }), 'open'));
  let notified = 0;
  const unsubscribe = store.subscribe(() => notified++);
  store.dispatch({ kind: 'select', direction: 'next' }, { kind: 'select', direction: 'next' });
  assert.equal(store.getState().selectedId, 3, 'read back before any render');
  assert.equal(notified, 1);
  store.dispatch({ kind: 'select', direction: 'next' }); // already at the end: no change
  assert.equal(notified, 1);
  unsubscribe();
  store.dispatch({ kind: 'select', direction: 'previous' });
  assert.equal(notified, 1);
  assert.equal(store.getState().selectedId, 2);
});
