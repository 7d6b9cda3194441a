/**
 * The client against a scripted peer: a real `ws` server on 127.0.0.1 that answers with frames
 * a correct daemon never sends (bad events, bad results, silence), to check the client survives them.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { DaemonConnectError, RalphClient } from '../../protocol/client.ts';
import { ErrorCode, PROTOCOL_VERSION, RALPH_VERSION, type ResultOf } from '../../protocol/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';

type Reply = (socket: WebSocket, id: number | string, params: unknown) => void;

const now = new Date().toISOString();
const daemonInfo = { version: RALPH_VERSION, protocolVersion: PROTOCOL_VERSION, pid: 1, epoch: 'scripted', startedAt: now };

function initializeResult(): ResultOf<'initialize'> {
  return {
    protocolVersion: PROTOCOL_VERSION,
    daemon: daemonInfo,
    capabilities: ['goals'],
    clientId: 'c1',
    sync: {
      kind: 'snapshot',
      snapshot: {
        seq: 0,
        repo: { root: '/r', name: 'r', branch: null },
        daemon: daemonInfo,
        goals: [],
        invalid: [],
        clients: [],
        chat: { session: '2025-01-01-1', messages: [], queued: 0, providerConfigured: false },
        progress: [],
        questions: [],
        pipeline: { paused: false, running: [] },
        settings: { chatModel: 'gpt-5.4-mini', tuiKeys: {}, maxIterations: 50 },
      },
    },
  };
}

const answer = (socket: WebSocket, id: number | string, result: unknown) => socket.send(JSON.stringify({ jsonrpc: '2.0', id, result }));

/** A peer that answers each method with its script (initialize answers properly unless scripted). */
async function scriptedPeer(t: TestContext, script: Record<string, Reply>) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const sockets: WebSocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      const { id, method, params } = JSON.parse(String(data)) as { id: number; method: string; params: unknown };
      const reply = script[method] ?? ((s, requestId) => answer(s, requestId, method === 'initialize' ? initializeResult() : {}));
      reply(socket, id, params);
    });
  });
  defer(t, () => {
    for (const socket of sockets) socket.terminate();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { endpoint: { url: `ws://127.0.0.1:${port}`, token: 'x'.repeat(64) }, sockets };
}

async function connect(t: TestContext, endpoint: { url: string; token: string }, requestTimeoutMs = 5000) {
  const client = await RalphClient.connect({ endpoint, name: 'test', reconnect: false, requestTimeoutMs });
  defer(t, () => client.close());
  return client;
}

describe('RalphClient against a misbehaving peer', () => {
  it('a bad event is an error event, not a crash; good events keep coming', async (t) => {
    const peer = await scriptedPeer(t, {});
    const client = await connect(t, peer.endpoint);
    const errors: Error[] = [];
    const seqs: number[] = [];
    client.on('error', (error) => errors.push(error));
    client.on('event', (event) => seqs.push(event.seq));
    const socket = peer.sockets[0]!;
    const event = (seq: number, data: unknown) =>
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'event', params: { seq, time: now, type: 'progress.report', data } }));

    event(1, { token: 'a' });
    event(2, { token: 42 }); // data fails its schema
    socket.send('{not json');
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'event', params: { seq: 3, time: now, type: 'no.such.event', data: {} } }));
    event(1, { token: 'a duplicate' });
    event(3, { token: 'b' });

    await waitFor(() => seqs.length === 2 && errors.length === 3, { message: 'two good events and three errors' });
    assert.deepEqual(seqs, [1, 3], 'the bad ones and the duplicate are dropped');
    assert.match(errors[0]!.message, /invalid event: data\.token/);
    assert.match(errors[1]!.message, /not JSON/);
    assert.equal(client.status, 'open');
  });

  it('a result that fails its schema rejects the request with the reason', async (t) => {
    const peer = await scriptedPeer(t, { 'goal.get': (socket, id) => answer(socket, id, { goal: { id: 'one' } }) });
    const client = await connect(t, peer.endpoint);
    client.on('error', () => {});
    await assert.rejects(client.request('goal.get', { id: 1 }), /the daemon sent an invalid result for goal\.get: goal\.id/);
    assert.equal(client.status, 'open');
  });

  it('JSON-RPC errors reject with their code; silence times out; an abort rejects at once', async (t) => {
    const peer = await scriptedPeer(t, {
      'goal.queue': (socket, id) =>
        socket.send(
          JSON.stringify({ jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidTransition, message: 'goal #1 is done: cannot queue' } }),
        ),
      'goal.list': () => {}, // never answers
    });
    const client = await connect(t, peer.endpoint, 200);
    await assert.rejects(client.request('goal.queue', { id: 1 }), {
      name: 'RpcRequestError',
      code: ErrorCode.InvalidTransition,
      message: 'goal #1 is done: cannot queue',
    });
    await assert.rejects(client.request('goal.list'), /goal\.list: no answer from the daemon within 200 ms/);
    const controller = new AbortController();
    const aborted = client.request('goal.list', {}, { signal: controller.signal, timeoutMs: 60_000 });
    controller.abort(new Error('user pressed Esc'));
    await assert.rejects(aborted, /user pressed Esc/);
  });

  it('a protocol mismatch at initialize is a clear error', async (t) => {
    const message = 'protocol version 1 is not supported: this daemon speaks 2 (Ralph 0.2.0); update the client or restart the daemon';
    const peer = await scriptedPeer(t, {
      initialize: (socket, id) => socket.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code: ErrorCode.ProtocolMismatch, message } })),
    });
    await assert.rejects(RalphClient.connect({ endpoint: peer.endpoint, name: 'test' }), (error: unknown) => {
      assert.ok(error instanceof DaemonConnectError);
      assert.equal(error.reason, 'protocol');
      assert.equal(error.message, message);
      return true;
    });
  });
});

describe('daemon keep-alive', () => {
  it('drops a peer that stops answering pings', async (t) => {
    const { daemon, connect: connectClient } = await startTestDaemon(t, undefined, { pingIntervalMs: 100 });
    const live = await connectClient('live');
    const silent = await connectClient('silent');
    // Stop reading on the silent client's TCP socket: its pongs stop too.
    const link = (silent as unknown as { link: { socket: { _socket: { pause(): void } } } }).link;
    link.socket._socket.pause();
    await waitFor(
      async () => {
        const status = await live.request('daemon.status');
        return status.clients.length === 1 && status;
      },
      { message: 'the silent client dropped', intervalMs: 50 },
    );
    assert.ok(daemon.bus.lastSeq > 0);
    assert.equal((await live.request('daemon.status')).clients[0]?.name, 'live', 'the live one stays');
  });
});
