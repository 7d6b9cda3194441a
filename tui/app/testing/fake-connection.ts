/**
 * An in-memory DaemonConnection: the transport replaced by a queue the test feeds with real
 * protocol objects, and a request handler the test writes (the daemon's side of one exchange).
 */
import { EventEmitter } from 'node:events';
import type { EventEnvelope, MethodName, ParamsOf, ResultOf, Snapshot } from '../../../protocol/index.ts';
import type { ConnectionStatus, DaemonConnection, DaemonConnectionEvents, DaemonConnectionListener } from '../connection.ts';

export interface SentRequest {
  method: MethodName;
  params: unknown;
}

/** Answers a request or throws (the rejection the client would give for a JSON-RPC error). */
export type RequestHandler = (method: MethodName, params: unknown) => unknown;

export class FakeConnection implements DaemonConnection {
  readonly snapshot: Snapshot;
  status: ConnectionStatus = 'open';
  lastSeq: number;
  readonly requests: SentRequest[] = [];
  closed = false;
  private readonly emitter = new EventEmitter<DaemonConnectionEvents>();
  private readonly handle: RequestHandler;

  constructor(snapshot: Snapshot, handle: RequestHandler = (method) => { throw new Error(`no handler for ${method}`); }) {
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
    return this.handle(method, params) as ResultOf<M>;
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
