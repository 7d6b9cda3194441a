/**
 * The shared chat end to end: a real daemon, real clients over WebSocket, the real provider (openai SDK)
 * and a real OpenAI-compatible server (test/fake-openai).
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ChatMessage } from '../../protocol/index.ts';
import { TranscriptLine } from '../../daemon/chat/transcript.ts';
import { DEFAULT_MODEL } from '../../daemon/config/schema.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { recordEvents } from '../helpers/events.ts';
import { deltasOf, PRICED_MODEL, providerEnv, startChatDaemon, startFakeServer, textOf, waitForReply } from './helpers.ts';

/** The transcript's messages in conversation order, as a restarted daemon reads them. */
async function readTranscript(repoRoot: string, session: string): Promise<ChatMessage[]> {
  const text = await readFile(path.join(repoRoot, '.ralph', 'chat', `${session}.jsonl`), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => TranscriptLine.parse(JSON.parse(line)))
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...message }) => ChatMessage.parse(message));
}

for (const api of ['chat', 'responses'] as const) {
  describe(`the shared chat (RALPH_API=${api})`, () => {
    it('streams one reply to two clients: the same deltas in the same order, the same final message', async (t) => {
      const { server, daemon } = await startChatDaemon(t, { api });
      const deltas = ['Hello', ' from', ' the', ' shared', ' chat', '.'];
      server.script({ deltas, deltaDelayMs: 2, usage: { inputTokens: 1000, outputTokens: 200 } });
      const alice = await daemon.connect('alice');
      const bob = await daemon.connect('bob');
      const aliceEvents = recordEvents(alice);
      const bobEvents = recordEvents(bob);

      const sent = await alice.request('chat.send', { text: 'hi there' });
      assert.equal(sent.position, 0);
      assert.equal(sent.session, alice.snapshot.chat.session);
      const [aliceReply, bobReply] = await Promise.all([
        waitForReply(aliceEvents, sent.replyMessageId),
        waitForReply(bobEvents, sent.replyMessageId),
      ]);

      assert.deepEqual(deltasOf(aliceEvents, sent.replyMessageId), deltas);
      assert.deepEqual(deltasOf(bobEvents, sent.replyMessageId), deltas);
      assert.deepEqual(bobReply, aliceReply);
      assert.equal(aliceReply.status, 'done');
      assert.equal(textOf(aliceReply), deltas.join(''));
      assert.equal(aliceReply.parts.length, 1, 'one text part per reply');
      assert.equal(aliceReply.model, PRICED_MODEL);
      assert.deepEqual(aliceReply.usage, { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 200, reasoningTokens: 0 });
      // gpt-5.4-mini: $0.75 per 1M input tokens, $4.50 per 1M output tokens.
      assert.ok(Math.abs((aliceReply.costUsd ?? 0) - (1000 * 0.75 + 200 * 4.5) / 1e6) < 1e-12, `cost ${aliceReply.costUsd}`);

      // Bob saw Alice's message with its sender, and the reply's whole life: queued, streaming, done.
      const bobMessages = bobEvents.flatMap((event) => (event.type === 'chat.message' ? [event.data.message] : []));
      assert.deepEqual(
        bobMessages.map((message) => [message.role, message.status]),
        [
          ['user', 'done'],
          ['assistant', 'queued'],
          ['assistant', 'streaming'],
        ],
      );
      assert.equal(bobMessages[0]?.sender?.name, 'alice');
      assert.equal(bobMessages[0]?.sender?.clientId, alice.clientId);

      // A client attaching now gets the conversation in its snapshot.
      const carol = await daemon.connect('carol');
      assert.deepEqual(
        carol.snapshot.chat.messages.map((message) => [message.role, textOf(message)]),
        [
          ['user', 'hi there'],
          ['assistant', deltas.join('')],
        ],
      );
      assert.equal(carol.snapshot.chat.queued, 0);
      assert.equal(carol.snapshot.chat.providerConfigured, true);
    });

    it('a reply still cut at the output-token limit is continued, then ends as an error with its text kept, never as done', async (t) => {
      const { server, daemon } = await startChatDaemon(t, { api });
      server.script(...Array.from({ length: 4 }, (_, i) => ({ text: `part ${i}. `, stop: 'length' as const })));
      const alice = await daemon.connect('alice');
      const events = recordEvents(alice);
      const sent = await alice.request('chat.send', { text: 'write a long essay' });
      const reply = await waitForReply(events, sent.replyMessageId);
      assert.equal(reply.status, 'error');
      assert.match(reply.error ?? '', /cut short/);
      assert.equal(textOf(reply), 'part 0. part 1. part 2. part 3. ');
    });
  });
}

