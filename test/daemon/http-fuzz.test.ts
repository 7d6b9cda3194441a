/**
 * The daemon's HTTP server against whatever a local process may send before any token check:
 * hostile and generated request targets, methods, headers, Host/Origin forms, bad or no tokens,
 * malformed request lines and raw bytes. Every request gets a 4xx (or, when it never completes, a
 * closed connection); after each batch the daemon still serves a proper client and its goal and log
 * files are byte-identical.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { readDaemonFile } from '../../protocol/index.ts';
import { defer, endpointFromFile, spawnDaemon, startTestDaemon, wrongToken } from '../helpers/daemon.ts';
import { assertFilesUnchanged, filesUnder, fuzzRandom, inBatches, rawHttp, type Random, type RawHttpAnswer } from '../helpers/fuzz.ts';
import { makeTempRepo } from '../helpers/repo.ts';

/** The targets that once stopped the daemon (`new URL` threw on them before any check). */
const HOSTILE_TARGETS = ['//', '///', '//[', '//@', '/\\', '//%zz'];

interface Probe {
  name: string;
  bytes: string | Buffer;
  /** May never be a request at all (random bytes, empty lines): a closed connection without an answer is fine too. */
  incomplete?: boolean;
  halfClose?: boolean;
}

function websocketHeaders(extra: string[] = []): string[] {
  return [
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...extra,
  ];
}

function request(method: string, target: string, headers: string[]): string {
  return `${method} ${target} HTTP/1.1\r\n${headers.map((header) => `${header}\r\n`).join('')}\r\n`;
}

