/**
 * The daemon's single ordered event stream. Every state change is published here once: it gets
 * the next `seq`, is serialized once (the same frame goes to every client), and is kept in a
 * bounded ring so a client that reconnects can be sent exactly what it missed.
 *
 * The ring is bounded by count and by bytes: a `goal.updated` carries the whole goal, so 400 edits
 * of a large spec were hundreds of MB kept by count alone. Past either bound the oldest events go;
 * a client resuming from before them gets a fresh snapshot. A frame larger than the byte bound is
 * sent but not kept at all.
 */
import { randomUUID } from 'node:crypto';
import { EVENT_METHOD, type EventData, type EventEnvelope, type EventType } from '../../protocol/index.ts';

export interface PublishedEvent {
  envelope: EventEnvelope;
  /** The JSON-RPC notification, serialized once for every client. */
  frame: string;
}

export type EventListener = (event: PublishedEvent) => void;

/**
 * Bytes of frames (UTF-8, as sent) the resume buffer keeps by default. Each event's data object is
 * kept beside its frame, so the memory held can be about twice this.
 */
export const DEFAULT_RESUME_BUFFER_BYTES = 32 * 1024 * 1024;

export class EventBus {
  /** Identifies this daemon run: seqs from another run mean nothing here. */
  readonly epoch: string = randomUUID();
  private seq = 0;
  private readonly ring: (PublishedEvent | undefined)[];
  /** The byte size of each kept frame, in the ring's slots. */
  private readonly ringBytes: Float64Array;
  private readonly listeners = new Set<EventListener>();
  readonly capacity: number;
  /** At most this many bytes of frames are kept for resuming. */
  readonly maxBytes: number;
  private keptBytes = 0;
  /** The oldest seq still kept; `seq + 1` when none is. */
  private oldestKept = 1;

  /** Applied to every event's data before it is kept or sent: the daemon's secrets never reach a client. */
  private readonly redact: <T>(data: T) => T;

  constructor(capacity = 10_000, redact: <T>(data: T) => T = (data) => data, maxBytes = DEFAULT_RESUME_BUFFER_BYTES) {
    this.capacity = capacity;
    this.redact = redact;
    this.maxBytes = maxBytes;
    this.ring = new Array<PublishedEvent | undefined>(capacity);
    this.ringBytes = new Float64Array(capacity);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The bytes of the frames kept for resuming now (never more than `maxBytes`). */
  get bufferedBytes(): number {
    return this.keptBytes;
  }

  publish<T extends EventType>(type: T, data: EventData<T>, cause?: EventEnvelope['cause']): PublishedEvent {
    const seq = ++this.seq;
    const envelope = { seq, time: new Date().toISOString(), type, data: this.redact(data) } as EventEnvelope;
    if (cause) envelope.cause = cause;
    const frame = JSON.stringify({ jsonrpc: '2.0', method: EVENT_METHOD, params: envelope });
    const event: PublishedEvent = { envelope, frame };
    this.keep(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * The events after `seq`, oldest first; null when some of them are no longer kept (or `seq`
   * is from the future), in which case the client needs a fresh snapshot.
   */
  since(seq: number): PublishedEvent[] | null {
    if (seq > this.seq) return null;
    if (seq < this.seq && seq + 1 < this.oldestKept) return null;
    const missed: PublishedEvent[] = [];
    for (let s = seq + 1; s <= this.seq; s++) {
      const event = this.ring[s % this.capacity];
      if (!event || event.envelope.seq !== s) return null;
      missed.push(event);
    }
    return missed;
  }

  private keep(event: PublishedEvent): void {
    const { seq } = event.envelope;
    if (seq - this.oldestKept >= this.capacity) this.dropOldest(); // its slot is the one reused
    const slot = seq % this.capacity;
    const bytes = Buffer.byteLength(event.frame);
    this.ring[slot] = event;
    this.ringBytes[slot] = bytes;
    this.keptBytes += bytes;
    while (this.keptBytes > this.maxBytes && this.oldestKept <= seq) this.dropOldest();
  }

  private dropOldest(): void {
    const slot = this.oldestKept % this.capacity;
    this.keptBytes -= this.ringBytes[slot]!;
    this.ring[slot] = undefined;
    this.ringBytes[slot] = 0;
    this.oldestKept++;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
