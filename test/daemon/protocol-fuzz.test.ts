/**
 * The daemon's JSON-RPC server against whatever an authenticated client may send: ≥ 10,000 frames
 * from a seeded generator (the seed is printed; RALPH_FUZZ_SEED replays a run), pipelined over a few
 * connections — malformed JSON, wrong types, values nested 10,000+ deep, strings at and past every
 * cap, prototype keys, unknown and inherited method names, every method with random params, invalid
 * UTF-8, binary frames, notifications. Every request-shaped frame gets exactly one JSON-RPC answer;
 * afterwards the daemon serves, a client attached all along is still attached, and the files the fuzz
 * cannot legitimately change are byte-identical (a generated request that would be a valid mutation of
 * existing state is turned into one that is not: the fuzz attacks, it does not edit).
 *
 * And the bounds on free-form values, one by one: `links` nested deep is refused, a goal file nested
 * deep is an invalid goal (and every client still connects), a failure while answering one client is
 * an InternalError for that client only.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WebSocket, type RawData } from 'ws';
import type { z } from 'zod';
import type { Endpoint } from '../../protocol/client.ts';
import {
  CHAT_TEXT_MAX,
  ErrorCode,
  GOAL_NOTE_MAX,
  GOAL_SPEC_MAX,
  GOAL_TITLE_MAX,
  JsonRpcMessage,
  METHOD_NAMES,
  Methods,
  NAME_MAX,
  PROTOCOL_VERSION,
  RESEARCH_QUESTION_MAX,
  type MethodName,
} from '../../protocol/index.ts';
import { rawSocket, startTestDaemon } from '../helpers/daemon.ts';
import { assertFilesUnchanged, filesUnder, fuzzRandom, seededRandom, type Random } from '../helpers/fuzz.ts';
import { waitFor } from '../helpers/wait.ts';

const SOFT_CAP = 256 * 1024;
const FRAMES_PER_CONNECTION = 2600;
const CONNECTIONS = 4;
/** Goals that exist before the fuzz: no generated request may name them in a valid mutation. */
const EXISTING_IDS = [1, 2];

/** Methods that change nothing the fuzz compares, whatever valid params they get. */
const READ_ONLY = new Set<MethodName>([
  'initialize',
  'daemon.status',
  'goal.list',
  'goal.get',
  'logs.read',
  'chat.history',
  'chat.interrupt',
  'research.get',
  'research.list',
  'research.cancel',
  'models.list',
]);

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then'];
const ODD_METHODS = [
  '',
  'goal',
  'goal.',
  'goal.explode',
  'GOAL.LIST',
  'goal.list ',
  'goal.list\u0000',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'x'.repeat(5000),
  '\ud800',
  'event',
];
const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udc00x',
  '😀',
  'é',
  '\u202e',
  '\r\n',
  '"',
  '\\',
  '</script>',
  '${x}',
  '../../etc/passwd',
  '%s%n',
  'null',
  '1',
  'true',
];
const ODD_NUMBERS = [0, -0, -1, 1, 2, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 2 ** 53 + 2, Number.MIN_VALUE, 1000, 99_999];
/** Lengths (UTF-16 units) at and around every string cap. */
const CAP_LENGTHS = [
  0,
  1,
  GOAL_TITLE_MAX,
  GOAL_TITLE_MAX + 1,
  NAME_MAX,
  NAME_MAX + 1,
  GOAL_NOTE_MAX,
  GOAL_NOTE_MAX + 1,
  RESEARCH_QUESTION_MAX + 1,
  CHAT_TEXT_MAX + 1,
  GOAL_SPEC_MAX,
  GOAL_SPEC_MAX + 1,
];

/** The keys a method's params object has (through `.default()`), to generate params that get past the first checks. */
function paramKeys(schema: z.ZodType): string[] {
  // zod's runtime shape: an object schema has `shape`; a default wraps one in `def.innerType`.
  const node = schema as unknown as { shape?: Record<string, unknown>; def?: { innerType?: z.ZodType } };
  if (node.shape) return Object.keys(node.shape);
  return node.def?.innerType ? paramKeys(node.def.innerType) : [];
}

