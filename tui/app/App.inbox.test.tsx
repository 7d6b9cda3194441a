/** The inbox in the TUI: the count in the status bar, `I` opens the overlay, `a` answers in $EDITOR, another terminal's answer shows live. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode, RpcError, type Question } from '../../protocol/index.ts';
import type { ExternalEditor } from './editor.ts';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

const QUESTION: Question = {
  id: 1,
  createdAt: '2025-01-02T03:04:05.000Z',
  from: { goalId: 1, iteration: 2 },
  question: 'Which port should the server use?',
  options: ['80', '8080'],
};

/** An editor that writes `answer` above what it is given, and remembers what it was given. */
function writingEditor(answer: string): ExternalEditor & { given: string[] } {
  const given: string[] = [];
  return {
    given,
    edit: ({ text }) => {
      given.push(text);
      return { kind: 'edited', text: `${answer}\n${text}` };
    },
  };
}

describe('the inbox', () => {
  test('the count shows in the status bar; I opens the inbox, a answers in the editor (many lines), and the answer shows', async (t) => {
    const answered: unknown[] = [];
    const connection = new FakeConnection(makeSnapshot({ seq: 1, goals: [makeGoal(1, 'waiting', 'Serve it')] }), (method, params) => {
      if (method !== 'inbox.answer') return undefined;
      answered.push(params);
      return { question: { ...QUESTION, answer: { text: (params as { text: string }).text, at: '2025-01-02T03:05:00.000Z', by: 'tui' } } };
    });
    const editor = writingEditor('Use 8080,\nand say so in the README.');
    const app = renderApp(t, connection, { editor });
    connection.pushEvent(makeEvent(2, 'question.asked', { question: QUESTION }));
    await eventually(() => assert.match(app.frame(), /\? 1 question/));
    assert.match(app.frame(), /waiting for an answer to question 1: Which port/, "the waiting goal's line names the question");

    await app.press('I');
    await eventually(() => assert.match(app.frame(), /Inbox · 1 open question/));
    assert.match(app.frame(), /› 1 {2}goal #1 \(iteration 2\) {2}Which port should the server use\?/);
    assert.match(app.frame(), /options: 80 \| 8080/);

    await app.press('a');
    await eventually(() => assert.equal(answered.length, 1));
    assert.deepEqual(answered[0], { id: 1, text: 'Use 8080,\nand say so in the README.' });
    assert.match(editor.given[0]!, /# Which port should the server use\?/, 'the editor shows the question below the scissors');
    connection.pushEvent(
      makeEvent(3, 'question.answered', {
        question: { ...QUESTION, answer: { text: 'Use 8080,\nand say so.', at: '2025-01-02T03:05:00.000Z', by: 'tui' } },
      }),
    );
    await eventually(() => assert.match(app.frame(), /Inbox · 0 open questions/));
    assert.match(app.frame(), /answered by tui/);
    assert.doesNotMatch(app.frame(), /\? \d+ question/, 'the status bar count is gone');
    await app.press(KEYS.escape);
    await eventually(() => assert.doesNotMatch(app.frame(), /Inbox ·/));
  });

  test('answered by another terminal first: the question shows answered, and a second answer is refused with the text kept', async (t) => {
    const connection = new FakeConnection(makeSnapshot({ seq: 1 }), (method) => {
      if (method === 'inbox.answer')
        throw new RpcError(ErrorCode.Conflict, 'question 1 was already answered by cli at 2025-01-02T03:05:00.000Z');
      return undefined;
    });
    const app = renderApp(t, connection, { editor: writingEditor('mine') });
    connection.pushEvent(makeEvent(2, 'question.asked', { question: QUESTION }));
    await app.press('I');
    await eventually(() => assert.match(app.frame(), /Inbox · 1 open question/));
    await app.press(KEYS.enter);
    const kept = await eventually(() => {
      const match = /your answer to question 1 is kept in (\S+question-1-answer\.md): question 1 wa/.exec(app.frame());
      assert.ok(match, app.frame());
      return match[1]!;
    });
    assert.equal(readFileSync(kept, 'utf8'), 'mine', 'the refused answer is kept in the file named');
    rmSync(path.dirname(kept), { recursive: true, force: true });

    connection.pushEvent(
      makeEvent(3, 'question.answered', {
        question: { ...QUESTION, answer: { text: 'theirs', at: '2025-01-02T03:05:00.000Z', by: 'cli' } },
      }),
    );
    await eventually(() => assert.match(app.frame(), /answered by cli/));
    await app.press('a');
    await eventually(() => assert.match(app.frame(), /question 1 was answered by cli/));
  });
});
