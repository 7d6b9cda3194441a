/** Malformed frames get the right JSON-RPC error; the connection and the daemon stay up. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, Methods, PROTOCOL_VERSION, type JsonRpcMessage } from '../../protocol/index.ts';
import { rawSocket, startTestDaemon, type RawSocket } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';

function errorOf(message: JsonRpcMessage) {
  assert.ok('error' in message, `expected an error response, got ${JSON.stringify(message)}`);
  return { id: message.id, code: message.error.code, message: message.error.message, data: message.error.data };
}

function resultOf(message: JsonRpcMessage): unknown {
  assert.ok('result' in message, `expected a result, got ${JSON.stringify(message)}`);
  return message.result;
}

/** The same connection still answers a good request. */
async function stillServes(raw: RawSocket) {
  const answer = await raw.call('goal.list', {}, 'check');
  assert.ok('id' in answer && answer.id === 'check', `the answer to "check": ${JSON.stringify(answer)}`);
  assert.ok(Methods['goal.list'].result.safeParse(resultOf(answer)).success);
}

const SOFT_CAP = 64 * 1024;

describe('malformed frames', () => {
  it('each gets its JSON-RPC error, and the same connection keeps answering', async (t) => {
    const { endpoint, connect } = await startTestDaemon(t, undefined, { maxMessageBytes: SOFT_CAP });
    const bystander = await connect('bystander');
    const raw = await rawSocket(endpoint, {}, t);

    // Before initialize: a known method is refused, but the connection may still initialize.
    assert.equal(errorOf(await raw.call('goal.list', {}, 1)).code, ErrorCode.NotInitialized);
    const init = resultOf(await raw.initialize());
    assert.ok(Methods.initialize.result.safeParse(init).success);
    await stillServes(raw);

    const cases: [string, string | Buffer | object, number, string | number | null][] = [
      ['not JSON', '{"jsonrpc": "2.0", "id": 1, "method": ', ErrorCode.ParseError, null],
      ['not UTF-8', '(sent as raw bytes below)', ErrorCode.ParseError, null],
      ['not JSON-RPC', { hello: 'world' }, ErrorCode.InvalidRequest, null],
      ['wrong jsonrpc version, id readable', { jsonrpc: '1.0', id: 7, method: 'goal.list' }, ErrorCode.InvalidRequest, 7],
      ['a batch', [{ jsonrpc: '2.0', id: 8, method: 'goal.list' }], ErrorCode.InvalidRequest, null],
      ['a JSON string', '"goal.list"', ErrorCode.InvalidRequest, null],
      ['unknown method', { jsonrpc: '2.0', id: 9, method: 'goal.explode' }, ErrorCode.MethodNotFound, 9],
      ['inherited name is no method', { jsonrpc: '2.0', id: 10, method: 'toString' }, ErrorCode.MethodNotFound, 10],
      ['bad params', { jsonrpc: '2.0', id: 11, method: 'goal.get', params: { id: 'seven' } }, ErrorCode.InvalidParams, 11],
      ['missing params', { jsonrpc: '2.0', id: 12, method: 'goal.create' }, ErrorCode.InvalidParams, 12],
      [
        'oversized (over the soft cap, under the hard one), its id read from its head',
        { jsonrpc: '2.0', id: 13, method: 'goal.create', params: { title: 'big', spec: 'x'.repeat(SOFT_CAP) } },
        ErrorCode.MessageTooLarge,
        13,
      ],
      ['binary frame', Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 14, method: 'goal.list' })), ErrorCode.InvalidRequest, null],
      [
        'a second initialize',
        { jsonrpc: '2.0', id: 15, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, client: { name: 'again' } } },
        ErrorCode.InvalidRequest,
        15,
      ],
      ['not found', { jsonrpc: '2.0', id: 16, method: 'goal.queue', params: { id: 99 } }, ErrorCode.NotFound, 16],
    ];
    for (const [name, frame, code, id] of cases) {
      if (name === 'not UTF-8') {
        // A text frame whose bytes are not UTF-8: `{"<0xff 0xfe>"}`.
        raw.socket.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
      } else {
        raw.send(frame);
      }
      const error = errorOf(await raw.response());
      assert.equal(error.code, code, `${name}: ${error.message}`);
      assert.equal(error.id, id, `${name}: id`);
      assert.ok(error.message.length > 0 && !error.message.includes('\n'), `${name}: a one-line message`);
      await stillServes(raw);
    }

    // The details that make these errors useful.
    raw.send({ jsonrpc: '2.0', id: 'p', method: 'goal.get', params: { id: 'seven' } });
    const badParams = errorOf(await raw.response());
    assert.match(badParams.message, /^invalid params for goal\.get: id: /);
    assert.deepEqual(
      (badParams.data as { issues: { path: string[] }[] }).issues.map((issue) => issue.path),
      [['id']],
    );
    raw.send({ jsonrpc: '2.0', id: 'u', method: 'goal.explode' });
    assert.equal(errorOf(await raw.response()).message, 'method not found: goal.explode');

    // A notification (no id) gets no answer at all: the next message is the answer to the next request.
    raw.send({ jsonrpc: '2.0', method: 'goal.list' });
    raw.send({ jsonrpc: '2.0', method: 'no.such.thing', params: [1] });
    await stillServes(raw);

    // The daemon serves other clients all along.
    assert.deepEqual((await bystander.request('goal.list')).goals, []);
    assert.equal(bystander.status, 'open');
  });

  it('refuses another protocol version with a clear error, and the connection may still initialize', async (t) => {
    const { endpoint } = await startTestDaemon(t);
    const raw = await rawSocket(endpoint, {}, t);
    const refused = errorOf(await raw.call('initialize', { protocolVersion: 2, client: { name: 'future' } }));
    assert.equal(refused.code, ErrorCode.ProtocolMismatch);
    assert.equal(
      refused.message,
      `protocol version 2 is not supported: this daemon speaks ${PROTOCOL_VERSION} (Ralph 0.1.0); update the client or restart the daemon`,
    );
    assert.equal(errorOf(await raw.call('goal.list', {})).code, ErrorCode.NotInitialized, 'still not initialized');
    assert.ok(resultOf(await raw.initialize()));
    await stillServes(raw);
  });

  it('an unexpected failure in a handler is an InternalError with a short message; the stack stays in the daemon log', async (t) => {
    const { endpoint, repoRoot, logs } = await startTestDaemon(t);
    const raw = await rawSocket(endpoint, {}, t);
    await raw.initialize();
    resultOf(await raw.call('goal.create', { title: 'Has a log' }));
    // Replace the logs folder by a file: reading a log in it fails in a way no handler expects (ENOTDIR).
    // (A log that is itself a folder or a link is a Conflict the store reports: expected, not this.)
    const logsDir = path.join(repoRoot, '.ralph', 'logs');
    await rm(logsDir, { recursive: true });
    await writeFile(logsDir, 'not a folder\n');
    const error = errorOf(await raw.call('logs.read', { id: 1 }));
    assert.equal(error.code, ErrorCode.InternalError);
    assert.match(error.message, /^internal error in logs\.read: /);
    assert.doesNotMatch(error.message, /\n| {4}at /);
    assert.ok(
      logs.some((line) => line.startsWith('internal error in logs.read') && line.includes('    at ')),
      'stack logged',
    );
    await stillServes(raw);
  });

  it('closes a client that does not read (1013) and keeps serving the others', async (t) => {
    const { daemon, endpoint, connect, logs } = await startTestDaemon(t, undefined, { maxBufferedBytes: 256 * 1024 });
    const fast = await connect('fast');
    let fastEvents = 0;
    fast.on('event', () => fastEvents++);
    const slow = await rawSocket(endpoint, {}, t);
    await slow.initialize();
    // Stop reading: what the daemon sends piles up in its buffers.
    const tcp = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    await waitFor(() => daemon.bus.lastSeq >= 2 && fastEvents >= 1, { message: 'both attached' });

    const big = 'y'.repeat(64 * 1024);
    let published = 0;
    await waitFor(
      () => {
        for (let i = 0; i < 20; i++, published++) daemon.bus.publish('progress.report', { token: 'flood', message: big });
        return logs.some((line) => line.includes('is too slow'));
      },
      { timeoutMs: 10_000, intervalMs: 5, message: 'the slow client is closed' },
    );
    // Cut once the close handshake it cannot read has had its grace period; then it is detached.
    const status = await waitFor(
      async () => {
        const answer = await fast.request('daemon.status');
        return answer.clients.length === 1 && answer;
      },
      { timeoutMs: 10_000, intervalMs: 100, message: 'the slow client detached' },
    );
    assert.deepEqual(
      status.clients.map((client) => client.name),
      ['fast'],
    );
    await waitFor(() => daemon.bus.lastSeq === fast.lastSeq, { message: 'the fast client got everything' });
    // Reading again, it finds its connection closed: with 1013 when the close frame got through before the cut.
    tcp.resume();
    const gone = await waitFor(() => Promise.race([slow.closed, new Promise<false>((resolve) => setTimeout(resolve, 100, false))]), {
      message: 'the slow socket sees its close',
    });
    assert.ok([1006, 1013].includes(gone.code), `closed with ${gone.code}`);
    assert.ok(published >= 4, 'it took a real backlog');
    assert.match(
      logs.find((line) => line.includes('is too slow')) ?? '',
      /client c\d+ \(raw\) is too slow: \d+ bytes unsent; closed \(1013\)/,
    );
  });
});