function randomString(random: Random): string {
  if (random.chance(0.3)) return random.pick(ODD_STRINGS);
  if (random.chance(0.15)) {
    // At a cap: half of them with an emoji at the end, two UTF-16 units (the limits count units).
    const length = random.pick(CAP_LENGTHS);
    return random.chance(0.5) && length >= 2 ? `${'a'.repeat(length - 2)}😀` : 'a'.repeat(length);
  }
  return Array.from({ length: random.int(12) }, () =>
    String.fromCharCode(random.chance(0.8) ? 32 + random.int(95) : random.int(0x10000)),
  ).join('');
}

function randomValue(random: Random, depth = 0): unknown {
  switch (random.int(depth >= 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick(ODD_NUMBERS);
    case 3:
    case 4:
      return randomString(random);
    case 5:
      return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(4); i > 0; i--) {
        const key = random.chance(0.3) ? random.pick(PROTOTYPE_KEYS) : randomString(random);
        // defineProperty: a plain assignment of `__proto__` would set the prototype instead of a key.
        Object.defineProperty(object, key, { value: randomValue(random, depth + 1), enumerable: true, configurable: true, writable: true });
      }
      return object;
    }
  }
}

/** Params with the method's own keys (random values), sometimes with prototype keys, sometimes not an object at all. */
function randomParams(random: Random, method: string): unknown {
  if (random.chance(0.1)) return randomValue(random);
  const params: Record<string, unknown> = {};
  const keys = Object.hasOwn(Methods, method) ? paramKeys(Methods[method as MethodName].params) : ['id', 'title'];
  for (const key of keys) {
    if (random.chance(0.3)) continue;
    params[key] =
      key === 'id'
        ? random.pick([...ODD_NUMBERS, 'x', null, 500])
        : key === 'protocolVersion'
          ? random.pick([PROTOCOL_VERSION, 0, 2, '1'])
          : randomValue(random);
  }
  if (random.chance(0.2)) Object.defineProperty(params, random.pick(PROTOTYPE_KEYS), { value: randomValue(random), enumerable: true });
  return params;
}

/** A generated request must not be a valid mutation of what exists: made harmless (and still sent) when it would be. */
function defuse(method: string, params: unknown): unknown {
  if (!Object.hasOwn(Methods, method) || READ_ONLY.has(method as MethodName)) return params;
  const parsed = Methods[method as MethodName].params.safeParse(params);
  if (!parsed.success) return params;
  const id = (parsed.data as { id?: unknown }).id;
  // A goal that does not exist: NotFound. Anything else valid (create, chat, research, pipeline, shutdown): not an object, so invalid.
  if (typeof id === 'number' && typeof params === 'object' && params !== null)
    return { ...params, id: EXISTING_IDS.includes(id) ? 4242 : id };
  return [params];
}

/** Text nested `depth` deep, built as text (building it as a value and stringifying would overflow here). */
function deepText(random: Random, depth: number): string {
  switch (random.int(3)) {
    case 0:
      return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    case 1:
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    default:
      return `${'[{"__proto__":'.repeat(depth)}null${'}]'.repeat(depth)}`;
  }
}

interface Frame {
  data: string | Buffer;
  binary?: boolean;
  /** The id its answer carries; null when the id cannot be read; undefined for a notification (no answer). */
  answerId: string | number | null | undefined;
}

/** One generated frame; `n` makes its id unique on the connection. */
function generateFrame(random: Random, n: number): Frame {
  const frame = generateAnyFrame(random, n);
  // Too large to parse: answered all the same (MessageTooLarge), even a notification, which cannot be told apart unparsed.
  if (frame.answerId === undefined && Buffer.byteLength(frame.data) > SOFT_CAP) return { ...frame, answerId: null };
  return frame;
}