describe('the shared chat', () => {
  it('answers two messages sent at once from two clients one after the other, never interleaved', async (t) => {
    const { server, daemon } = await startChatDaemon(t, { fake: { deltaDelayMs: 5 } });
    const alice = await daemon.connect('alice');
    const bob = await daemon.connect('bob');
    const events = recordEvents(alice);

    const texts = ['a message from alice', 'a message from bob'];
    const sends = await Promise.all([alice.request('chat.send', { text: texts[0]! }), bob.request('chat.send', { text: texts[1]! })]);
    // Whichever arrived first is answered first.
    const [first, second] = sends.map((sent, index) => ({ ...sent, text: texts[index]! })).sort((a, b) => a.position - b.position);
    assert.deepEqual([first!.position, second!.position], [0, 1]);
    const replies = await Promise.all([waitForReply(events, first!.replyMessageId), waitForReply(events, second!.replyMessageId)]);
    assert.deepEqual(replies.map(textOf), [first!.text, second!.text], 'the echo scenario answers each message');

    const requests = server.modelRequests();
    assert.equal(requests.length, 2);
    assert.equal(server.maxConcurrency(), 1, 'the second request began after the first ended');
    // The second turn's request carries the first exchange.
    assert.ok(JSON.stringify(requests[1]?.body).includes(first!.text));

    // No delta of the second reply came before the first reply ended.
    const firstDone = events.findIndex((event) => event.type === 'chat.message.done' && event.data.message.id === first!.replyMessageId);
    const secondFirstDelta = events.findIndex((event) => event.type === 'chat.delta' && event.data.messageId === second!.replyMessageId);
    assert.ok(firstDone >= 0 && secondFirstDelta > firstDone, 'the second reply streamed after the first one ended');

    const conversation = [
      ['user', first!.text],
      ['assistant', first!.text],
      ['user', second!.text],
      ['assistant', second!.text],
    ];
    const history = await bob.request('chat.history', {});
    assert.deepEqual(
      history.messages.map((message) => [message.role, textOf(message)]),
      conversation,
    );
    assert.equal(history.more, false);
    const transcript = await readTranscript(daemon.repoRoot, first!.session);
    assert.deepEqual(
      transcript.map((message) => [message.role, textOf(message)]),
      conversation,
    );
    assert.deepEqual(
      transcript.map((message) => message.status),
      ['done', 'done', 'done', 'done'],
    );
  });

  it('without a provider, answers how to configure one, and the daemon stays up', async (t) => {
    const daemon = await startTestDaemon(t, undefined, { env: {}, configWatch: false });
    const client = await daemon.connect();
    assert.equal(client.snapshot.chat.providerConfigured, false);
    const events = recordEvents(client);

    const sent = await client.request('chat.send', { text: 'hello?' });
    const reply = await waitForReply(events, sent.replyMessageId);
    assert.equal(reply.status, 'done', 'a helpful answer, not an error');
    assert.equal(reply.error, undefined);
    const text = textOf(reply);
    assert.match(text, /OPENAI_API_KEY/);
    assert.match(text, /OPENAI_BASE_URL=http:\/\/localhost:11434\/v1/);
    assert.match(text, /RALPH_MODEL/);
    assert.match(text, /ralph\.config\.ts/);
    assert.deepEqual(deltasOf(events, sent.replyMessageId), [text], 'the answer streams like any reply');

    // Everything else works.
    const created = await client.request('goal.create', { title: 'Still works' });
    assert.deepEqual(
      (await client.request('goal.list', {})).goals.map((goal) => goal.id),
      [created.goal.id],
    );
    const models = await client.request('models.list', {});
    assert.equal(models.provider.configured, false);
    assert.equal(models.provider.apiKeySet, false);
  });

  it('interrupts the streaming turn: its text so far is kept, the request is aborted, the queued turn runs', async (t) => {
    const { server, daemon } = await startChatDaemon(t);
    const long = Array.from({ length: 400 }, (_, index) => ` word${index}`);
    server.script({ deltas: long, deltaDelayMs: 20 }, { text: 'The second answer.' });
    const client = await daemon.connect();
    const events = recordEvents(client);

    const first = await client.request('chat.send', { text: 'tell me a long story' });
    const second = await client.request('chat.send', { text: 'and then a short one' });
    assert.equal(second.position, 1);
    await waitFor(() => deltasOf(events, first.replyMessageId).length >= 3, { message: 'the first reply to stream' });
    assert.equal((await client.request('chat.history', {})).messages.at(-1)?.status, 'queued', 'the second reply waits its turn');

    assert.deepEqual(await client.request('chat.interrupt', {}), { interrupted: true });
    const interrupted = await waitForReply(events, first.replyMessageId);
    assert.equal(interrupted.status, 'interrupted');
    const kept = textOf(interrupted);
    assert.ok(
      kept.length > 0 && long.join('').startsWith(kept) && kept.length < long.join('').length,
      `partial text kept: ${kept.slice(0, 40)}…`,
    );
    await waitFor(() => server.modelRequests()[0]?.aborted, { message: 'the server to see the request aborted' });

    const next = await waitForReply(events, second.replyMessageId);
    assert.equal(next.status, 'done');
    assert.equal(textOf(next), 'The second answer.');
    assert.deepEqual(await client.request('chat.interrupt', {}), { interrupted: false }, 'nothing streams now');
  });

  it('interrupts only the reply named: a queued turn leaves the queue, the streaming one goes on', async (t) => {
    const { server, daemon } = await startChatDaemon(t);
    // The first answer is held until the second turn is interrupted, so the second is surely still queued.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.script(
      async () => {
        await released;
        return { deltas: ['one', ' two'] };
      },
      { text: 'third' },
    );
    const client = await daemon.connect();
    const events = recordEvents(client);
    const first = await client.request('chat.send', { text: 'a' });
    const second = await client.request('chat.send', { text: 'b' });
    const third = await client.request('chat.send', { text: 'c' });

    assert.deepEqual(await client.request('chat.interrupt', { messageId: second.replyMessageId }), { interrupted: true });
    release();
    const dropped = await waitForReply(events, second.replyMessageId);
    assert.equal(dropped.status, 'interrupted');
    assert.deepEqual(dropped.parts, []);
    assert.equal((await waitForReply(events, first.replyMessageId)).status, 'done', 'the streaming turn was not touched');
    assert.equal(textOf(await waitForReply(events, third.replyMessageId)), 'third');
    assert.equal(server.modelRequests().length, 2, 'the interrupted turn never called the model');
  });

  it('keeps the conversation across a daemon restart', async (t) => {
    const repoRoot = await makeTempRepo(undefined);
    defer(t, () => rm(repoRoot, { recursive: true, force: true }));
    const server = await startFakeServer(t);
    const env = providerEnv(server);

    const before = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const client = await before.connect();
    const events = recordEvents(client);
    const sent = await client.request('chat.send', { text: 'remember the word pomegranate' });
    await waitForReply(events, sent.replyMessageId);
    await client.close();
    await before.daemon.stop('restart');

    const after = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const again = await after.connect();
    assert.equal(again.snapshot.chat.session, sent.session, 'the same session is current');
    assert.deepEqual(
      again.snapshot.chat.messages.map((message) => [message.role, message.status, textOf(message)]),
      [
        ['user', 'done', 'remember the word pomegranate'],
        ['assistant', 'done', 'remember the word pomegranate'],
      ],
    );
    const laterEvents = recordEvents(again);
    const next = await again.request('chat.send', { text: 'which word was it?' });
    await waitForReply(laterEvents, next.replyMessageId);
    const body = JSON.stringify(server.modelRequests().at(-1)?.body);
    assert.match(body, /remember the word pomegranate/, 'the earlier exchange is sent with the next turn');
    assert.match(body, /which word was it\?/);
  });

  it('stopping the daemon ends the turns in progress as interrupted, written to the transcript', async (t) => {
    const repoRoot = await makeTempRepo(undefined);
    defer(t, () => rm(repoRoot, { recursive: true, force: true }));
    const server = await startFakeServer(t);
    server.script({ deltas: Array.from({ length: 400 }, (_, index) => ` w${index}`), deltaDelayMs: 20 });
    const env = providerEnv(server);
    const before = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const client = await before.connect();
    const events = recordEvents(client);
    const streaming = await client.request('chat.send', { text: 'a long one' });
    const queued = await client.request('chat.send', { text: 'and another' });
    await waitFor(() => deltasOf(events, streaming.replyMessageId).length >= 2, { message: 'the first reply to stream' });
    await before.daemon.stop('test');

    const transcript = await readTranscript(repoRoot, streaming.session);
    assert.deepEqual(
      transcript.map((message) => [message.role, message.status, message.error]),
      [
        ['user', 'done', undefined],
        ['assistant', 'interrupted', 'the daemon stopped during this turn'],
        ['user', 'done', undefined],
        ['assistant', 'interrupted', 'the daemon stopped before this turn ran'],
      ],
    );
    assert.ok(textOf(transcript[1]!).startsWith(' w0 w1'), 'the text so far is kept');
    assert.equal(transcript[3]?.id, queued.replyMessageId);
    await waitFor(() => server.modelRequests()[0]?.aborted, { message: 'the model request to be aborted' });

    const after = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const again = await after.connect();
    assert.deepEqual(
      again.snapshot.chat.messages.map((message) => message.status),
      ['done', 'interrupted', 'done', 'interrupted'],
    );
  });

  it('ends a turn whose server keeps failing in an error of one line; the next turn works', async (t) => {
    const { server, daemon } = await startChatDaemon(t);
    server.injectFaults({ kind: '500', retryAfterMs: 5 });
    const client = await daemon.connect();
    const events = recordEvents(client);

    const failed = await client.request('chat.send', { text: 'will this work?' });
    const reply = await waitForReply(events, failed.replyMessageId);
    assert.equal(reply.status, 'error');
    assert.ok(reply.error && !reply.error.includes('\n'), `one line: ${reply.error}`);
    assert.ok(server.modelRequests().length > 1, 'the SDK retried before giving up');
    assert.ok(server.modelRequests().every((request) => request.status === 500));
    const waits = events.flatMap((event) => (event.type === 'provider.wait' ? [event.data] : []));
    assert.ok(waits.length > 0, 'the retries were announced');
    assert.ok(waits.every((wait) => wait.scope.session === failed.session && wait.reason === 'server-error'));

    server.clearFaults();
    const retried = await client.request('chat.send', { text: 'and now?' });
    const answer = await waitForReply(events, retried.replyMessageId);
    assert.equal(answer.status, 'done');
    assert.equal(textOf(answer), 'and now?');
  });

  it('skips a torn last line of a transcript and appends after it on a fresh line', async (t) => {
    const repoRoot = await makeTempRepo(undefined);
    defer(t, () => rm(repoRoot, { recursive: true, force: true }));
    const server = await startFakeServer(t);
    const env = providerEnv(server);

    const first = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const client = await first.connect();
    const events = recordEvents(client);
    const sent = await client.request('chat.send', { text: 'before the crash' });
    await waitForReply(events, sent.replyMessageId);
    await client.close();
    await first.daemon.stop('crash');
    const file = path.join(repoRoot, '.ralph', 'chat', `${sent.session}.jsonl`);
    await writeFile(file, `${await readFile(file, 'utf8')}{"id":"torn","sess`);

    const second = await startTestDaemon(t, repoRoot, { env, configWatch: false });
    const again = await second.connect();
    assert.equal(again.snapshot.chat.messages.length, 2);
    const laterEvents = recordEvents(again);
    const next = await again.request('chat.send', { text: 'after the crash' });
    await waitForReply(laterEvents, next.replyMessageId);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    assert.equal(lines[2], '{"id":"torn","sess', 'the torn line is left as it was, on its own line');
    assert.deepEqual(
      lines.filter((line) => line !== lines[2]).map((line) => textOf(TranscriptLine.parse(JSON.parse(line)))),
      ['before the crash', 'before the crash', 'after the crash', 'after the crash'],
    );
    assert.ok(
      second.logs.some((line) => line.includes('skipped line 3')),
      'the skipped line is logged',
    );
  });

  it('starts a new session for every client; the old one stays readable', async (t) => {
    const { daemon } = await startChatDaemon(t);
    const alice = await daemon.connect('alice');
    const bob = await daemon.connect('bob');
    const aliceEvents = recordEvents(alice);
    const bobEvents = recordEvents(bob);
    const old = await alice.request('chat.send', { text: 'in the old session' });
    await waitForReply(aliceEvents, old.replyMessageId);

    const { session } = await bob.request('chat.new', {});
    assert.notEqual(session, old.session);
    await waitFor(() => aliceEvents.some((event) => event.type === 'chat.session' && event.data.session === session), {
      message: 'chat.session',
    });
    const fresh = await alice.request('chat.send', { text: 'in the new session' });
    assert.equal(fresh.session, session);
    await waitForReply(bobEvents, fresh.replyMessageId);

    const carol = await daemon.connect('carol');
    assert.equal(carol.snapshot.chat.session, session);
    assert.deepEqual(carol.snapshot.chat.messages.map(textOf), ['in the new session', 'in the new session']);
    const older = await carol.request('chat.history', { session: old.session });
    assert.deepEqual(older.messages.map(textOf), ['in the old session', 'in the old session']);
    await assert.rejects(carol.request('chat.history', { session: '../../etc/passwd' }), /no chat session/);
  });

  it('pages the history backwards', async (t) => {
    const { daemon } = await startChatDaemon(t);
    const client = await daemon.connect();
    const events = recordEvents(client);
    for (let n = 1; n <= 3; n++) {
      const sent = await client.request('chat.send', { text: `message ${n}` });
      await waitForReply(events, sent.replyMessageId);
    }
    const latest = await client.request('chat.history', { limit: 4 });
    assert.deepEqual(latest.messages.map(textOf), ['message 2', 'message 2', 'message 3', 'message 3']);
    assert.equal(latest.more, true);
    const older = await client.request('chat.history', { limit: 4, before: latest.messages[0]!.id });
    assert.deepEqual(older.messages.map(textOf), ['message 1', 'message 1']);
    assert.equal(older.more, false);
  });

  it('applies a changed ralph.config.ts from the next turn on', async (t) => {
    const server = await startFakeServer(t);
    // No RALPH_MODEL: the model comes from the config file.
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat' };
    const daemon = await startTestDaemon(t, undefined, { env, configWatch: true });
    const client = await daemon.connect();
    const events = recordEvents(client);
    const first = await client.request('chat.send', { text: 'one' });
    await waitForReply(events, first.replyMessageId);
    assert.equal(server.modelRequests()[0]?.model, DEFAULT_MODEL);

    await writeFile(path.join(daemon.repoRoot, 'ralph.config.ts'), "export default { chat: { model: 'gpt-5.5' } };\n");
    await waitFor(() => events.some((event) => event.type === 'config.changed'), { message: 'the config to be reloaded' });
    const second = await client.request('chat.send', { text: 'two' });
    const reply = await waitForReply(events, second.replyMessageId);
    assert.equal(server.modelRequests()[1]?.model, 'gpt-5.5');
    assert.equal(reply.model, 'gpt-5.5');
  });
});
