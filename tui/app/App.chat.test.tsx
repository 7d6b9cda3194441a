/** The chat pane driven from the keyboard, over the in-memory connection fed with real protocol events. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, RpcError, type ChatMessage, type Snapshot } from '../../protocol/index.ts';
import { reply, researchRun, SESSION, toolPart, userMessage } from '../../test/helpers/tui/chat-fixtures.ts';
import { FakeConnection, type RequestHandler } from '../../test/helpers/tui/fake-connection.ts';
import { DEFAULT_SETTINGS, makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';
import { PROVIDER_HINT } from './views/chat-lines.ts';

function chatSnapshot(
  messages: ChatMessage[] = [],
  providerConfigured = true,
  extra: Partial<Parameters<typeof makeSnapshot>[0]> = {},
): Snapshot {
  return makeSnapshot({
    goals: [makeGoal(1, 'draft', 'Write the README')],
    chat: { session: SESSION, messages, queued: 0, providerConfigured },
    ...extra,
  });
}

const answers: RequestHandler = (method, params) => {
  if (method === 'chat.send') return { session: SESSION, userMessageId: 'u9', replyMessageId: 'a9', position: 0 };
  if (method === 'chat.interrupt') return { interrupted: true };
  if (method === 'chat.new') return { session: '2025-01-02-2' };
  if (method === 'goal.queue') return { goal: makeGoal((params as { id: number }).id, 'queued') };
  return undefined;
};

/** Opens the App with the chat focused (Tab from the pipeline). */
async function chatApp(t: Parameters<typeof renderApp>[0], connection: FakeConnection) {
  const app = renderApp(t, connection);
  app.resize(80, 24);
  await app.press(KEYS.tab);
  await eventually(() => assert.match(app.lines()[0] ?? '', /Log {3}session 2025/));
  return app;
}

