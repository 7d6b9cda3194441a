/**
 * A model's text arrives in bursts: one network read can hold hundreds of deltas, which the daemon
 * reads in one go. Published one by one, each costs a bus entry, a JSON frame, a WebSocket write
 * (a system call per client) and a parse and validation in every client: enough to hold the last
 * delta of a 500-delta burst back by tens of milliseconds. The coalescer merges the deltas of one
 * text part that arrive before the event loop turns into one `chat.delta`, published on
 * `setImmediate`: a burst goes out as a few events, and a lone delta waits for nothing but the end
 * of the current turn of the loop (no timer). Reading a long burst can take the daemon several
 * milliseconds without the loop turning, so text held for MAX_HOLD_MS goes out with the next delta.
 *
 * It stands in for the bus's `publish` for everything a stream of deltas belongs with: any other
 * event published through it first publishes the delta held back, so clients see the same order
 * (text before the tool part that follows it, before the message's end).
 */
import type { EventData, EventEnvelope, EventType } from '../../protocol/index.ts';
import type { EventBus } from './bus.ts';

type Cause = EventEnvelope['cause'];
type Delta = EventData<'chat.delta'>;

/** A merged delta is published once it is this long, however fast text still comes: frames stay small. */
export const MAX_MERGED_DELTA_CHARS = 16_384;
/** Text held this long is published with the next delta, even before the loop turns. */
export const MAX_HOLD_MS = 2;

export class DeltaCoalescer {
  private readonly bus: Pick<EventBus, 'publish'>;
  /** The delta held back: the text of one part so far this turn of the loop. */
  private pending: { delta: Delta; pieces: string[]; chars: number; cause: Cause; heldSince: number } | undefined;
  private flushSoon: NodeJS.Immediate | undefined;

  constructor(bus: Pick<EventBus, 'publish'>) {
    this.bus = bus;
  }

  /**
   * The bus's `publish`, with `chat.delta` merged as above: a delta is published on the next turn
   * of the loop (or sooner, by a `flush` or any other event); every other event at once, after it.
   */
  publish<T extends EventType>(type: T, data: EventData<T>, cause?: Cause): void {
    if (type === 'chat.delta') {
      this.hold(data as Delta, cause);
      return;
    }
    this.flush();
    this.bus.publish(type, data, cause);
  }

  /** Publishes the delta held back, if there is one. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearImmediate(this.flushSoon);
    this.flushSoon = undefined;
    const delta = pending.pieces.length === 1 ? pending.delta : { ...pending.delta, delta: pending.pieces.join('') };
    this.bus.publish('chat.delta', delta, pending.cause);
  }

  private hold(delta: Delta, cause: Cause): void {
    const pending = this.pending;
    const now = performance.now();
    if (pending && samePart(pending.delta, delta) && pending.cause === cause) {
      pending.pieces.push(delta.delta);
      pending.chars += delta.delta.length;
      if (pending.chars >= MAX_MERGED_DELTA_CHARS || now - pending.heldSince >= MAX_HOLD_MS) this.flush();
      return;
    }
    this.flush();
    this.pending = { delta, pieces: [delta.delta], chars: delta.delta.length, cause, heldSince: now };
    this.flushSoon = setImmediate(() => this.flush());
  }
}

function samePart(a: Delta, b: Delta): boolean {
  return a.partId === b.partId && a.messageId === b.messageId && a.session === b.session;
}