/** Request targets: the hostile ones, then generated ones that are never exactly `/` (which a token would open). */
function targets(random: Random, count: number): string[] {
  const pieces = [
    '/',
    '//',
    '\\',
    '[',
    ']',
    '@',
    '%',
    '%zz',
    '%2F',
    '%00',
    '?',
    '#',
    ':',
    '.',
    '..',
    '~',
    'a',
    '0',
    '|',
    '^',
    '`',
    '{',
    '}',
    '*',
    ';',
    '=',
    '&',
    "'",
    '"',
    '\u00e9',
    '%ff',
  ];
  const fixed = [
    ...HOSTILE_TARGETS,
    '/%',
    '/..',
    '/./',
    '//localhost/',
    'http://127.0.0.1/x',
    'http://[/',
    'http://',
    '*',
    '/\\\\',
    `/${'a'.repeat(8000)}`,
    `//${'%'.repeat(200)}`,
  ];
  const generated: string[] = [];
  while (generated.length < count) {
    let target = random.pick(['/', '//', '/\\', '\\', 'http://', '']);
    const length = 1 + random.int(10);
    for (let i = 0; i < length; i++) target += random.pick(pieces);
    // `/`, or `/` and a query, is the daemon's one path: a token would (rightly) open it.
    if (/^\/([?#]|$)/.test(target) || target === '') continue;
    generated.push(target);
  }
  return [...fixed, ...generated];
}

function targetProbes(random: Random, token: string, port: number): Probe[] {
  const host = `Host: 127.0.0.1:${port}`;
  return targets(random, 150).flatMap((target) => [
    { name: `GET ${target}`, bytes: request('GET', target, [host, 'Connection: close']) },
    { name: `upgrade ${target}, no token`, bytes: request('GET', target, [host, ...websocketHeaders()]) },
    {
      name: `upgrade ${target}, the token`,
      bytes: request('GET', target, [host, ...websocketHeaders([`Authorization: Bearer ${token}`])]),
    },
  ]);
}

function methodProbes(token: string, port: number): Probe[] {
  const host = `Host: 127.0.0.1:${port}`;
  const methods = [
    'GET',
    'POST',
    'PUT',
    'DELETE',
    'HEAD',
    'OPTIONS',
    'PATCH',
    'TRACE',
    'CONNECT',
    'PROPFIND',
    'M-SEARCH',
    'PURGE',
    'BREW',
    'get',
    'G=T',
    'GET GET',
    'PRI',
  ];
  return methods.flatMap((method) =>
    ['/', '//', '127.0.0.1:1'].flatMap((target) => [
      { name: `${method} ${target}`, bytes: request(method, target, [host, 'Connection: close', 'Content-Length: 0']) },
      // (GET / with the token is the one proper upgrade.)
      ...(method === 'GET' && target === '/'
        ? []
        : [
            {
              name: `${method} ${target} upgrade`,
              bytes: request(method, target, [host, ...websocketHeaders([`Authorization: Bearer ${token}`])]),
            },
          ]),
    ]),
  );
}

function headerProbes(token: string, port: number): Probe[] {
  const bearer = `Authorization: Bearer ${token}`;
  const host = `Host: 127.0.0.1:${port}`;
  const hosts = [
    '',
    'evil.example',
    `evil.example:${port}`,
    '127.0.0.1.evil.example',
    '127.0.0.1@evil.example',
    '[::1',
    '[',
    ':',
    ']:1',
    '[::1]x',
    'localhost.',
    'LOCALHOST:0:0',
    '\u00e9',
    'a'.repeat(5000),
    '0x7f.1',
    '2130706433',
  ];
  const origins = ['null', '', 'http://evil.example', 'file://', `http://127.0.0.1:${port}`, 'chrome-extension://x'];
  const authorizations = [
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${wrongToken()}`,
    `Bearer ${token} extra`,
    `Basic ${token}`,
    `bearer${token}`,
    `Bearer ${'x'.repeat(10_000)}`,
    'Bearer \u00e9\u00e9',
    `Bearer ${token.slice(0, -1)}`,
  ];
  const probes: Probe[] = [
    ...hosts.map((value) => ({
      name: `Host: ${value.slice(0, 40)}`,
      bytes: request('GET', '/', [`Host: ${value}`, ...websocketHeaders([bearer])]),
    })),
    { name: 'no Host', bytes: request('GET', '/', websocketHeaders([bearer])) },
    { name: 'two Hosts', bytes: request('GET', '/', ['Host: evil.example', host, ...websocketHeaders([bearer])]) },
    ...origins.map((value) => ({
      name: `Origin: ${value}`,
      bytes: request('GET', '/', [host, `Origin: ${value}`, ...websocketHeaders([bearer])]),
    })),
    {
      name: 'Sec-WebSocket-Origin',
      bytes: request('GET', '/', [host, 'Sec-WebSocket-Origin: http://evil.example', ...websocketHeaders([bearer])]),
    },
    ...authorizations.map((value) => ({
      name: `Authorization: ${value.slice(0, 40)}`,
      bytes: request('GET', '/', [host, `Authorization: ${value}`, ...websocketHeaders()]),
    })),
    {
      name: 'two Authorizations',
      bytes: request('GET', '/', [host, `Authorization: Bearer ${wrongToken()}`, bearer, ...websocketHeaders()]),
    },
    // Headers the HTTP parser refuses, and headers a WebSocket handshake refuses.
    { name: 'a header without a colon', bytes: request('GET', '/', [host, 'NoColonHere', ...websocketHeaders([bearer])]) },
    { name: 'a space before the colon', bytes: request('GET', '/', [host, 'Upgrade : websocket', ...websocketHeaders([bearer])]) },
    { name: 'a NUL in a value', bytes: request('GET', '/', [host, 'X-A: a\u0000b', ...websocketHeaders([bearer])]) },
    { name: 'obs-fold', bytes: request('GET', '/', [host, 'X-A: a', ' folded', ...websocketHeaders([bearer])]) },
    { name: 'an empty header name', bytes: request('GET', '/', [host, ': value', ...websocketHeaders([bearer])]) },
    { name: 'a 20 KB header', bytes: request('GET', '/', [host, `X-Big: ${'b'.repeat(20_000)}`, ...websocketHeaders([bearer])]) },
    {
      name: '3,000 headers',
      bytes: request('GET', '/', [host, ...Array.from({ length: 3000 }, (_, i) => `X-${i}: ${i}`), ...websocketHeaders([bearer])]),
    },
    {
      name: 'Content-Length and Transfer-Encoding',
      bytes: request('POST', '/', [host, 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Connection: close']),
    },
    { name: 'a bad Content-Length', bytes: request('POST', '/', [host, 'Content-Length: -1', 'Connection: close']) },
    { name: 'two Content-Lengths', bytes: request('POST', '/', [host, 'Content-Length: 1', 'Content-Length: 2', 'Connection: close']) },
    { name: 'a bad chunk', bytes: `${request('POST', '/', [host, 'Transfer-Encoding: chunked', 'Connection: close'])}zz\r\n\r\n` },
    {
      name: 'no Sec-WebSocket-Key',
      bytes: request('GET', '/', [host, bearer, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13']),
    },
    {
      name: 'a bad Sec-WebSocket-Key',
      bytes: request('GET', '/', [
        host,
        bearer,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: nope',
      ]),
    },
    {
      name: 'Sec-WebSocket-Version 7',
      bytes: request('GET', '/', [
        host,
        bearer,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 7',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      ]),
    },
    { name: 'Upgrade: h2c', bytes: request('GET', '/', [host, bearer, 'Connection: Upgrade', 'Upgrade: h2c']) },
    { name: 'upgrade with a body, no token', bytes: `${request('GET', '/', [host, 'Content-Length: 3', ...websocketHeaders()])}abc` },
  ];
  return probes;
}

function malformedProbes(random: Random, port: number): Probe[] {
  const host = `Host: 127.0.0.1:${port}`;
  const garbage = Array.from({ length: 20 }, (_, i) => ({
    name: `random bytes ${i}`,
    bytes: Buffer.from(Array.from({ length: 1 + random.int(300) }, () => random.int(256))),
    incomplete: true,
    halfClose: true,
  }));
  return [
    // Empty lines before a request line are skipped (RFC 9112 §2.2): this one never starts.
    { name: 'empty lines, then EOF', bytes: '\r\n\r\n', incomplete: true, halfClose: true },
    { name: 'a method alone', bytes: 'GET\r\n\r\n' },
    { name: 'HTTP/0.9', bytes: 'GET /\r\n\r\n' },
    { name: 'HTTP/9.9', bytes: `GET / HTTP/9.9\r\n${host}\r\n\r\n` },
    { name: 'not HTTP', bytes: `GET / FOO/1.1\r\n${host}\r\n\r\n` },
    { name: 'a 100 KB request line', bytes: `GET /${'x'.repeat(100_000)} HTTP/1.1\r\n${host}\r\n\r\n` },
    { name: 'a bare LF request', bytes: `GET / HTTP/1.1\n${host}\nConnection: Upgrade\nUpgrade: websocket\n\n` },
    { name: 'control characters in the target', bytes: `GET /\u0001\u007f HTTP/1.1\r\n${host}\r\n\r\n` },
    { name: 'NUL bytes', bytes: Buffer.alloc(64), halfClose: true },
    { name: 'a TLS ClientHello', bytes: Buffer.from('16030100a5010000a10303', 'hex'), halfClose: true },
    { name: 'the HTTP/2 preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', halfClose: true },
    { name: 'an unfinished head, then EOF', bytes: `GET // HTTP/1.1\r\n${host}\r\nConnection: Upgrade\r\n`, halfClose: true },
    { name: 'an unfinished upgrade, then EOF', bytes: request('GET', '//', [host, ...websocketHeaders()]).slice(0, -2), halfClose: true },
    ...garbage,
  ];
}

/** What is wrong with the answer to a probe, or null. */
function wrongAnswer(probe: Probe, answer: RawHttpAnswer): string | null {
  if (answer.status === null && probe.incomplete) return null;
  if (answer.status !== null && answer.status >= 400 && answer.status < 500) return null;
  return `${probe.name}: expected a 4xx, got ${answer.status === null ? 'no answer' : answer.head.split('\r\n')[0]}`;
}

function assertAnswered(probe: Probe, answer: RawHttpAnswer): void {
  assert.equal(wrongAnswer(probe, answer), null);
}

async function runProbes(port: number, probes: Probe[]): Promise<void> {
  const answers = await inBatches(probes, 16, (probe) => rawHttp(port, probe.bytes, { halfClose: probe.halfClose ?? false }));
  assert.deepEqual(
    probes.map((probe, index) => wrongAnswer(probe, answers[index]!)).filter((wrong) => wrong !== null),
    [],
  );
}

/** A daemon with one goal (so there are goal and log files to compare), and how to check it is still whole. */
async function daemonWithAGoal(t: TestContext) {
  const test = await startTestDaemon(t);
  const client = await test.connect('owner');
  await client.request('goal.create', { title: 'Stays as it is', spec: '## Objective\n\nnothing\n' });
  await client.request('goal.create', { title: 'Queued', queue: true });
  const ralph = path.join(test.repoRoot, '.ralph');
  const before = { goals: await filesUnder(path.join(ralph, 'goals')), logs: await filesUnder(path.join(ralph, 'logs')) };
  const expectedGoals = (await client.request('goal.list')).goals;
  const port = Number(new URL(test.endpoint.url).port);
  const stillWhole = async (batch: string): Promise<void> => {
    // A fresh client connects and is served; the one attached from the start is still attached.
    const fresh = await RalphClient.connect({ endpoint: endpointFromFile(test.repoRoot), name: `after ${batch}`, reconnect: false });
    try {
      assert.deepEqual((await fresh.request('goal.list')).goals, expectedGoals, `${batch}: goal.list`);
    } finally {
      await fresh.close();
    }
    assert.equal(client.status, 'open', `${batch}: the first client is still attached`);
    assert.deepEqual((await client.request('goal.list')).goals, expectedGoals);
    await assertFilesUnchanged(path.join(ralph, 'goals'), before.goals, batch);
    await assertFilesUnchanged(path.join(ralph, 'logs'), before.logs, batch);
  };
  return { ...test, port, stillWhole };
}

describe('HTTP and upgrade fuzz', () => {
  it('the targets that once stopped it leave a daemon process running: each gets a 4xx', async (t) => {
    const repoRoot = await makeTempRepo(undefined);
    defer(t, () => rm(repoRoot, { recursive: true, force: true }));
    const daemon = spawnDaemon(t, repoRoot, 'background');
    const ready = JSON.parse(await daemon.firstLine) as { ready: boolean; url: string };
    assert.equal(ready.ready, true);
    const port = Number(new URL(ready.url).port);
    const token = (await readDaemonFile(repoRoot))!.token;

    const probes: Probe[] = HOSTILE_TARGETS.flatMap((target) => [
      { name: `GET ${target}`, bytes: request('GET', target, [`Host: 127.0.0.1:${port}`, 'Connection: close']) },
      { name: `upgrade ${target}`, bytes: request('GET', target, [`Host: 127.0.0.1:${port}`, ...websocketHeaders()]) },
      {
        name: `upgrade ${target} with the token`,
        bytes: request('GET', target, [`Host: 127.0.0.1:${port}`, ...websocketHeaders([`Authorization: Bearer ${token}`])]),
      },
    ]);
    for (const probe of probes) assertAnswered(probe, await rawHttp(port, probe.bytes));

    assert.equal(daemon.child.exitCode, null, `the daemon is still running (stderr: ${daemon.stderr()})`);
    const client = await RalphClient.connect({ endpoint: endpointFromFile(repoRoot), name: 'after', reconnect: false });
    assert.deepEqual((await client.request('goal.list')).goals, []);
    await client.request('daemon.shutdown');
    await client.close();
    assert.equal((await daemon.exited).code, 0);
  });

  it('generated targets, methods, headers and malformed requests: every one gets a 4xx, the daemon and its files stay whole', async (t) => {
    const random = fuzzRandom(t);
    const { port, endpoint, daemon, stillWhole } = await daemonWithAGoal(t);
    const seqBefore = daemon.bus.lastSeq;

    const batches: [string, Probe[]][] = [
      ['targets', targetProbes(random, endpoint.token, port)],
      ['methods', methodProbes(endpoint.token, port)],
      ['headers', headerProbes(endpoint.token, port)],
      ['malformed requests', malformedProbes(random, port)],
    ];
    for (const [batch, probes] of batches) {
      await runProbes(port, probes);
      await stillWhole(batch);
    }
    // Nobody the fuzz sent got attached: the only events are the checking clients coming and going.
    const attached = daemon.bus.since(seqBefore) ?? [];
    assert.ok(attached.every((event) => event.envelope.type === 'clients.changed'));
    assert.ok(
      attached.every(
        (event) =>
          event.envelope.type !== 'clients.changed' ||
          event.envelope.data.clients.every((client) => client.name === 'owner' || client.name.startsWith('after ')),
      ),
      'only the checking clients were ever attached',
    );
  });
});
