/**
 * The daemon's single ordered event stream. Every state change is published here once: it gets
 * the next `seq`, is serialized once (the same frame goes to every client), and is kept in a
 * bounded ring so a client that reconnects can be sent exactly what it missed.
 */
import { randomUUID } from 'node:crypto';
import { EVENT_METHOD, type EventData, type EventEnvelope, type EventType } from '../../protocol/index.ts';

export interface PublishedEvent {
  envelope: EventEnvelope;
  /** The JSON-RPC notification, serialized once for every client. */
  frame: string;
}

export type EventListener = (event: PublishedEvent) => void;

export class EventBus {
  /** Identifies this daemon run: seqs from another run mean nothing here. */
  readonly epoch: string = randomUUID();
  private seq = 0;
  private readonly ring: (PublishedEvent | undefined)[];
  private readonly listeners = new Set<EventListener>();
  readonly capacity: number;

  /** Applied to every event's data before it is kept or sent: the daemon's secrets never reach a client. */
  private readonly redact: <T>(data: T) => T;

  constructor(capacity = 10_000, redact: <T>(data: T) => T = (data) => data) {
    this.capacity = capacity;
    this.redact = redact;
    this.ring = new Array<PublishedEvent | undefined>(capacity);
  }

  get lastSeq(): number {
    return this.seq;
  }

  publish<T extends EventType>(type: T, data: EventData<T>, cause?: EventEnvelope['cause']): PublishedEvent {
    const seq = ++this.seq;
    const envelope = { seq, time: new Date().toISOString(), type, data: this.redact(data) } as EventEnvelope;
    if (cause) envelope.cause = cause;
    const frame = JSON.stringify({ jsonrpc: '2.0', method: EVENT_METHOD, params: envelope });
    const event: PublishedEvent = { envelope, frame };
    this.ring[seq % this.capacity] = event;
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * The events after `seq`, oldest first; null when some of them are no longer kept (or `seq`
   * is from the future), in which case the client needs a fresh snapshot.
   */
  since(seq: number): PublishedEvent[] | null {
    if (seq > this.seq) return null;
    if (this.seq - seq > this.capacity) return null;
    const missed: PublishedEvent[] = [];
    for (let s = seq + 1; s <= this.seq; s++) {
      const event = this.ring[s % this.capacity];
      if (!event || event.envelope.seq !== s) return null;
      missed.push(event);
    }
    return missed;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
