/**
 * The typed client of the daemon, used by the TUI, the command line and the tests.
 *
 * - `request(method, params)` is typed by `Methods`; responses are validated with its result schema.
 * - Events arrive exactly once, in `seq` order, including across reconnects: the client resumes from
 *   the last `seq` it delivered, drops anything at or below it, and gets a fresh snapshot (the
 *   'snapshot' event) when the daemon no longer has what it missed or is a new daemon (new epoch).
 * - A dropped connection is re-established with backoff, re-resolving the endpoint each time (a
 *   restarted daemon has a new port and token). Requests in flight at a disconnect are rejected,
 *   never silently retried: the caller decides whether repeating them is safe.
 * - A bad frame from the daemon is an 'error' event (when anyone listens), never a crash.
 */
import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import { EVENT_METHOD, EventEnvelope } from './events.ts';
import { ErrorCode, JsonRpcFailure, JsonRpcSuccess, describeZodError, type RequestId } from './jsonrpc.ts';
import { Methods, type DaemonInfo, type MethodName, type ParamsOf, type ResultOf, type Snapshot } from './methods.ts';
import { PROTOCOL_VERSION, RALPH_VERSION } from './version.ts';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Endpoint {
  url: string;
  token: string;
}

export interface ClientOptions {
  /** A function is re-resolved before every (re)connect: a restarted daemon has a new port and token. */
  endpoint: Endpoint | (() => Promise<Endpoint>);
  /** Sent in initialize ('tui', 'cli', 'test'). */
  name: string;
  /** Default 30 s; also bounds the opening handshake. */
  requestTimeoutMs?: number;
  /** Default true; the CLI passes false for one-shot commands. */
  reconnect?: boolean;
}

/** The daemon answered a request with a JSON-RPC error; `code` is one of ErrorCode. */
export class RpcRequestError extends Error {
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcRequestError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/** Why connecting failed, so a caller can act on it (e.g. the CLI treats 'unreachable' as "no daemon"). */
export type ConnectFailure = 'unreachable' | 'unauthorized' | 'forbidden' | 'protocol' | 'timeout' | 'closed';

export class DaemonConnectError extends Error {
  readonly reason: ConnectFailure;
  constructor(reason: ConnectFailure, message: string) {
    super(message);
    this.name = 'DaemonConnectError';
    this.reason = reason;
  }
}

export const CONNECTION_LOST = 'connection to the daemon was lost';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** The daemon pings every 30 s; this long without hearing from it, the connection is presumed dead. */
const SILENCE_LIMIT_MS = 75_000;

export type ClientEvents = {
  /** Every event exactly once, in seq order, including those replayed after a resume. */
  event: [event: EventEnvelope];
  /** A reconnect could not resume: a fresh snapshot replaces the state (the first one is `client.snapshot`). */
  snapshot: [snapshot: Snapshot];
  status: [status: ConnectionStatus];
  /** A bad frame from the daemon, or a reconnect that cannot succeed (protocol mismatch). */
  error: [error: Error];
};
export type ClientListener<E extends keyof ClientEvents> = (...args: ClientEvents[E]) => void;

interface Pending {
  method: MethodName;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  /** Clears the timer and the abort listener. */
  settle: () => void;
}

/** One WebSocket and the requests sent on it: a reconnect makes a new one. */
interface Link {
  socket: WebSocket;
  pending: Map<RequestId, Pending>;
  nextId: number;
  /** Events that came before the initialize answer was applied: delivered right after it. */
  early: EventEnvelope[] | null;
  silenceTimer: NodeJS.Timeout | undefined;
}

type InitializeResult = ResultOf<'initialize'>;

export class RalphClient {
  /** Composed rather than inherited, so `on`/`off` have plain generic signatures any interface can match. */
  private readonly emitter = new EventEmitter<ClientEvents>();
  private readonly options: ClientOptions;
  private readonly requestTimeoutMs: number;
  private link: Link | null = null;
  private currentStatus: ConnectionStatus = 'connecting';
  private currentSnapshot: Snapshot | undefined;
  private currentDaemon: DaemonInfo | undefined;
  private currentClientId = '';
  private seq = 0;
  private closing = false;
  private wakeReconnect: (() => void) | undefined;

