/**
 * The chat asks through the inbox: its agent (scripted through test/fake-openai) calls ask_human;
 * the question is in the inbox, from the chat's session; the answer, given with `ralph answer`,
 * comes back into the session as a message of its own and starts the next turn, which reads it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '../../protocol/index.ts';
import { promptOf } from '../pipeline/executor-helpers.ts';
import { startChatDaemon } from '../chat/helpers.ts';
import { cliEnv, ralph, succeeded } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

test('the chat files a question with ask_human; the answer comes back into its session and its next turn reads it', async (t) => {
  const { server, daemon } = await startChatDaemon(t);
  const client = await daemon.connect('chat-ask');
  const seen: string[] = [];
  server.script(
    { toolCalls: [{ name: 'ask_human', arguments: { question: 'Postgres or SQLite?', options: ['Postgres', 'SQLite'] } }] },
    { text: 'I asked you in the inbox.' },
    (request) => {
      seen.push(promptOf(request));
      return { text: 'SQLite it is.' };
    },
  );
  const { session } = await client.request('chat.send', { text: 'Pick a database for the cache' });
  const { questions } = await waitFor(
    async () => {
      const list = await client.request('inbox.list', {});
      return list.questions.length > 0 && list;
    },
    { message: 'the chat question in the inbox' },
  );
  assert.deepEqual(
    questions.map((question) => [question.from, question.question, question.options]),
    [[{ chat: session }, 'Postgres or SQLite?', ['Postgres', 'SQLite']]],
  );

  succeeded(await ralph(['answer', String(questions[0]!.id), 'SQLite: it is only a cache.', '--repo', daemon.repoRoot], { env: cliEnv() }));
  const messages = await waitFor(
    async () => {
      const history = await client.request('chat.history', { session });
      const done = history.messages.filter((message: ChatMessage) => message.role === 'assistant' && message.status === 'done');
      return done.length >= 2 && history.messages;
    },
    { timeoutMs: 10_000, message: 'the turn the answer starts to end' },
  );
  const users = messages
    .filter((message) => message.role === 'user')
    .map((message) => message.parts.map((part) => (part.type === 'text' ? part.text : '')).join(''));
  assert.deepEqual(users, ['Pick a database for the cache', 'Answer to question 1 (Postgres or SQLite?):\nSQLite: it is only a cache.']);
  assert.match(seen[0] ?? '', /Answer to question 1 \(Postgres or SQLite\?\):\nSQLite: it is only a cache\./);
});