function generateAnyFrame(random: Random, n: number): Frame {
  const id: string | number = random.chance(0.5) ? n : `r${n}`;
  const roll = random.int(1000);
  if (roll < 520) {
    const method = random.chance(0.85) ? random.pick(METHOD_NAMES) : random.pick(ODD_METHODS);
    // Sometimes without params (a method whose params default to {} takes that as valid: defused too).
    const params = defuse(method, random.chance(0.1) ? undefined : randomParams(random, method));
    const request = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
    return { data: JSON.stringify(request), answerId: id };
  }
  if (roll < 560) {
    // Deep: in the params (in links, where goal.create once took it), in the id, or the whole message.
    const depth = 10_000 + random.int(5_000);
    const where = random.int(5);
    if (where === 0)
      return {
        data: `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"goal.create","params":{"title":"deep","links":{"x":${deepText(random, depth)}}}}`,
        answerId: id,
      };
    if (where === 1)
      return {
        data: `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"${random.pick(METHOD_NAMES)}","params":${deepText(random, depth)}}`,
        answerId: id,
      };
    if (where === 2) return { data: `{"jsonrpc":"2.0","id":${deepText(random, depth)},"method":"goal.list"}`, answerId: null };
    if (where === 3) return { data: `{"jsonrpc":"2.0","method":"goal.list","params":${deepText(random, depth)}}`, answerId: undefined };
    return { data: deepText(random, depth), answerId: null };
  }
  if (roll < 680) {
    // Wrong types or shapes in the envelope.
    const envelopes: [object, string | number | null][] = [
      [{ jsonrpc: '1.0', id, method: 'goal.list' }, id],
      [{ jsonrpc: 2, id, method: 'goal.list' }, id],
      [{ jsonrpc: '2.0', id, method: 42 }, id],
      [{ jsonrpc: '2.0', id, method: 'goal.list', extra: randomValue(random) }, id],
      [{ jsonrpc: '2.0', id: randomValue(random), method: 'goal.list', params: 5 }, null],
      [{ jsonrpc: '2.0', id: 1.5, method: 'goal.list' }, null],
      [{ jsonrpc: '2.0', id: 'x'.repeat(129), method: 'goal.list' }, null],
      [{ jsonrpc: '2.0', id: '', method: 'goal.list' }, null],
      [{ id, method: 'goal.list' }, id],
      [{ jsonrpc: '2.0', id }, null],
      [{}, null],
    ];
    const [envelope, answerId] = random.pick(envelopes);
    // A random id may happen to be a valid one: then the answer carries it.
    const sentId = (envelope as { id?: unknown }).id;
    const readable =
      (typeof sentId === 'number' && Number.isSafeInteger(sentId)) ||
      (typeof sentId === 'string' && sentId.length >= 1 && sentId.length <= 128);
    const expected = answerId === null && readable && 'method' in envelope ? (sentId as string | number) : answerId;
    if (random.chance(0.3)) return { data: JSON.stringify(envelope).replace(/^\{/, '{"__proto__":{"polluted":1},'), answerId: expected };
    return { data: JSON.stringify(envelope), answerId: expected };
  }
  if (roll < 800) {
    // Not JSON at all, or not quite.
    const valid = JSON.stringify({ jsonrpc: '2.0', id, method: 'goal.list' });
    const broken = [
      valid.slice(0, 1 + random.int(valid.length - 1)),
      `${valid}x`,
      `${valid}${valid}`,
      '',
      ' ',
      'nul',
      'NaN',
      '{"a":1,}',
      "{'a':1}",
      '\u0000',
      randomString(random) || '{',
    ];
    return { data: random.pick(broken), answerId: null };
  }
  if (roll < 850) {
    // Valid JSON that is no request: a batch, a scalar.
    return {
      data: JSON.stringify(random.pick([[], [{ jsonrpc: '2.0', id, method: 'goal.list' }], 1, 'goal.list', null, true])),
      answerId: null,
    };
  }
  if (roll < 900) {
    // Invalid UTF-8 in a text frame, and binary frames.
    if (random.chance(0.5)) return { data: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]), answerId: null };
    return { data: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'goal.list' })), binary: true, answerId: null };
  }
  if (roll < 950) {
    // Notifications: no answer, whatever they carry.
    return {
      data: JSON.stringify({
        jsonrpc: '2.0',
        method: random.pick([...METHOD_NAMES, ...ODD_METHODS].filter(Boolean)),
        params: randomValue(random),
      }),
      answerId: undefined,
    };
  }
  if (roll < 990) {
    // Strings at and past the caps, in requests that would not change anything even if valid.
    const length = random.pick(CAP_LENGTHS);
    const text = random.chance(0.5) ? 'é'.repeat(length) : `${'a'.repeat(Math.max(0, length - 2))}😀`;
    const requests = [
      { method: 'goal.update', params: { id: 4242, title: text.slice(0, GOAL_TITLE_MAX + 2), spec: text } },
      { method: 'goal.cancel', params: { id: 4242, note: text } },
      { method: 'chat.history', params: { session: text } },
      { method: 'research.get', params: { runId: text } },
      { method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, client: { name: text, version: text } } },
      { method: 'chat.send', params: { text: text.length > CHAT_TEXT_MAX ? text : '' } },
      { method: 'research.start', params: { questions: [text.length > RESEARCH_QUESTION_MAX ? text : ''] } },
    ];
    const chosen = random.pick(requests);
    return { data: JSON.stringify({ jsonrpc: '2.0', id, ...chosen }), answerId: id };
  }
  // Over the message cap: MessageTooLarge, with the id read from the head of the message.
  const size = SOFT_CAP + 1 + random.int(4096);
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"goal.list","params":{"pad":"`;
  return { data: `${head}${'p'.repeat(size - head.length - 3)}"}}`, answerId: id };
}