  private constructor(options: ClientOptions) {
    this.options = options;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /**
   * Connects and completes `initialize`. Rejects with a one-line DaemonConnectError: unreachable,
   * token refused (401), forbidden (403), protocol mismatch, timeout.
   */
  static async connect(options: ClientOptions): Promise<RalphClient> {
    const client = new RalphClient(options);
    try {
      await client.establish();
    } catch (error) {
      client.closing = true;
      client.setStatus('closed');
      throw error;
    }
    return client;
  }

  /** The initial snapshot; after a reconnect that could not resume, the fresh one ('snapshot' event). */
  get snapshot(): Snapshot {
    if (!this.currentSnapshot) throw new Error('not connected yet');
    return this.currentSnapshot;
  }

  get daemon(): DaemonInfo {
    if (!this.currentDaemon) throw new Error('not connected yet');
    return this.currentDaemon;
  }

  /** This connection's id on the daemon (it changes at a reconnect). */
  get clientId(): string {
    return this.currentClientId;
  }

  /** The seq of the last event delivered (or of the snapshot, when it is newer). */
  get lastSeq(): number {
    return this.seq;
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientListener<E>): this {
    this.emitter.on(event, listener as never); // the emitter's conditional listener type is this same type
    return this;
  }

  once<E extends keyof ClientEvents>(event: E, listener: ClientListener<E>): this {
    this.emitter.once(event, listener as never);
    return this;
  }

  off<E extends keyof ClientEvents>(event: E, listener: ClientListener<E>): this {
    this.emitter.off(event, listener as never);
    return this;
  }

  private emit<E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]): void {
    (this.emitter.emit as (event: E, ...args: ClientEvents[E]) => boolean)(event, ...args);
  }

