import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../config/schema.ts';
import { asControl, describeRejected, excerpt, parseJobData, parseStreamMessage, parseTurn, remoteProblem } from './wire.ts';

const GOAL = 4;

function reasonOf(json: string | undefined): string {
  const parsed = parseStreamMessage(json, GOAL);
  assert.equal(parsed.ok, false, `refused: ${json?.slice(0, 100)}`);
  return parsed.ok ? '' : parsed.reason;
}

test("a worker's messages are taken as they are written; its entries' text loses its control characters", () => {
  const entry = parseStreamMessage(
    JSON.stringify({
      type: 'log',
      entry: { kind: 'command', text: 'ran \u001b]0;pwned\u0007it\n\tok', worker: 'w1', output: 'x\u001b[2Jy', iteration: 1 },
    }),
    GOAL,
  );
  assert.deepEqual(entry, {
    ok: true,
    value: { type: 'log', entry: { kind: 'command', text: 'ran ]0;pwnedit\n\tok', worker: 'w1', output: 'x[2Jy', iteration: 1 } },
  });
  assert.equal(
    parseStreamMessage(JSON.stringify({ type: 'event', name: 'progress.report', data: { token: 'goal:4:1', message: 'm' } }), GOAL).ok,
    true,
  );
  const wait = { type: 'event', name: 'provider.wait', data: { scope: { goalId: 4 }, reason: 'rate-limit', seconds: 2, attempt: 1 } };
  assert.equal(parseStreamMessage(JSON.stringify(wait), GOAL).ok, true);
  assert.deepEqual(parseStreamMessage('{"type":"end"}', GOAL), { ok: true, value: { type: 'end' } });
  const spend = {
    type: 'spend',
    seq: 3,
    spend: { usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, calls: 1, costUsd: null }, waitedMs: 0 },
  };
  assert.equal(parseStreamMessage(JSON.stringify(spend), GOAL).ok, true);
});

test('a stream message that is not what a worker writes is refused, saying why', () => {
  assert.equal(reasonOf(undefined), 'no message field');
  assert.equal(reasonOf('{"type":'), 'not JSON');
  assert.equal(reasonOf('[1,2]'), 'not an object');
  assert.match(reasonOf('{"type":"log","entry":{"kind":"tool"}}'), /a log entry of the wrong shape at text/);
  assert.match(reasonOf('{"type":"log","entry":{"kind":"shell","text":"x"}}'), /a log entry of the wrong shape at kind/);
  assert.match(
    reasonOf(JSON.stringify({ type: 'log', entry: { kind: 'tool', text: 'x'.repeat(5_000_000) } })),
    /longer than 262144 characters/,
  );
  assert.match(reasonOf(JSON.stringify({ type: 'log', entry: { kind: 'tool', text: 'x'.repeat(20_000) } })), /at text/);
  assert.match(
    reasonOf(JSON.stringify({ type: 'event', name: 'goal.removed', data: { id: 1 } })),
    /an event a worker does not send \(goal.removed\)/,
  );
  assert.match(reasonOf(JSON.stringify({ type: 'event', name: 'progress.report', data: { token: 'goal:5:1' } })), /of another goal/);
  assert.match(
    reasonOf(JSON.stringify({ type: 'event', name: 'progress.end', data: { token: 'goal:4:1', outcome: 'maybe' } })),
    /progress.end event of the wrong shape/,
  );
  assert.match(reasonOf('{"type":"end","x":1}'), /an end message with more in it/);
  assert.match(reasonOf('{"type":"turn","seq":1,"record":{"summary":"done"}}'), /a turn answer of the wrong shape/);
  assert.match(reasonOf('{"type":"turn","seq":-1,"error":{}}'), /a turn answer of the wrong shape/);
  assert.match(reasonOf('{"type":"spend","seq":1,"spend":{"usage":{},"waitedMs":0},"extra":1}'), /a turn spend report of the wrong shape/);
  assert.match(reasonOf('{"type":"\\u001b]0;x\\u0007"}'), /an unknown message type \(\\u001b\]0;x\\u0007\)/);
});

