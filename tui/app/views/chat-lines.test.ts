import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chatFromSnapshot } from '../state/chat-state.ts';
import { progressFromSnapshot, reduceProgress, type ProgressView } from '../state/progress-state.ts';
import { reply, researchRun, SESSION, toolPart, userMessage } from '../../../test/helpers/tui/chat-fixtures.ts';
import { chatFrame, messageRows, PROVIDER_HINT, summarizeArguments, toolRow, type ChatRowsOptions } from './chat-lines.ts';
import { rowText, rowWidth } from './text.ts';

const OPTIONS: ChatRowsOptions = { researchExpanded: false, researchKey: 'Ctrl+O' };
const texts = (rows: readonly (readonly { text: string }[])[]) => rows.map(rowText);
const NO_PROGRESS = progressFromSnapshot([]);

function withRun(status: 'running' | 'done'): ProgressView {
  let view = NO_PROGRESS;
  if (status === 'running') {
    view = reduceProgress(view, {
      kind: 'begin',
      data: { token: 'research:r-1', kind: 'research', title: 'run' },
      time: '2025-01-02T03:04:05.000Z',
    });
    view = reduceProgress(view, {
      kind: 'begin',
      data: { token: 'research:r-1:a1', kind: 'research-agent', title: 'What changed in the models?', total: 20, parent: 'research:r-1' },
      time: '2025-01-02T03:04:05.000Z',
    });
    view = reduceProgress(view, { kind: 'report', data: { token: 'research:r-1:a1', done: 5, message: 'reading daemon/llm/models.ts' } });
    return view;
  }
  return reduceProgress(view, {
    kind: 'research',
    run: researchRun(
      'r-1',
      [
        { id: 'a1', question: 'What changed?', status: 'done', sources: 3 },
        { id: 'a2', question: 'Prices?', status: 'failed', error: 'timed out' },
      ],
      'done',
    ),
  });
}

describe('chat rows', () => {
  test('a user message is marked; a reply is markdown, indented', () => {
    const rows = [
      ...messageRows(userMessage('u', 'hello there'), NO_PROGRESS, 40, OPTIONS),
      ...messageRows(reply('a', [{ id: 'p', type: 'text', text: '# Plan\n- **one**' }], 'done'), NO_PROGRESS, 40, OPTIONS),
    ];
    assert.deepEqual(texts(rows), ['› hello there', '  Plan', '  • one']);
  });

  test('a tool call is one compact row: name, arguments, result', () => {
    assert.equal(
      rowText(toolRow(toolPart('t', 'read_file', { path: 'daemon/llm/models.ts' }, 'done', '120 lines\nmore'), 80)),
      '  ✓ read_file daemon/llm/models.ts → 120 lines more',
    );
    assert.equal(rowText(toolRow(toolPart('t', 'search_files', { pattern: 'x' }), 80)), '  ⚙ search_files x → …');
    const long = toolRow(toolPart('t', 'write_file', { path: 'a.ts', content: 'x'.repeat(500) }, 'error', 'denied'), 60);
    assert.equal(rowWidth(long), 60);
    assert.equal(
      rowText(toolRow(toolPart('t', 'read_file', { path: 'a.ts' }, 'done', 'the whole file…', { summary: 'read a.ts (3 lines)' }), 80)),
      '  ✓ read_file a.ts → read a.ts (3 lines)',
      'the summary when there is one',
    );
    assert.equal(summarizeArguments('{"questions":["a?","b?"]}'), 'a?, b?');
    assert.equal(summarizeArguments('not json'), 'not json');
  });

  test('a running research run: one bar per agent with its step and what it does now', () => {
    const message = reply('a', [toolPart('r', 'research', { questions: ['What changed in the models?'] })]);
    const rows = texts(messageRows(message, withRun('running'), 100, OPTIONS));
    assert.match(rows[0] ?? '', /◆ Research · 1 agent/);
    assert.match(rows[1] ?? '', /▸ ███░░░░░░░ {2}5\/20 {2}What changed in the models\? {2}reading daemon\/llm\/models\.ts/);
  });

  test('an ended run collapses to one summary row; expanded, it shows every agent', () => {
    const message = reply('a', [toolPart('r', 'research', { questions: ['q'] }, 'done', 'run r-1 ended')], 'done');
    const collapsed = texts(messageRows(message, withRun('done'), 120, OPTIONS));
    assert.equal(collapsed.length, 1);
    assert.match(collapsed[0] ?? '', /✓ Research done: 2 questions, 1 answered, 1 failed · Ctrl\+O details · 2\.4k tok · \$0\.05/);
    const expanded = texts(messageRows(message, withRun('done'), 120, { ...OPTIONS, researchExpanded: true }));
    assert.equal(expanded.length, 3);
    assert.match(expanded[1] ?? '', /✓ .*What changed\? {2}3 sources/);
    assert.match(expanded[2] ?? '', /✗ .*Prices\? {2}timed out/);
  });

  test('a finished message is laid out once: the same rows object while nothing changes', () => {
    const message = reply('a', [{ id: 'p', type: 'text', text: 'done **text**' }], 'done');
    const first = messageRows(message, NO_PROGRESS, 50, OPTIONS);
    assert.equal(messageRows(message, NO_PROGRESS, 50, OPTIONS), first);
    assert.notEqual(messageRows(message, NO_PROGRESS, 40, OPTIONS), first, 'a new width lays it out again');
    const streaming = reply('b', [{ id: 'p', type: 'text', text: 'so far' }]);
    assert.notEqual(
      messageRows(streaming, NO_PROGRESS, 50, OPTIONS),
      messageRows(streaming, NO_PROGRESS, 50, OPTIONS),
      'streaming: not cached',
    );
  });

  test('errors and interruptions are said; usage and cost follow a finished reply', () => {
    const failed = reply('a', [], 'error', { error: 'the provider refused: 401' });
    assert.deepEqual(texts(messageRows(failed, NO_PROGRESS, 60, OPTIONS)), ['  ✗ the provider refused: 401']);
    assert.deepEqual(texts(messageRows(reply('b', [], 'interrupted'), NO_PROGRESS, 60, OPTIONS)), ['  (interrupted)']);
    const done = reply('c', [{ id: 'p', type: 'text', text: 'ok' }], 'done', {
      model: 'gpt-5.4-mini',
      usage: { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 234, reasoningTokens: 0 },
      costUsd: 0.0021,
    });
    assert.deepEqual(texts(messageRows(done, NO_PROGRESS, 60, OPTIONS)), ['  ok', '  gpt-5.4-mini · 1.2k tok · $0.002']);
  });
});