  request<M extends MethodName>(
    method: M,
    params?: ParamsOf<M>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ResultOf<M>> {
    const link = this.link;
    if (!link || this.currentStatus !== 'open') {
      const why = this.currentStatus === 'closed' ? 'the client is closed' : 'not connected to the daemon (reconnecting)';
      return Promise.reject(new Error(`${method}: ${why}`));
    }
    return this.send(link, method, params, options) as Promise<ResultOf<M>>;
  }

  /** Stops reconnecting, rejects what is pending, and closes the connection. */
  async close(): Promise<void> {
    this.closing = true;
    this.wakeReconnect?.();
    const link = this.link;
    this.link = null;
    if (link) {
      this.dropLink(link, 'the client was closed');
      await closeSocket(link.socket);
    }
    this.setStatus('closed');
  }

  // ---- connecting ----

  private async resolveEndpoint(): Promise<Endpoint> {
    const { endpoint } = this.options;
    if (typeof endpoint !== 'function') return endpoint;
    try {
      return await endpoint();
    } catch (error) {
      throw new DaemonConnectError('unreachable', `cannot find the Ralph daemon: ${(error as Error).message}`);
    }
  }

  /** One connection attempt: socket, then initialize, then the snapshot or the missed events applied. */
  private async establish(): Promise<void> {
    const endpoint = await this.resolveEndpoint();
    const socket = await openSocket(endpoint, this.requestTimeoutMs);
    if (this.closing) {
      await closeSocket(socket);
      throw new DaemonConnectError('closed', 'the client was closed');
    }
    const link: Link = { socket, pending: new Map(), nextId: 1, early: [], silenceTimer: undefined };
    socket.on('message', (data) => this.receive(link, data));
    socket.on('ping', () => this.heardFrom(link));
    socket.on('error', () => {}); // 'close' follows and does the work
    socket.on('close', () => this.lost(link));
    this.heardFrom(link);

    const resumeFrom = this.currentDaemon ? { epoch: this.currentDaemon.epoch, seq: this.seq } : undefined;
    let result: InitializeResult;
    try {
      result = (await this.send(link, 'initialize', {
        protocolVersion: PROTOCOL_VERSION,
        client: { name: this.options.name, version: RALPH_VERSION },
        ...(resumeFrom ? { resumeFrom } : {}),
      })) as InitializeResult;
    } catch (error) {
      link.early = null;
      clearTimeout(link.silenceTimer);
      await closeSocket(socket);
      if (error instanceof RpcRequestError && error.code === ErrorCode.ProtocolMismatch)
        throw new DaemonConnectError('protocol', error.message);
      if (error instanceof DaemonConnectError) throw error;
      throw new DaemonConnectError(
        'unreachable',
        `the Ralph daemon at ${endpoint.url} did not complete the handshake: ${(error as Error).message}`,
      );
    }
    if (this.closing) {
      await closeSocket(socket);
      throw new DaemonConnectError('closed', 'the client was closed');
    }

    this.link = link;
    this.currentClientId = result.clientId;
    this.currentDaemon = result.daemon;
    const isReconnect = this.currentSnapshot !== undefined;
    if (result.sync.kind === 'snapshot') {
      this.currentSnapshot = result.sync.snapshot;
      this.seq = result.sync.snapshot.seq;
    }
    // Open before anything is delivered, so a listener may already make requests.
    this.setStatus('open');
    if (isReconnect && result.sync.kind === 'snapshot') this.emit('snapshot', result.sync.snapshot);
    // Events are held back until the next turn of the event loop: the caller of `connect()` attaches
    // its listeners when the promise resolves, and an event that came in the same packet as the
    // initialize answer (the `clients.changed` of this very attach, say) must not go unheard.
    link.early = [...(result.sync.kind === 'resume' ? result.sync.events : []), ...(link.early ?? [])];
    setImmediate(() => {
      const held = link.early ?? [];
      link.early = null;
      if (this.link === link) for (const event of held) this.deliver(event);
    });
  }

  /** The socket closed: reject what was in flight, then reconnect (unless closed or told not to). */
  private lost(link: Link): void {
    clearTimeout(link.silenceTimer);
    this.dropLink(link, CONNECTION_LOST);
    if (this.link !== link) return; // a handshake that failed, or an old link
    this.link = null;
    if (this.closing || this.options.reconnect === false) {
      this.closing = true;
      this.setStatus('closed');
      return;
    }
    this.setStatus('reconnecting');
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      await this.sleep(backoffMs(attempt));
      if (this.closing) return;
      try {
        await this.establish();
        return;
      } catch (error) {
        if (error instanceof DaemonConnectError && error.reason === 'protocol') {
          // Retrying cannot help: the daemon speaks another protocol version.
          this.closing = true;
          this.setStatus('closed');
          this.report(error);
          return;
        }
        // Not there yet (restarting, daemon.json not written yet...): keep trying.
      }
    }
  }

  /** Waits, but wakes at once when the client is closed. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeReconnect = done;
    });
  }

  /** Any sign of life from the daemon pushes back the silence limit. */
  private heardFrom(link: Link): void {
    clearTimeout(link.silenceTimer);
    link.silenceTimer = setTimeout(() => link.socket.terminate(), SILENCE_LIMIT_MS);
    link.silenceTimer.unref();
  }

  // ---- requests and frames ----

