/**
 * The daemon's WebSocket JSON-RPC server (DESIGN.md, "Protocol"): 127.0.0.1 only, upgrade checks
 * before any socket opens, one JSON-RPC message per text frame, every event broadcast to every
 * initialized client in `seq` order. A bad message gets a JSON-RPC error; the connection stays up.
 *
 * Message size has two caps. `ws` enforces `maxPayload` by closing the connection (1009), which a
 * client cannot learn from; so `ws` gets a larger hard cap (16 MiB by default), and a message between
 * the soft cap (`maxMessageBytes`, 1 MiB) and the hard one is answered with a MessageTooLarge error
 * while the connection stays up. Only beyond the hard cap is the connection closed.
 *
 * Nothing a peer sends may stop the daemon: the HTTP and upgrade paths answer anything they cannot
 * handle with a 4xx, and a failure while answering one client is answered (InternalError) or closes
 * that connection only, and is logged (`receive`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { z } from 'zod';
import {
  DESCRIBED_ISSUES_MAX,
  ErrorCode,
  InvalidTransitionError,
  Methods,
  PROTOCOL_VERSION,
  RALPH_VERSION,
  RpcError,
  errorLine,
  describeZodError,
  failure,
  success,
  type Capability,
  type ClientInfo,
  type JsonRpcErrorObject,
  type MethodName,
  type RequestId,
  type ResultOf,
} from '../../protocol/index.ts';
import { DomainError, type DomainErrorKind } from '../errors.ts';
import { ClientConnection, CloseCode } from './connection.ts';
import type { DaemonServices, HandlerTable, RequestContext } from './context.ts';
import { decodeFrame } from './frames.ts';
import { createHandlers } from './handlers/index.ts';
import { buildSnapshot } from './snapshot.ts';
import { checkUpgrade, isRootTarget, refuseUpgrade } from './upgrade.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_HARD_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_PING_INTERVAL_MS = 30_000;

export interface RpcServerOptions {
  services: DaemonServices;
  /** The bearer token clients must present. */
  token: string;
  /** 0 (default): a free port chosen by the system. */
  port?: number;
  capabilities: Capability[];
  /** Soft cap: larger messages get a MessageTooLarge error. */
  maxMessageBytes?: number;
  /** Hard cap (`ws` maxPayload): larger messages close the connection. At least the soft cap. */
  hardMaxMessageBytes?: number;
  /** A client whose backlog of unsent events grows past this is closed as too slow (1013). */
  maxBufferedBytes?: number;
  /** Keep-alive: a ping this often; a peer that has not answered the previous one is dropped. */
  pingIntervalMs?: number;
  /** Development check: validate every result against its method's schema (tests turn it on). */
  checkResults?: boolean;
  /** Applied to every result and error before it is sent: the daemon's secrets never reach a client. */
  redact?: <T>(value: T) => T;
}

/** The JSON-RPC code of each kind of refusal the services throw (daemon/errors.ts). */
const DOMAIN_ERROR_CODES: Record<DomainErrorKind, ErrorCode> = {
  'not-found': ErrorCode.NotFound,
  conflict: ErrorCode.Conflict,
  unavailable: ErrorCode.Unavailable,
  'invalid-input': ErrorCode.InvalidParams,
};

/** A handler as the dispatcher calls it: params are validated just before, by the same method's schema. */
type AnyHandler = (params: unknown, request: RequestContext) => unknown;

export class RpcServer {
  /** `ws://127.0.0.1:<port>`, set once listening. */
  url = '';
  private readonly services: DaemonServices;
  private readonly token: string;
  private readonly capabilities: Capability[];
  private readonly maxMessageBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly checkResults: boolean;
  private readonly redact: <T>(value: T) => T;
  private readonly handlers: HandlerTable;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** Every open connection, in the order they came; the initialized ones get events. */
  private readonly connections = new Map<string, ClientConnection>();
  private readonly unsubscribe: () => void;
  private readonly pingTimer: NodeJS.Timeout;
  private nextClientNumber = 1;
  private closing: Promise<void> | undefined;
  private allDisconnected: (() => void) | undefined;