describe('chat frame', () => {
  const chat = (providerConfigured: boolean, count = 0) =>
    chatFromSnapshot({
      session: SESSION,
      messages: Array.from({ length: count }, (_, i) => userMessage(`u${i}`, `message ${i}`)),
      queued: 0,
      providerConfigured,
    });
  const input = (c: ReturnType<typeof chat>, scroll = 0) => ({
    chat: c,
    progress: NO_PROGRESS,
    scroll,
    proposal: null,
    proposalKey: 'Ctrl+Y',
  });

  test('no provider: the hint says how to configure one', () => {
    const frame = chatFrame(input(chat(false)), 80, 20, OPTIONS);
    assert.equal(texts(frame.hint).join(' '), PROVIDER_HINT);
    assert.match(PROVIDER_HINT, /OPENAI_API_KEY/);
    assert.deepEqual(chatFrame(input(chat(true)), 80, 20, OPTIONS).hint, []);
  });

  test('the conversation is shown from its end; scrolled back, a marker says what is below', () => {
    const frame = chatFrame(input(chat(true, 20)), 80, 10, OPTIONS);
    assert.equal(frame.contentRows, 7);
    assert.equal(texts(frame.rows).at(-1), '› message 19');
    assert.equal(frame.maxScroll, 39 - 7);
    const back = chatFrame(input(chat(true, 20), 4), 80, 10, OPTIONS);
    assert.equal(texts(back.rows).at(-1), '  ↓ 4 more rows');
    assert.ok(texts(back.rows).includes('› message 16'));
    assert.ok(!texts(back.rows).includes('› message 19'));
  });

  test('a proposed draft is offered with the key that queues it', () => {
    const frame = chatFrame({ ...input(chat(true)), proposal: { id: 7, title: 'Adopt the new models' } }, 80, 10, OPTIONS);
    assert.equal(frame.proposal && rowText(frame.proposal), '◇ Proposed goal #7 Adopt the new models · Ctrl+Y queues it');
  });
});
