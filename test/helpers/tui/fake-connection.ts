/**
 * An in-memory DaemonConnection: the transport replaced by a queue the test feeds with real
 * protocol objects, and a request handler the test writes (the daemon's side of one exchange).
 * Answers are checked against the protocol's result schemas, as the real client does. Reads the TUI
 * makes by itself (a log page, the chat history, the model) have plain defaults when the handler
 * returns `undefined` for them.
 */
import { EventEmitter } from 'node:events';
import {
  ErrorCode,
  Methods,
  RpcError,
  type EventEnvelope,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type Snapshot,
} from '../../../protocol/index.ts';
import type { ConnectionStatus, DaemonConnection, DaemonConnectionEvents, DaemonConnectionListener } from '../../../tui/app/connection.ts';

export interface SentRequest {
  method: MethodName;
  params: unknown;
}

/** Answers a request or throws (the rejection the client would give for a JSON-RPC error); `undefined`: the default answer. */
export type RequestHandler = (method: MethodName, params: unknown) => unknown;

/** The methods the TUI calls by itself, to read. */
export const READ_METHODS: readonly MethodName[] = ['logs.read', 'chat.history', 'models.list', 'inbox.list'];

export class FakeConnection implements DaemonConnection {
  readonly snapshot: Snapshot;
  status: ConnectionStatus = 'open';
  lastSeq: number;
  readonly requests: SentRequest[] = [];
  closed = false;
  private readonly emitter = new EventEmitter<DaemonConnectionEvents>();
  private readonly handle: RequestHandler;

  constructor(snapshot: Snapshot, handle: RequestHandler = () => undefined) {
    this.snapshot = snapshot;
    this.lastSeq = snapshot.seq;
    this.handle = handle;
  }

  on<E extends keyof DaemonConnectionEvents>(event: E, listener: DaemonConnectionListener<E>): this {
    // The emitter's own listener type is a conditional type TS cannot match to ours; they are the same.
    this.emitter.on(event, listener as never);
    return this;
  }

  off<E extends keyof DaemonConnectionEvents>(event: E, listener: DaemonConnectionListener<E>): this {
    this.emitter.off(event, listener as never);
    return this;
  }

  listenerCount(event: keyof DaemonConnectionEvents): number {
    return this.emitter.listenerCount(event);
  }

  async request<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    this.requests.push({ method, params });
    await Promise.resolve(); // answers come later, as they would over a socket
    const answer = this.handle(method, params) ?? this.defaultAnswer(method, params);
    return Methods[method].result.parse(answer) as ResultOf<M>;
  }

  /** The requests other than the TUI's own reads: what the keys asked for. */
  actions(): SentRequest[] {
    return this.requests.filter((request) => !READ_METHODS.includes(request.method));
  }

  private defaultAnswer(method: MethodName, params: unknown): unknown {
    switch (method) {
      case 'logs.read':
        return { entries: [], next: 0, total: 0 };
      case 'chat.history':
        return { session: this.snapshot.chat.session, messages: [], more: false };
      case 'models.list':
        throw new RpcError(ErrorCode.Unavailable, 'no model table in this test');
      case 'inbox.list':
        return { questions: this.snapshot.questions, invalid: [] };
      default:
        throw new Error(`no handler for ${method} ${JSON.stringify(params)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setStatus('closed');
  }

  pushEvent(event: EventEnvelope): void {
    this.lastSeq = event.seq;
    this.emitter.emit('event', event);
  }

  pushSnapshot(snapshot: Snapshot): void {
    this.lastSeq = snapshot.seq;
    this.emitter.emit('snapshot', snapshot);
  }

  pushError(error: Error): void {
    this.emitter.emit('error', error);
  }

  setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.emitter.emit('status', status);
  }
}