describe('chat pane', () => {
  test("a provider wait shows how long and why, in the command line's words, until the reply streams again", async (t) => {
    const connection = new FakeConnection(chatSnapshot(), answers);
    const app = await chatApp(t, connection);
    connection.pushEvent(makeEvent(1, 'chat.message', { message: reply('a9') }));
    connection.pushEvent(makeEvent(2, 'provider.wait', { scope: { session: SESSION }, reason: 'server-error', seconds: 2.5, attempt: 2 }));
    await eventually(() => assert.match(app.frame(), /⏳ waiting 2\.5 s: the server had an error \(try 2\)/));
    connection.pushEvent(makeEvent(3, 'chat.delta', { session: SESSION, messageId: 'a9', partId: 'p1', delta: 'Back.' }));
    await eventually(() => assert.doesNotMatch(app.frame(), /⏳/));
  });

  test('Enter sends what was typed; the reply streams in as markdown; Esc interrupts it', async (t) => {
    const connection = new FakeConnection(chatSnapshot(), answers);
    const app = await chatApp(t, connection);
    await app.type('What needs to change?');
    await eventually(() => assert.match(app.frame(), /› What needs to change\?/));
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'chat.send', params: { text: 'What needs to change?' } }]));

    let seq = 0;
    connection.pushEvent(makeEvent(++seq, 'chat.message', { message: userMessage('u9', 'What needs to change?') }));
    connection.pushEvent(makeEvent(++seq, 'chat.message', { message: reply('a9', [], 'queued') }));
    for (const delta of ['## Plan\n', '- add the **model** row\n', '- update `prices`']) {
      connection.pushEvent(makeEvent(++seq, 'chat.delta', { session: SESSION, messageId: 'a9', partId: 'p1', delta }));
    }
    await eventually(() => {
      const lines = app.lines();
      assert.ok(lines.includes('  Plan'), lines.join('\n'));
      assert.ok(lines.includes('  • add the model row'));
      assert.ok(lines.includes('  • update prices'));
      assert.ok(lines.some((line) => /writing… Esc interrupts/.test(line)));
    });
    await app.press(KEYS.escape);
    await eventually(() => assert.deepEqual(connection.actions().at(-1), { method: 'chat.interrupt', params: {} }));
    connection.pushEvent(
      makeEvent(++seq, 'chat.message.done', { message: reply('a9', [{ id: 'p1', type: 'text', text: '## Plan' }], 'interrupted') }),
    );
    await eventually(() => assert.ok(app.lines().includes('  (interrupted)')));
    assert.ok(!app.frame().includes('writing…'));
  });

  test('↑ brings back your earlier message; /new starts a new session', async (t) => {
    const connection = new FakeConnection(chatSnapshot([userMessage('u1', 'an earlier question')]), answers);
    const app = await chatApp(t, connection);
    await app.press(KEYS.up);
    await eventually(() => assert.match(app.frame(), /› an earlier question/));
    await app.press(KEYS.up); // the oldest stays
    await app.press(KEYS.down);
    await eventually(() =>
      assert.ok(
        app.lines().some((line) => /^›\s+ask, research/.test(line)),
        'back to an empty input',
      ),
    );
    await app.type('/new');
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'chat.new', params: {} }]));
    connection.pushEvent(makeEvent(1, 'chat.session', { session: '2025-01-02-2' }));
    await eventually(() => {
      assert.match(app.lines()[0] ?? '', /session 2025-01-02-2/);
      assert.ok(!app.frame().includes('an earlier question'));
    });
  });

  test('a message the daemon refuses comes back into the input, with the reason', async (t) => {
    const connection = new FakeConnection(chatSnapshot(), (method) => {
      if (method === 'chat.send') throw new RpcError(ErrorCode.Unavailable, 'the chat is not available');
      return undefined;
    });
    const app = await chatApp(t, connection);
    await app.type('keep me');
    await app.press(KEYS.enter);
    await eventually(() => {
      assert.match(app.frame(), /✗ could not send: the chat is not available/);
      assert.match(app.frame(), /› keep me/);
    });
  });

  test('no provider configured: the chat says how to set one; the pipeline still works', async (t) => {
    const connection = new FakeConnection(chatSnapshot([], false), answers);
    const app = await chatApp(t, connection);
    await eventually(() =>
      assert.match(
        app.frame().replace(/\s+/g, ' '),
        /No model provider is configured, so the chat cannot answer yet: give the daemon OPENAI_API_KEY/,
      ),
    );
    await app.press(KEYS.tab, KEYS.tab); // chat → log → pipeline
    await eventually(() => assert.match(app.frame(), /› #1\s+Write the README\s+draft/));
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.queue', params: { id: 1 } }]));
    // A provider configured later (config.changed) takes the hint away.
    assert.match(app.frame(), /gpt-5\.4-mini/, "the chat's model shows in the status bar");
    const provider = {
      model: 'local-llama',
      api: 'chat',
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKeySet: false,
      configured: true,
    } as const;
    connection.pushEvent(
      makeEvent(1, 'config.changed', { provider, settings: { ...DEFAULT_SETTINGS, chatModel: 'local-llama' }, error: null }),
    );
    await app.press(KEYS.tab);
    await eventually(() => {
      assert.ok(!app.frame().includes(PROVIDER_HINT.slice(0, 30)));
      assert.match(app.frame(), /local-llama/, 'the new model shows in the status bar');
    });
  });

  test('a research run: a bar per agent while it runs, one summary line when it ends, Ctrl+O expands it', async (t) => {
    const connection = new FakeConnection(chatSnapshot([userMessage('u1', 'research this')]), answers);
    const app = await chatApp(t, connection);
    let seq = 0;
    const push = (...events: Parameters<typeof makeEvent>[]) => {
      for (const args of events) connection.pushEvent(makeEvent(...args));
    };
    push(
      [
        ++seq,
        'chat.message',
        {
          message: reply('a1', [
            toolPart('t1', 'research', { questions: ['What changed?', 'Which prices?'] }, 'running', undefined, { researchRun: 'r-1' }),
          ]),
        },
      ],
      [++seq, 'progress.begin', { token: 'research:r-1', kind: 'research', title: 'Research' }],
      [
        ++seq,
        'progress.begin',
        { token: 'research:r-1:a1', kind: 'research-agent', title: 'What changed?', total: 20, parent: 'research:r-1' },
      ],
      [
        ++seq,
        'progress.begin',
        { token: 'research:r-1:a2', kind: 'research-agent', title: 'Which prices?', total: 20, parent: 'research:r-1' },
      ],
      [++seq, 'progress.report', { token: 'research:r-1:a1', done: 10, message: 'reading daemon/llm/models.ts' }],
    );
    await eventually(() => {
      const lines = app.lines();
      assert.ok(
        lines.some((line) => /◆ Research · 2 agents/.test(line)),
        lines.join('\n'),
      );
      assert.ok(lines.some((line) => /▸ █████░░░░░ 10\/20 {2}What changed\? {2}reading daemon\/llm\/models\.ts/.test(line)));
      assert.ok(lines.some((line) => /▸ ░░░░░░░░░░ {2}0\/20 {2}Which prices\?/.test(line)));
    });
    push(
      [++seq, 'progress.end', { token: 'research:r-1:a1', outcome: 'done' }],
      [++seq, 'progress.end', { token: 'research:r-1:a2', outcome: 'failed', message: 'timed out' }],
      [++seq, 'progress.end', { token: 'research:r-1', outcome: 'done' }],
      [
        ++seq,
        'research.updated',
        {
          run: researchRun(
            'r-1',
            [
              { id: 'a1', question: 'What changed?', status: 'done', step: 7, sources: 2 },
              { id: 'a2', question: 'Which prices?', status: 'failed', step: 3, error: 'timed out' },
            ],
            'done',
          ),
        },
      ],
    );
    await eventually(() => {
      const lines = app.lines();
      assert.ok(
        lines.some((line) => /✓ Research done: 2 questions, 1 answered, 1 failed · Ctrl\+O details/.test(line)),
        lines.join('\n'),
      );
      assert.ok(!lines.some((line) => line.includes('██')), 'the bars are gone');
    });
    await app.press(KEYS.ctrlO);
    await eventually(() => {
      const lines = app.lines();
      assert.ok(
        lines.some((line) => /✓ ██████████ {2}7\/20 {2}What changed\? {2}2 sources/.test(line)),
        lines.join('\n'),
      );
      assert.ok(lines.some((line) => /✗ .* {2}Which prices\? {2}timed out/.test(line)));
    });
  });

  test('the draft the agent proposed is offered, and Ctrl+Y queues it', async (t) => {
    const connection = new FakeConnection(chatSnapshot([userMessage('u1', 'make it a goal')]), answers);
    const app = await chatApp(t, connection);
    connection.pushEvent(
      makeEvent(1, 'goal.created', {
        goal: { ...makeGoal(4, 'draft', 'Adopt the new models'), links: { chat: SESSION, research: 'r-1' } },
      }),
    );
    await eventually(() => assert.match(app.frame(), /◇ Proposed goal #4 Adopt the new models · Ctrl\+Y queues it/));
    await app.press(KEYS.ctrlY);
    await eventually(() => assert.deepEqual(connection.actions(), [{ method: 'goal.queue', params: { id: 4 } }]));
    connection.pushEvent(
      makeEvent(2, 'goal.updated', {
        goal: { ...makeGoal(4, 'queued', 'Adopt the new models'), links: { chat: SESSION } },
        source: 'daemon',
      }),
    );
    await eventually(() => assert.ok(!app.frame().includes('Proposed goal')));
  });

  test('a long conversation fits its pane; PgUp scrolls back and asks the daemon for older messages', async (t) => {
    const messages = Array.from({ length: 50 }, (_, i) => userMessage(`m${i + 100}`, `message ${i + 100}`));
    const connection = new FakeConnection(chatSnapshot(messages), (method, params) => {
      if (method === 'chat.history') {
        assert.deepEqual(params, { session: SESSION, before: 'm100', limit: 50 });
        return { session: SESSION, messages: [userMessage('m99', 'message 99')], more: false };
      }
      return undefined;
    });
    const app = await chatApp(t, connection);
    await eventually(() => assert.ok(app.lines().includes('› message 149')));
    assert.ok(app.lines().length <= 23);
    for (let i = 0; i < 6; i++) await app.press(KEYS.pageUp);
    await eventually(() => assert.ok(connection.requests.some((request) => request.method === 'chat.history')));
    for (let i = 0; i < 10; i++) await app.press(KEYS.pageUp);
    await eventually(() => assert.ok(app.lines().includes('› message 99'), app.frame()));
    await app.press(KEYS.pageDown);
    assert.ok(!app.lines().includes('› message 149'));
  });
});
