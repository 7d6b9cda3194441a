/**
 * A real daemon for a test, on a real temporary repository, stopped and removed after the test.
 *
 * node:test runs `t.after` hooks in the order they were registered, so everything started here is
 * cleaned up through one per-test stack that runs last-in first-out: clients close before their
 * daemon stops, and the daemon stops before its repository is removed. Let startTestDaemon create
 * the repository (or pass one made with `makeTempRepo(undefined)` and remove it with `defer`): a
 * repository made with `makeTempRepo(t)` beforehand would be removed while the daemon still runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket, type RawData } from 'ws';
import { Daemon, type DaemonOptions } from '../../daemon/daemon.ts';
import { RalphClient, type ClientOptions, type Endpoint } from '../../protocol/client.ts';
import {
  JsonRpcMessage,
  PROTOCOL_VERSION,
  readDaemonFile,
  type EventEnvelope,
  type JsonRpcMessage as JsonRpcMessageType,
} from '../../protocol/index.ts';
import { defer } from './defer.ts';
import { makeTempRepo } from './repo.ts';
import { TEST_WORKTREES_ROOT } from './state-home.ts';

export { defer };

export interface TestDaemon {
  daemon: Daemon;
  repoRoot: string;
  endpoint: Endpoint;
  /** The daemon's log lines (kept, not printed: set RALPH_TEST_LOG=1 to see them). */
  logs: string[];
  /** A client that finds the daemon through `.ralph/daemon.json`, so it follows a restarted daemon too. */
  connect(name?: string, options?: Partial<ClientOptions>): Promise<RalphClient>;
}

/** The endpoint as `.ralph/daemon.json` says now: what the CLI and the TUI use. */
export function endpointFromFile(repoRoot: string): () => Promise<Endpoint> {
  return async () => {
    const file = await readDaemonFile(repoRoot);
    if (!file) throw new Error(`no daemon serves ${repoRoot}`);
    return { url: file.url, token: file.token };
  };
}

/**
 * Starts a daemon (repository watcher off, goal pipeline paused, unless asked for; results checked
 * against their schemas) on `repoRoot`, or on a fresh temporary repository.
 */
export async function startTestDaemon(t: TestContext, repoRoot?: string, options: Partial<DaemonOptions> = {}): Promise<TestDaemon> {
  if (!repoRoot) {
    const created = await makeTempRepo(undefined);
    defer(t, () => rm(created, { recursive: true, force: true }));
    repoRoot = created;
  }
  const logs: string[] = [];
  const daemon = await Daemon.start({
    repoRoot,
    repoWatch: false,
    checkResults: true,
    // Queued goals stay queued unless a test means to run them (`pipeline: {}` follows RALPH_PIPELINE, `{ paused: false }` runs them).
    pipeline: { paused: true },
    worktreesRoot: TEST_WORKTREES_ROOT,
    // A goal that ends must not show a notification on the desktop of whoever runs the tests.
    desktopNotifier: null,
    log: (line) => {
      logs.push(line);
      if (process.env.RALPH_TEST_LOG) process.stderr.write(`[daemon] ${line}\n`);
    },
    ...options,
  });
  defer(t, () => daemon.stop('test over'));
  const root = daemon.repoRoot;
  return {
    daemon,
    repoRoot: root,
    endpoint: daemon.endpoint,
    logs,
    async connect(name = 'test', clientOptions = {}) {
      const client = await RalphClient.connect({ endpoint: endpointFromFile(root), name, requestTimeoutMs: 10_000, ...clientOptions });
      defer(t, () => client.close());
      return client;
    },
  };
}

/**
 * Cuts a client's connection abruptly, as a network failure would (the client then reconnects).
 * Reaches into the client's private state: the one place tests depend on its insides.
 */
export function dropConnection(client: RalphClient): void {
  const link = (client as unknown as { link: { socket: WebSocket } | null }).link;
  if (!link) throw new Error('the client is not connected');
  link.socket.terminate();
}

/** A random token of the right shape that is not the daemon's. */
export function wrongToken(): string {
  return randomBytes(32).toString('hex');
}

/** Sends a WebSocket upgrade request with exactly these headers and returns the HTTP status (101 if accepted). */
export function upgradeStatus(endpoint: Endpoint, headers: OutgoingHttpHeaders): Promise<number> {
  const url = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      path: '/',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    request.once('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('upgrade request timed out')));
    request.end();
  });
}

