import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Question } from '../../../protocol/index.ts';
import { answerFromFile, answerTemplate, inboxFromSnapshot, inboxList, openCount, pickedQuestion, reduceInbox } from './inbox-state.ts';

function question(id: number, createdAt: string, answer?: Question['answer']): Question {
  return { id, createdAt, from: { goalId: id, iteration: 1 }, question: `Question ${id}?`, ...(answer ? { answer } : {}) };
}
const ANSWER = { text: 'yes', at: '2026-01-01T00:10:00.000Z', by: 'tui' };

describe('the inbox', () => {
  test('lists the open questions oldest first, then those answered meanwhile; the oldest is picked', () => {
    const inbox = inboxFromSnapshot([question(2, '2026-01-01T00:02:00.000Z'), question(1, '2026-01-01T00:01:00.000Z')]);
    assert.deepEqual(
      inboxList(inbox).map((each) => each.id),
      [1, 2],
    );
    assert.equal(inbox.pickedId, 1);
    assert.equal(openCount(inbox), 2);
  });

  test('an answer from another terminal shows the question answered, kept in place; the count drops', () => {
    let inbox = inboxFromSnapshot([question(1, '2026-01-01T00:01:00.000Z'), question(2, '2026-01-01T00:02:00.000Z')]);
    inbox = reduceInbox(inbox, { kind: 'closed', question: question(1, '2026-01-01T00:01:00.000Z', ANSWER) });
    assert.equal(openCount(inbox), 1);
    assert.equal(pickedQuestion(inbox)?.answer?.text, 'yes', 'the picked question stays picked, answered');
    assert.deepEqual(
      inboxList(inbox).map((each) => [each.id, each.answer?.by]),
      [
        [2, undefined],
        [1, 'tui'],
      ],
    );
    // An `asked` replayed after the answer does not reopen it; a new snapshot keeps it answered.
    assert.equal(reduceInbox(inbox, { kind: 'asked', question: question(1, '2026-01-01T00:01:00.000Z') }), inbox);
    inbox = reduceInbox(inbox, { kind: 'snapshot', questions: [question(2, '2026-01-01T00:02:00.000Z')] });
    assert.equal(inbox.questions.get(1)?.answer?.text, 'yes');
  });

  test('j/k move the pick within the list and stop at its ends', () => {
    let inbox = inboxFromSnapshot([question(1, '2026-01-01T00:01:00.000Z'), question(2, '2026-01-01T00:02:00.000Z')]);
    inbox = reduceInbox(inbox, { kind: 'pick', direction: 'next' });
    assert.equal(inbox.pickedId, 2);
    assert.equal(reduceInbox(inbox, { kind: 'pick', direction: 'next' }), inbox);
    assert.equal(reduceInbox(inbox, { kind: 'pick', direction: 'previous' }).pickedId, 1);
    const empty = inboxFromSnapshot([]);
    assert.equal(reduceInbox(empty, { kind: 'pick', direction: 'next' }), empty);
    assert.equal(pickedQuestion(empty), null);
  });

  test('an answer file: the text above the scissors, many lines kept; the question below it is not part of it', () => {
    const template = answerTemplate({ ...question(3, '2026-01-01T00:00:00.000Z'), options: ['a', 'b'] });
    assert.match(template, /# Question 3:\n# Question 3\?\n#\n# Options: a \| b/);
    assert.equal(answerFromFile(template), null, 'left empty: no answer');
    assert.equal(answerFromFile(`Use b.\n\n# not a comment: kept\n${template}`), 'Use b.\n\n# not a comment: kept');
    assert.equal(answerFromFile('  plain text without the scissors \n'), 'plain text without the scissors');
  });
});