test('a warning quotes a short excerpt of what it refused, escaped: no control character, no long line', () => {
  const raw = `\u001b]52;c;${'A'.repeat(10_000)}\u0007`;
  const line = describeRejected('1-0', 'not JSON', raw);
  assert.ok(line.length < 200, line);
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  assert.match(line, /^stream entry 1-0 skipped: not JSON: \\u001b\]52;c;A+… \(10008 characters\)$/);
  assert.equal(excerpt('é\r\n'), '\\u00e9\\r\\n');
});

test('a job is used only with a queue name and goal id that keep its paths in the folder, a safe remote and its own branch', () => {
  const job = { queue: 'ralph-0123456789ab', goalId: 7, title: 'T', attempt: 1, remote: '/srv/git/repo.git', branch: 'ralph/goal-7' };
  assert.deepEqual(parseJobData(job), { ok: true, value: job });
  const refused = (data: unknown): string => {
    const parsed = parseJobData(data);
    assert.equal(parsed.ok, false, JSON.stringify(data));
    return parsed.ok ? '' : parsed.reason;
  };
  assert.match(refused({ ...job, queue: '../../etc' }), /queue/);
  assert.match(refused({ ...job, goalId: '../1' }), /goalId/);
  assert.match(refused({ ...job, goalId: 1.5 }), /goalId/);
  assert.match(refused({ ...job, branch: 'main' }), /branch is not ralph\/goal-7/);
  assert.match(refused({ ...job, remote: 'ext::sh -c touch% /tmp/pwned' }), /transport helper/);
  assert.match(refused({ ...job, remote: '--upload-pack=touch /tmp/pwned' }), /option/);
  assert.match(refused({ ...job, remote: 'relative/path' }), /neither/);
  assert.match(refused({ ...job, token: 'x' }), /wrong shape/);
  for (const remote of ['https://git.example/r.git', 'ssh://git@host/r.git', 'git@host:r.git', 'file:///srv/r.git'])
    assert.equal(remoteProblem(remote), null, remote);
});

test('a turn is run only when it is a whole turn of this goal; a control message only when it is one', () => {
  const turn = {
    seq: 2,
    number: 1,
    positionInAttempt: 1,
    goal: {
      id: 7,
      title: 'T',
      state: 'running',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      spec: '',
      attempts: [],
      usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, calls: 0, costUsd: 0 },
      history: [],
    },
    notes: [],
    lastCheck: null,
    retryContext: null,
    answers: [],
    canAsk: false,
    model: 'm',
    api: 'chat',
    baseURL: 'http://127.0.0.1:1/v1',
    executor: defaultConfig().executor,
  };
  const parsed = parseTurn(JSON.stringify(turn), 7);
  assert.equal(parsed?.ok, true, parsed && !parsed.ok ? parsed.reason : '');
  assert.deepEqual(parseTurn('{"end":true}', 7), { ok: true, value: { end: true } });
  assert.equal(parseTurn(null, 7), null);
  assert.match((parseTurn(JSON.stringify(turn), 8) as { reason: string }).reason, /of goal #7, not #8/);
  assert.match((parseTurn('{"seq":', 7) as { reason: string }).reason, /not JSON/);
  assert.match((parseTurn(JSON.stringify({ ...turn, seq: 0 }), 7) as { reason: string }).reason, /seq/);
  assert.match((parseTurn(JSON.stringify({ ...turn, baseURL: 'file:///etc/passwd' }), 7) as { reason: string }).reason, /baseURL/);
  assert.match(
    (parseTurn(JSON.stringify({ ...turn, executor: { ...turn.executor, maxIterations: -1 } }), 7) as { reason: string }).reason,
    /executor settings/,
  );

  assert.deepEqual(asControl({ type: 'stop', reason: 'paused' }), { type: 'stop', reason: 'paused' });
  assert.equal(asControl({ type: 'exec', reason: 'x' }), null);
  assert.equal(asControl('stop'), null);
});