  private constructor(options: RpcServerOptions) {
    this.services = options.services;
    this.token = options.token;
    this.capabilities = options.capabilities;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.checkResults = options.checkResults ?? false;
    this.redact = options.redact ?? ((value) => value);
    this.handlers = createHandlers(this.services);

    this.http = createServer((request, response) => this.answerPlainHttp(request, response));
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    // Without a listener Node would drop a CONNECT without an answer; it gets its 4xx like any other request.
    this.http.on('connect', (_request: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {});
      refuseUpgrade(socket, { status: 405, message: 'CONNECT is not supported' });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(options.hardMaxMessageBytes ?? DEFAULT_HARD_MAX_MESSAGE_BYTES, this.maxMessageBytes),
      // Invalid UTF-8 would make ws close the connection (1007); frames.ts answers it with a ParseError instead.
      skipUTF8Validation: true,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.unsubscribe = this.services.bus.subscribe((event) => this.broadcast(event.frame));
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  /** Listens on 127.0.0.1 (never another interface). */
  static async start(options: RpcServerOptions): Promise<RpcServer> {
    const server = new RpcServer(options);
    try {
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port ?? 0, '127.0.0.1', () => {
          server.http.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await server.close('failed to start');
      throw error;
    }
    server.http.on('error', (error) => server.services.log(`server error: ${error.message}`));
    server.url = `ws://127.0.0.1:${(server.http.address() as AddressInfo).port}`;
    return server;
  }

  /** The initialized clients, in attach order. */
  clients(): ClientInfo[] {
    const clients: ClientInfo[] = [];
    for (const connection of this.connections.values()) if (connection.info) clients.push(connection.info);
    return clients;
  }

  /** The largest backlog of unsent bytes among the clients (the benchmark paces itself by it). */
  maxClientBacklog(): number {
    let max = 0;
    for (const connection of this.connections.values()) max = Math.max(max, connection.socket.bufferedAmount);
    return max;
  }

  /** Closes every client (1001) and stops listening. Idempotent. */
  close(reason = 'daemon stopping'): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.pingTimer);
      this.unsubscribe();
      if (this.connections.size > 0) {
        const disconnected = new Promise<void>((resolve) => (this.allDisconnected = resolve));
        for (const connection of this.connections.values()) connection.close(CloseCode.GoingAway, reason);
        await disconnected; // bounded: a connection that does not finish closing is cut (connection.ts)
      }
      this.wss.close();
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
    })();
    return this.closing;
  }

  private answerPlainHttp(request: IncomingMessage, response: ServerResponse): void {
    try {
      const [status, text] = isRootTarget(request.url) ? [426, 'this is a Ralph daemon: connect with a WebSocket'] : [404, 'not found'];
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      response.end(`${text}\n`);
    } catch (error) {
      this.services.log(`plain HTTP request not answered: ${errorLine(error, ERROR_LINE_MAX)}`);
      response.destroy();
    }
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a peer resetting mid-handshake is not the daemon's problem
    try {
      if (this.closing) {
        socket.destroy();
        return;
      }
      const refusal = checkUpgrade(request, this.token);
      if (refusal) {
        refuseUpgrade(socket, refusal);
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws));
    } catch (error) {
      // A bug, but the peer's: whatever it sent, it gets a 4xx and the daemon goes on.
      this.services.log(`upgrade refused after an error: ${errorLine(error, ERROR_LINE_MAX)}`);
      refuseUpgrade(socket, { status: 400, message: 'bad request' });
    }
  }

  private attach(socket: WebSocket): void {
    if (this.closing) {
      socket.terminate(); // its handshake finished after close() began
      return;
    }
    const connection: ClientConnection = new ClientConnection(`c${this.nextClientNumber++}`, socket, {
      maxBufferedBytes: this.maxBufferedBytes,
      onTooSlow: (backlog) =>
        this.services.log(
          `client ${connection.id} (${connection.info?.name ?? 'not initialized'}) is too slow: ${backlog} bytes unsent; closed (1013)`,
        ),
    });
    this.connections.set(connection.id, connection);
    socket.on('message', (data, isBinary) => {
      connection.alive = true;
      this.receive(connection, data, isBinary);
    });
    socket.on('pong', () => {
      connection.alive = true;
    });
    // ws reports protocol violations (e.g. a frame over the hard cap) here, then closes the socket.
    socket.on('error', (error) => this.services.log(`client ${connection.id}: ${error.message}`));
    socket.on('close', () => this.detach(connection));
  }

  private detach(connection: ClientConnection): void {
    this.connections.delete(connection.id);
    if (this.closing) {
      if (this.connections.size === 0) this.allDisconnected?.();
      return;
    }
    if (connection.info) this.services.bus.publish('clients.changed', { clients: this.clients() });
  }

  private broadcast(frame: string): void {
    for (const connection of this.connections.values()) if (connection.info) connection.send(frame);
  }

  private pingAll(): void {
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }

  /**
   * One message from a client, answered. The one place a failure while answering a client ends up
   * (decoding, initialize, dispatch, serializing the reply): that client gets an InternalError, or,
   * if even that cannot be sent, its connection is closed (1011). The daemon and the other clients
   * go on either way.
   */
  private receive(connection: ClientConnection, data: RawData, isBinary: boolean): void {
    let id: RequestId | null = null;
    let method = 'a message';
    const failed = (error: unknown): void => this.answerFailure(connection, id, method, error);
    try {
      const frame = decodeFrame(toBuffer(data), isBinary, this.maxMessageBytes);
      if (frame.kind === 'notification') return;
      if (frame.kind === 'error') {
        this.replyError(connection, frame.id, frame.error);
        return;
      }
      ({ id, method } = frame);
      if (frame.method === 'initialize') {
        this.initialize(connection, frame.id, frame.params);
        return;
      }
      this.dispatch(connection, frame.id, frame.method, frame.params).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  private answerFailure(connection: ClientConnection, id: RequestId | null, method: string, error: unknown): void {
    this.services.log(
      `internal error answering ${method} for client ${connection.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    try {
      this.replyError(connection, id, {
        code: ErrorCode.InternalError,
        message: `internal error in ${method}: ${errorLine(error, ERROR_LINE_MAX)}`,
      });
    } catch {
      connection.close(CloseCode.InternalError, 'internal error');
    }
  }

  /**
   * The handshake. Registering the client for events, building its snapshot (or its list of missed
   * events) and sending the answer happen in one synchronous step: no event can fall between them,
   * so the client gets every event after its snapshot exactly once.
   */
  private initialize(connection: ClientConnection, id: RequestId, rawParams: unknown): void {
    if (connection.info) {
      this.replyError(connection, id, { code: ErrorCode.InvalidRequest, message: 'this connection is already initialized' });
      return;
    }
    const parsed = Methods.initialize.params.safeParse(rawParams);
    if (!parsed.success) {
      this.replyError(connection, id, invalidParams('initialize', parsed.error));
      return;
    }
    const params = parsed.data;
    if (params.protocolVersion !== PROTOCOL_VERSION) {
      this.replyError(connection, id, {
        code: ErrorCode.ProtocolMismatch,
        message:
          `protocol version ${params.protocolVersion} is not supported: this daemon speaks ${PROTOCOL_VERSION} ` +
          `(Ralph ${RALPH_VERSION}); update the client or restart the daemon`,
      });
      return;
    }

    const { bus } = this.services;
    connection.info = { id: connection.id, name: params.client.name, connectedAt: new Date().toISOString() };
    try {
      const missed = params.resumeFrom?.epoch === bus.epoch ? bus.since(params.resumeFrom.seq) : null;
      const result: ResultOf<'initialize'> = {
        protocolVersion: PROTOCOL_VERSION,
        daemon: this.services.info,
        capabilities: this.capabilities,
        clientId: connection.id,
        sync: missed
          ? { kind: 'resume', events: missed.map((event) => event.envelope) }
          : { kind: 'snapshot', snapshot: buildSnapshot(this.services) },
      };
      this.replyResult(connection, id, 'initialize', result);
    } catch (error) {
      connection.info = undefined; // not attached: it may try again
      throw error;
    }
    bus.publish('clients.changed', { clients: this.clients() });
  }

  private async dispatch(
    connection: ClientConnection,
    id: RequestId,
    method: Exclude<MethodName, 'initialize'>,
    rawParams: unknown,
  ): Promise<void> {
    const client = connection.info;
    if (!client) {
      this.replyError(connection, id, { code: ErrorCode.NotInitialized, message: `call initialize before ${method}` });
      return;
    }
    const parsed = Methods[method].params.safeParse(rawParams);
    if (!parsed.success) {
      this.replyError(connection, id, invalidParams(method, parsed.error));
      return;
    }
    try {
      const handler = this.handlers[method] as AnyHandler;
      const result = await handler(parsed.data, { client, cause: { client: client.id, request: id } });
      this.replyResult(connection, id, method, result);
    } catch (error) {
      this.replyError(connection, id, this.toRpcError(method, error));
    }
  }

  private replyResult(connection: ClientConnection, id: RequestId, method: MethodName, result: unknown): void {
    if (this.checkResults) {
      const checked = Methods[method].result.safeParse(result);
      if (!checked.success) {
        this.services.log(`BUG: ${method} returned a result that fails its schema: ${describeZodError(checked.error)}`);
        this.replyError(connection, id, { code: ErrorCode.InternalError, message: `internal error: ${method} produced an invalid result` });
        return;
      }
    }
    connection.send(JSON.stringify(success(id, this.redact(result))), 'response');
  }

  private replyError(connection: ClientConnection, id: RequestId | null, error: JsonRpcErrorObject): void {
    connection.send(JSON.stringify(failure(id, this.redact(error))), 'response');
  }

  /**
   * The one place errors become JSON-RPC errors: a service's refusal (a domain error) gets its kind's
   * code, a handler's RpcError keeps its own; anything else is a bug, logged here with its stack.
   */
  private toRpcError(method: MethodName, error: unknown): JsonRpcErrorObject {
    if (error instanceof RpcError) return error.toJSON();
    if (error instanceof DomainError) return domainRpcError(error);
    if (error instanceof InvalidTransitionError) return { code: ErrorCode.InvalidTransition, message: error.message };
    this.services.log(`internal error in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { code: ErrorCode.InternalError, message: `internal error in ${method}: ${errorLine(error, ERROR_LINE_MAX)}` };
  }
}

/** A service's refusal as the client gets it: its kind's code, its message and its data. */
export function domainRpcError(error: DomainError): JsonRpcErrorObject {
  const code = DOMAIN_ERROR_CODES[error.kind];
  return error.data === undefined ? { code, message: error.message } : { code, message: error.message, data: error.data };
}

function invalidParams(method: MethodName, error: z.ZodError): JsonRpcErrorObject {
  return {
    code: ErrorCode.InvalidParams,
    message: `invalid params for ${method}: ${describeZodError(error)}`,
    // The first few, like the message: a bad array can have an issue per element.
    data: {
      issues: error.issues.slice(0, DESCRIBED_ISSUES_MAX).map((issue) => ({ path: issue.path.map(String), message: issue.message })),
    },
  };
}

/** How much of an unexpected error a client or a log line is told: its first line, at most this many UTF-16 units. */
const ERROR_LINE_MAX = 200;

/** ws hands text and binary messages over as one Buffer by default; the other shapes are for other binaryTypes. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