interface FuzzConnection {
  socket: WebSocket;
  answers: unknown[];
  invalid: string[];
}

async function openFuzzConnection(endpoint: Endpoint): Promise<FuzzConnection> {
  const socket = new WebSocket(endpoint.url, { headers: { Authorization: `Bearer ${endpoint.token}` }, perMessageDeflate: false });
  const connection: FuzzConnection = { socket, answers: [], invalid: [] };
  socket.on('message', (data: RawData) => {
    const text = String(data);
    let message: unknown;
    try {
      message = JsonRpcMessage.parse(JSON.parse(text));
    } catch {
      connection.invalid.push(text.slice(0, 200));
      return;
    }
    if (typeof message === 'object' && message !== null && 'method' in message) return; // an event
    connection.answers.push(message);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return connection;
}

describe('protocol fuzz', () => {
  it(`${CONNECTIONS * FRAMES_PER_CONNECTION} generated frames: each request-shaped one answered once, the daemon and its files whole`, async (t) => {
    const random = fuzzRandom(t);
    const { endpoint, repoRoot, connect, logs } = await startTestDaemon(t, undefined, { maxMessageBytes: SOFT_CAP });
    const owner = await connect('owner');
    await owner.request('goal.create', { title: 'Stays as it is', spec: '## Objective\n\nnothing\n' });
    await owner.request('goal.create', { title: 'Queued', queue: true });
    const goalsDir = path.join(repoRoot, '.ralph', 'goals');
    const logsDir = path.join(repoRoot, '.ralph', 'logs');
    const before = { goals: await filesUnder(goalsDir), logs: await filesUnder(logsDir) };
    const expectedGoals = (await owner.request('goal.list')).goals;

    const connections: FuzzConnection[] = [];
    const expected: { ids: (string | number)[]; nulls: number }[] = [];
    for (let c = 0; c < CONNECTIONS; c++) {
      const connection = await openFuzzConnection(endpoint);
      connections.push(connection);
      t.after(() => connection.socket.terminate());
      const expect = { ids: [] as (string | number)[], nulls: 0 };
      expected.push(expect);
      // All but the last connection initialize first; the last one is fuzzed from its first frame on.
      if (c < CONNECTIONS - 1) {
        connection.socket.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 'init',
            method: 'initialize',
            params: { protocolVersion: PROTOCOL_VERSION, client: { name: `fuzz ${c}` } },
          }),
        );
        expect.ids.push('init');
      }
      for (let n = 0; n < FRAMES_PER_CONNECTION; n++) {
        const frame = generateFrame(random, n);
        connection.socket.send(frame.data, { binary: frame.binary ?? false });
        if (frame.answerId === null) expect.nulls++;
        else if (frame.answerId !== undefined) expect.ids.push(frame.answerId);
      }
    }

    const total = expected.reduce((sum, expect) => sum + expect.ids.length + expect.nulls, 0);
    await waitFor(() => connections.reduce((sum, connection) => sum + connection.answers.length, 0) >= total, {
      timeoutMs: 120_000,
      intervalMs: 50,
      message: `${total} answers`,
    });
    connections.forEach((connection, c) => {
      assert.deepEqual(connection.invalid, [], `connection ${c}: every message from the daemon is JSON-RPC`);
      const ids = (connection.answers as { id: string | number | null }[]).map((answer) => answer.id);
      const sortKey = (id: string | number) => `${typeof id}:${id}`;
      assert.deepEqual(
        ids
          .filter((id) => id !== null)
          .map(sortKey)
          .sort(),
        expected[c]!.ids.map(sortKey).sort(),
        `connection ${c}: each request answered once, with its id`,
      );
      assert.equal(ids.filter((id) => id === null).length, expected[c]!.nulls, `connection ${c}: the answers without a readable id`);
      assert.equal(connection.socket.readyState, WebSocket.OPEN, `connection ${c} is still open`);
    });

    // Nothing reached Object.prototype, nothing failed inside the daemon, and it all still works.
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(
      logs.filter((line) => line.includes('internal error')),
      [],
    );
    assert.equal(owner.status, 'open');
    assert.deepEqual((await owner.request('goal.list')).goals, expectedGoals);
    const fresh = await connect('after');
    assert.deepEqual(fresh.snapshot.goals.slice(0, 2), expectedGoals);
    await assertFilesUnchanged(goalsDir, before.goals, 'goal files');
    await assertFilesUnchanged(logsDir, before.logs, 'goal logs');
  });

  it('goal.create refuses links nested deep (it wrote them, and every initialize then overflowed the stack)', async (t) => {
    const { endpoint, connect, repoRoot } = await startTestDaemon(t);
    const raw = await rawSocket(endpoint, {}, t);
    await raw.initialize();
    // 20,000 deep: past the bound on any request's params; 10 deep: within it, past the one on links.
    for (const [depth, message] of [
      [20_000, 'invalid params for goal.create: nested deeper than 32 levels'],
      [10, 'invalid params for goal.create: links: nested deeper than 4 levels'],
    ] as const) {
      raw.send(
        `{"jsonrpc":"2.0","id":"deep","method":"goal.create","params":{"title":"deep","links":{"research":"r","x":${deepText(seededRandom(7), depth)}}}}`,
      );
      const answer = await raw.response();
      assert.ok('error' in answer, JSON.stringify(answer).slice(0, 300));
      assert.equal(answer.id, 'deep');
      assert.equal(answer.error.code, ErrorCode.InvalidParams);
      assert.equal(answer.error.message, message);
    }
    // Within the bounds, links are kept as they are.
    raw.send({
      jsonrpc: '2.0',
      id: 'ok',
      method: 'goal.create',
      params: { title: 'linked', links: { research: 'r1', chat: 's1', later: { a: [1] } } },
    });
    const ok = await raw.response();
    assert.ok('result' in ok);
    assert.deepEqual((ok.result as { goal: { links: unknown } }).goal.links, { research: 'r1', chat: 's1', later: { a: [1] } });
    // A new client connects, and sees exactly the goal within the bounds.
    const client = await connect('after');
    assert.deepEqual(
      client.snapshot.goals.map((goal) => goal.title),
      ['linked'],
    );
    assert.deepEqual(await filesUnder(path.join(repoRoot, '.ralph', 'goals')).then((files) => [...files.keys()]), ['1.json']);
  });

  it('a goal file nested deep, or too large, is an invalid goal; every client still connects', async (t) => {
    const { repoRoot } = await startTestDaemon(t).then(async (first) => {
      // Files a hostile repository could commit, put in place while no daemon runs.
      await first.daemon.stop('files replaced');
      return first;
    });
    const goals = path.join(repoRoot, '.ralph', 'goals');
    await mkdir(goals, { recursive: true });
    const goal = (id: number, extra: string) =>
      `{"id":${id},"title":"goal ${id}","spec":"","state":"draft","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z",` +
      `"attempts":[],"usage":{"inputTokens":0,"cachedInputTokens":0,"outputTokens":0,"calls":0,"costUsd":0},"history":[]${extra}}`;
    await writeFile(path.join(goals, '1.json'), goal(1, `,"later":${deepText(seededRandom(7), 50_000)}`));
    await writeFile(path.join(goals, '2.json'), goal(2, `,"links":{"x":${deepText(seededRandom(7), 50)}}`));
    await writeFile(path.join(goals, '3.json'), goal(3, `,"later":[${Array.from({ length: 1_000_001 }, () => '0').join(',')}]`));
    await writeFile(path.join(goals, '4.json'), goal(4, ',"later":{"a":[1,{"b":2}]}'));

    const { connect } = await startTestDaemon(t, repoRoot);
    const client = await connect('after');
    assert.deepEqual(
      client.snapshot.goals.map((entry) => entry.id),
      [4],
    );
    const invalid = new Map(client.snapshot.invalid.map((entry) => [entry.id, entry.error]));
    assert.match(invalid.get(1) ?? '', /nested deeper than 32 levels/);
    assert.match(invalid.get(2) ?? '', /links: nested deeper than 4 levels/);
    assert.match(invalid.get(3) ?? '', /more than 1000000 values/);
    // And again: connecting is not what breaks.
    const second = await connect('again');
    assert.deepEqual(second.snapshot.invalid.map((entry) => entry.id).sort(), [1, 2, 3]);
  });

  it('a failure while answering one client is an InternalError for that client; the daemon and the others go on', async (t) => {
    const { daemon, endpoint, connect, logs } = await startTestDaemon(t);
    const bystander = await connect('bystander');
    const raw = await rawSocket(endpoint, {}, t);
    // Fault injection: building the snapshot fails (as an overflow in JSON.stringify did).
    const snapshot = daemon.chat.snapshot.bind(daemon.chat);
    daemon.chat.snapshot = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    const failed = await raw.call('initialize', { protocolVersion: PROTOCOL_VERSION, client: { name: 'unlucky' } }, 'i1');
    daemon.chat.snapshot = snapshot;
    assert.ok('error' in failed, JSON.stringify(failed));
    assert.equal(failed.id, 'i1');
    assert.equal(failed.error.code, ErrorCode.InternalError);
    assert.equal(failed.error.message, 'internal error in initialize: Maximum call stack size exceeded');
    assert.ok(
      logs.some((line) => line.startsWith('internal error answering initialize') && line.includes('    at ')),
      'the stack is logged',
    );
    // Not attached by the failed attempt: it may initialize again, and then it is served.
    const again = await raw.call('initialize', { protocolVersion: PROTOCOL_VERSION, client: { name: 'unlucky' } }, 'i2');
    assert.ok('result' in again, JSON.stringify(again).slice(0, 300));
    assert.ok('result' in (await raw.call('goal.list', {})));
    assert.equal(bystander.status, 'open');
    assert.deepEqual(
      (await bystander.request('daemon.status')).clients.map((client) => client.name),
      ['bystander', 'unlucky'],
    );
  });
});
