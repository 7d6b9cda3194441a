import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findDoneMarker } from './external-iteration.ts';

describe('the done marker in an external agent’s final message', () => {
  it('is a line of its own; what follows it is the summary, the rest the message', () => {
    assert.deepEqual(findDoneMarker('Wrote a.ts and its test.\nRALPH_GOAL_DONE: a.ts is there'), {
      text: 'Wrote a.ts and its test.',
      claimed: 'a.ts is there',
    });
    assert.deepEqual(findDoneMarker('**RALPH_GOAL_DONE**: all green\n'), { text: '', claimed: 'all green' });
    assert.deepEqual(findDoneMarker('Done with it.\nRALPH_GOAL_DONE'), { text: 'Done with it.', claimed: 'Done with it.' });
  });

  it('is no claim when it is only mentioned', () => {
    assert.deepEqual(findDoneMarker('I will print RALPH_GOAL_DONE once the tests pass.'), {
      text: 'I will print RALPH_GOAL_DONE once the tests pass.',
      claimed: null,
    });
    assert.equal(findDoneMarker('RALPH_GOAL_DONEISH').claimed, null);
  });
});
