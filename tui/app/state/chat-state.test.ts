import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reply, SESSION, toolPart, userMessage } from '../../../test/helpers/tui/chat-fixtures.ts';
import { chatFromSnapshot, queuedReplies, reduceChat, streamingMessage, userTexts, type ChatAction, type ChatView } from './chat-state.ts';

const fresh = (messages = [userMessage('u1', 'hello')]): ChatView =>
  chatFromSnapshot({ session: SESSION, messages, queued: 0, providerConfigured: true });
const run = (chat: ChatView, ...actions: ChatAction[]) => actions.reduce(reduceChat, chat);
const delta = (messageId: string, partId: string, text: string): ChatAction => ({
  kind: 'delta',
  session: SESSION,
  messageId,
  partId,
  delta: text,
});

describe('chat state', () => {
  test('deltas build a reply part by part; the first delta of a part creates it', () => {
    const chat = run(
      fresh(),
      { kind: 'message', message: reply('a1', [], 'queued') },
      delta('a1', 'p1', 'Hel'),
      delta('a1', 'p1', 'lo'),
      delta('a1', 'p2', ' again'),
    );
    const message = chat.messages[1];
    assert.equal(message?.status, 'streaming', 'the first delta starts the reply');
    assert.deepEqual(message?.parts, [
      { id: 'p1', type: 'text', text: 'Hello' },
      { id: 'p2', type: 'text', text: ' again' },
    ]);
    assert.equal(streamingMessage(chat)?.id, 'a1');
  });

  test('a part event adds a tool call and later replaces it; the done message replaces the whole', () => {
    let chat = run(
      fresh(),
      { kind: 'message', message: reply('a1') },
      { kind: 'part', session: SESSION, messageId: 'a1', part: toolPart('t1', 'read_file', { path: 'a.ts' }) },
    );
    chat = reduceChat(chat, {
      kind: 'part',
      session: SESSION,
      messageId: 'a1',
      part: toolPart('t1', 'read_file', { path: 'a.ts' }, 'done', '3 lines'),
    });
    assert.equal(chat.messages[1]?.parts.length, 1);
    assert.deepEqual(chat.messages[1]?.parts[0], toolPart('t1', 'read_file', { path: 'a.ts' }, 'done', '3 lines'));
    const final = reply('a1', [{ id: 'p', type: 'text', text: 'final words' }], 'done');
    chat = reduceChat(chat, { kind: 'done', message: final });
    assert.equal(chat.messages[1], final);
    assert.equal(streamingMessage(chat), null);
  });

  test('an unchanged message keeps its object (what is drawn from it is cached by identity)', () => {
    const chat = run(fresh(), { kind: 'message', message: reply('a1') });
    const next = reduceChat(chat, delta('a1', 'p', 'x'));
    assert.equal(next.messages[0], chat.messages[0]);
    assert.notEqual(next.messages[1], chat.messages[1]);
  });

  test('events of another session, and deltas for unknown messages, change nothing', () => {
    const chat = fresh();
    assert.equal(reduceChat(chat, { kind: 'message', message: { ...userMessage('x', 'elsewhere'), session: 'other' } }), chat);
    assert.equal(reduceChat(chat, { kind: 'delta', session: 'other', messageId: 'u1', partId: 'p', delta: 'x' }), chat);
    assert.equal(reduceChat(chat, delta('nope', 'p', 'x')), chat);
  });

  test('a new session starts empty; a provider wait shows until the turn streams again', () => {
    let chat = run(
      fresh(),
      { kind: 'message', message: reply('a1') },
      { kind: 'wait', session: SESSION, wait: { reason: 'rate-limit', seconds: 20, attempt: 2 } },
    );
    assert.deepEqual(chat.wait, { reason: 'rate-limit', seconds: 20, attempt: 2 });
    chat = reduceChat(chat, delta('a1', 'p', 'x'));
    assert.equal(chat.wait, null);
    chat = reduceChat(chat, { kind: 'session', session: '2025-01-02-2' });
    assert.equal(chat.session, '2025-01-02-2');
    assert.deepEqual(chat.messages, []);
  });

  test('queued replies are counted; user texts feed the input history', () => {
    const chat = run(
      fresh(),
      { kind: 'message', message: reply('a1', [], 'queued') },
      { kind: 'message', message: reply('a2', [], 'queued') },
    );
    assert.equal(queuedReplies(chat), 2);
    assert.deepEqual(userTexts([userMessage('u1', 'one'), reply('a', [], 'done'), userMessage('u2', 'two')]), ['one', 'two']);
  });

  test('older messages: asked for before the oldest held, prepended without duplicates', () => {
    const many = Array.from({ length: 50 }, (_, i) => userMessage(`m${i + 10}`, `message ${i}`));
    let chat = fresh(many);
    assert.equal(chat.olderAvailable, true, 'a full snapshot page: there may be more');
    chat = reduceChat(chat, { kind: 'want-older' });
    const want = chat.historyWant;
    assert.deepEqual(want && { before: want.before, session: want.session }, { before: 'm10', session: SESSION });
    assert.equal(reduceChat(chat, { kind: 'want-older' }), chat, 'one read at a time');
    chat = reduceChat(chat, { kind: 'history', want: want!, messages: [userMessage('m1', 'old'), userMessage('m10', 'dup')], more: false });
    assert.deepEqual(
      chat.messages.slice(0, 2).map((m) => m.id),
      ['m1', 'm10'],
    );
    assert.equal(chat.messages.length, 51);
    assert.equal(chat.olderAvailable, false);
    assert.equal(chat.historyWant, null);
  });

  test('the provider becoming configured (config.changed) updates the hint flag', () => {
    const chat = chatFromSnapshot({ session: SESSION, messages: [], queued: 0, providerConfigured: false });
    const next = reduceChat(chat, {
      kind: 'provider',
      provider: { model: 'm', api: 'chat', baseURL: null, apiKeySet: true, configured: true },
    });
    assert.equal(next.providerConfigured, true);
  });
});
