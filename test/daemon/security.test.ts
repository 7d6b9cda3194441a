/** Upgrade checks: refused with plain HTTP before any WebSocket opens. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { DaemonConnectError, RalphClient } from '../../protocol/client.ts';
import { startTestDaemon, upgradeStatus, wrongToken } from '../helpers/daemon.ts';

describe('daemon upgrade checks', () => {
  it('answers each refused upgrade with its HTTP status, and accepts a proper one', async (t) => {
    const { endpoint, daemon, connect } = await startTestDaemon(t);
    const bearer = { Authorization: `Bearer ${endpoint.token}` };
    const port = new URL(endpoint.url).port;

    const cases: [string, Record<string, string>, number][] = [
      ['no token', {}, 401],
      ['wrong token', { Authorization: `Bearer ${wrongToken()}` }, 401],
      ['a token that is a prefix of the right one', { Authorization: `Bearer ${endpoint.token.slice(0, 10)}` }, 401],
      ['not a bearer token', { Authorization: `Basic ${endpoint.token}` }, 401],
      ['Origin: http://evil.example', { ...bearer, Origin: 'http://evil.example' }, 403],
      ['Origin: null', { ...bearer, Origin: 'null' }, 403],
      ['Host: evil.example', { ...bearer, Host: 'evil.example' }, 403],
      ['Host: evil.example with the port', { ...bearer, Host: `evil.example:${port}` }, 403],
      ['Host: 127.0.0.1.evil.example', { ...bearer, Host: `127.0.0.1.evil.example:${port}` }, 403],
      ['accepted: Host 127.0.0.1 with port', { ...bearer, Host: `127.0.0.1:${port}` }, 101],
      ['accepted: Host localhost', { ...bearer, Host: 'localhost' }, 101],
      ['accepted: Host [::1] with port', { ...bearer, Host: `[::1]:${port}` }, 101],
    ];
    for (const [name, headers, status] of cases) {
      assert.equal(await upgradeStatus(endpoint, headers), status, name);
    }
    // Nobody refused got attached.
    assert.deepEqual(daemon.bus.lastSeq, 0, 'no client ever initialized, so no clients.changed');
    // And the daemon still serves a proper client.
    const client = await connect('after');
    assert.deepEqual((await client.request('goal.list')).goals, []);
  });

  it('answers plain HTTP with 426 (not a WebSocket) or 404', async (t) => {
    const { endpoint } = await startTestDaemon(t);
    const http = endpoint.url.replace('ws://', 'http://');
    assert.equal((await fetch(`${http}/`)).status, 426);
    assert.equal((await fetch(`${http}/nope`)).status, 404);
  });

  it('the client says clearly why it could not connect', async (t) => {
    const { endpoint } = await startTestDaemon(t);

    await assert.rejects(
      RalphClient.connect({ endpoint: { ...endpoint, token: wrongToken() }, name: 'test', reconnect: false }),
      (error: unknown) => {
        assert.ok(error instanceof DaemonConnectError);
        assert.equal(error.reason, 'unauthorized');
        assert.match(error.message, /refused the token \(HTTP 401/);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );

    // A port nobody listens on: take a free one and close it.
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as { port: number };
    await new Promise((resolve) => free.close(resolve));
    await assert.rejects(
      RalphClient.connect({ endpoint: { url: `ws://127.0.0.1:${port}`, token: endpoint.token }, name: 'test' }),
      (error: unknown) => {
        assert.ok(error instanceof DaemonConnectError);
        assert.equal(error.reason, 'unreachable');
        assert.match(error.message, /cannot reach the Ralph daemon at ws:\/\/127\.0\.0\.1:\d+: connection refused/);
        return true;
      },
    );

    await assert.rejects(
      RalphClient.connect({ endpoint: () => Promise.reject(new Error('no daemon serves /x')), name: 'test' }),
      /cannot find the Ralph daemon: no daemon serves \/x/,
    );
  });
});