  private send(
    link: Link,
    method: MethodName,
    params: unknown,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        reject(abortError(method, signal));
        return;
      }
      const id = link.nextId++;
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const timer = setTimeout(() => {
        link.pending.delete(id);
        pending.settle();
        reject(new Error(`${method}: no answer from the daemon within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => {
        link.pending.delete(id);
        pending.settle();
        reject(abortError(method, signal));
      };
      const pending: Pending = {
        method,
        resolve,
        reject,
        settle: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      link.pending.set(id, pending);
      const message = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      link.socket.send(JSON.stringify(message), (error) => {
        if (!error || !link.pending.has(id)) return;
        link.pending.delete(id);
        pending.settle();
        reject(new Error(`${method}: ${CONNECTION_LOST}`));
      });
    });
  }

  /** Rejects every request still waiting on this link. */
  private dropLink(link: Link, reason: string): void {
    for (const [id, pending] of link.pending) {
      link.pending.delete(id);
      pending.settle();
      pending.reject(new Error(`${pending.method}: ${reason}`));
    }
  }

  private receive(link: Link, data: RawData): void {
    this.heardFrom(link);
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      this.report(new Error('the daemon sent a frame that is not JSON'));
      return;
    }
    if (isObject(message) && message.method === EVENT_METHOD && !('id' in message)) {
      const parsed = EventEnvelope.safeParse(message.params);
      if (!parsed.success) {
        this.report(new Error(`the daemon sent an invalid event: ${describeZodError(parsed.error)}`));
        return;
      }
      if (link.early) link.early.push(parsed.data);
      else if (this.link === link) this.deliver(parsed.data);
      return;
    }
    const ok = JsonRpcSuccess.safeParse(message);
    const failed = ok.success ? undefined : JsonRpcFailure.safeParse(message);
    const id = ok.success ? ok.data.id : failed?.success ? failed.data.id : undefined;
    if (id === undefined) {
      this.report(new Error('the daemon sent a frame that is neither an event nor a response'));
      return;
    }
    if (id === null) {
      // The daemon could not read one of our frames: a bug on this side, with no request to blame.
      if (failed?.success) this.report(new RpcRequestError(failed.data.error.code, failed.data.error.message, failed.data.error.data));
      return;
    }
    const pending = link.pending.get(id);
    if (!pending) return; // answered after its timeout or abort: nobody waits any more
    link.pending.delete(id);
    pending.settle();
    if (failed?.success) {
      const { code, message: text, data: errorData } = failed.data.error;
      pending.reject(new RpcRequestError(code, text, errorData));
      return;
    }
    const result = Methods[pending.method].result.safeParse(ok.success ? ok.data.result : undefined);
    if (!result.success) {
      const error = new Error(`the daemon sent an invalid result for ${pending.method}: ${describeZodError(result.error)}`);
      pending.reject(error);
      this.report(error);
      return;
    }
    pending.resolve(result.data);
  }

  /** Each event once, in order: anything at or below the last delivered seq is a duplicate. */
  private deliver(event: EventEnvelope): void {
    if (event.seq <= this.seq) return;
    this.seq = event.seq;
    this.emit('event', event);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.emit('status', status);
  }

  /** An 'error' event without a listener would throw (EventEmitter's rule); a bad frame must never crash the caller. */
  private report(error: Error): void {
    if (this.emitter.listenerCount('error') > 0) this.emit('error', error);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function abortError(method: MethodName, signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(`${method}: aborted`);
}

/** 100 ms doubling to 2 s, each jittered to between half and all of it so clients do not reconnect in lockstep. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10), BACKOFF_MAX_MS);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Opens the WebSocket with the token; rejects with a one-line DaemonConnectError. */
function openSocket(endpoint: Endpoint, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let refusal: DaemonConnectError | undefined;
    const socket = new WebSocket(endpoint.url, {
      headers: { Authorization: `Bearer ${endpoint.token}` },
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      followRedirects: false,
    });
    socket.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const text = `${status} ${response.statusMessage ?? ''}`.trim();
      refusal =
        status === 401
          ? new DaemonConnectError(
              'unauthorized',
              `the Ralph daemon at ${endpoint.url} refused the token (HTTP ${text}); .ralph/daemon.json may be out of date`,
            )
          : status === 403
            ? new DaemonConnectError('forbidden', `the Ralph daemon at ${endpoint.url} refused the connection (HTTP ${text})`)
            : new DaemonConnectError('unreachable', `${endpoint.url} is not a Ralph daemon (HTTP ${text})`);
      response.resume();
      socket.terminate();
    });
    socket.once('open', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (refusal) return reject(refusal);
      if (/timed out/i.test(error.message)) {
        return reject(new DaemonConnectError('timeout', `the Ralph daemon at ${endpoint.url} did not answer within ${timeoutMs} ms`));
      }
      const why = error.code === 'ECONNREFUSED' ? 'connection refused (is it running?)' : error.message;
      reject(new DaemonConnectError('unreachable', `cannot reach the Ralph daemon at ${endpoint.url}: ${why}`));
    });
  });
}

/** Closes a socket politely, and cuts it if the daemon does not finish the close handshake soon. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'client closed');
    else socket.terminate();
  });
}