/** A bare authenticated WebSocket for hand-crafted frames, with a queue of what the daemon sends back. */
export interface RawSocket {
  socket: WebSocket;
  /** Sends a string, a value (as JSON text) or a Buffer (as a binary frame). */
  send(data: string | Buffer | object): void;
  /** The next message from the daemon (events included), within a bounded wait. */
  next(timeoutMs?: number): Promise<JsonRpcMessageType>;
  /** The next response (events skipped). */
  response(timeoutMs?: number): Promise<JsonRpcMessageType>;
  /** Sends a request and returns its response. */
  call(method: string, params?: unknown, id?: number | string): Promise<JsonRpcMessageType>;
  /** initialize with this protocol version and a client name. */
  initialize(): Promise<JsonRpcMessageType>;
  events: EventEnvelope[];
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function rawSocket(endpoint: Endpoint, headers: Record<string, string> = {}, t?: TestContext): Promise<RawSocket> {
  const socket = new WebSocket(endpoint.url, {
    headers: { Authorization: `Bearer ${endpoint.token}`, ...headers },
    perMessageDeflate: false,
  });
  const queue: JsonRpcMessageType[] = [];
  const waiters: (() => void)[] = [];
  const events: EventEnvelope[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('message', (data: RawData) => {
    const message = JsonRpcMessage.parse(JSON.parse(String(data)));
    if ('method' in message && message.method === 'event') events.push(message.params as EventEnvelope);
    queue.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  if (t) defer(t, () => raw.close());

  let nextId = 1;
  const next = async (timeoutMs = 5000): Promise<JsonRpcMessageType> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message from the daemon within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return queue.shift()!;
  };
  const response = async (timeoutMs = 5000): Promise<JsonRpcMessageType> => {
    for (;;) {
      const message = await next(timeoutMs);
      if (!('method' in message && message.method === 'event')) return message;
    }
  };
  const raw: RawSocket = {
    socket,
    events,
    closed,
    send(data) {
      if (Buffer.isBuffer(data)) socket.send(data, { binary: true });
      else socket.send(typeof data === 'string' ? data : JSON.stringify(data));
    },
    next,
    response,
    async call(method, params, id = nextId++) {
      socket.send(JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }));
      return response();
    },
    initialize() {
      return raw.call('initialize', { protocolVersion: PROTOCOL_VERSION, client: { name: 'raw' } });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      const timer = setTimeout(() => socket.terminate(), 1000);
      socket.close();
      await closed;
      clearTimeout(timer);
    },
  };
  return raw;
}

/** The daemon as a real process (`daemon/main.ts`), with its output collected. */
export interface DaemonProcess {
  child: ChildProcess;
  /**
   * Background mode: the one JSON line it prints. Foreground: its first own line on stderr (`ralph
   * daemon: …`); what the services say as they start (`sandbox: …`, `config: …`) may come before it.
   */
  firstLine: Promise<string>;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const DAEMON_MAIN = fileURLToPath(new URL('../../daemon/main.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `daemon/main.ts --repo DIR --background|--foreground`; killed (SIGKILL) after the test if still running. */
export function spawnDaemon(
  t: TestContext,
  repoRoot: string,
  mode: 'background' | 'foreground',
  env: NodeJS.ProcessEnv = {},
): DaemonProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', DAEMON_MAIN, '--repo', repoRoot, `--${mode}`], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon printed no line within 15 s (stderr: ${err})`)), 15_000);
    const check = () => {
      const lines = (mode === 'background' ? out : err).split('\n').slice(0, -1);
      const line = mode === 'background' ? lines[0] : lines.find((candidate) => candidate.startsWith('ralph daemon:'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(line);
    };
    (mode === 'background' ? child.stdout! : child.stderr!).on('data', check);
    void exited.then(() => {
      check();
      clearTimeout(timer);
      reject(new Error(`the daemon exited before printing a line (stdout: ${out}, stderr: ${err})`));
    });
  });
  firstLine.catch(() => {}); // callers that do not await it must not get an unhandled rejection
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, firstLine, stdout: () => out, stderr: () => err, exited };
}
