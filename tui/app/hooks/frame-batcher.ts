/**
 * Collects items and hands them over together at most once per frame, so a flood of events
 * becomes one state update and one render per frame instead of one per event.
 */

/** A frame when events come now and then: what arrives after a quiet spell is drawn within ~16 ms. */
export const FRAME_MS = 16;
/**
 * A frame while events keep coming (the last delivery was a frame ago): ~30 per second, Ink's
 * own default. A log flood then costs half the drawing (and the garbage it makes), which keeps
 * the TUI's memory and its answer to keys in bounds (bench/tui.ts); keys are never batched.
 */
export const BUSY_FRAME_MS = 33;

export class FrameBatcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDelivery = -Infinity;
  private readonly deliver: (items: T[]) => void;
  private readonly frameMs: number;
  private readonly busyFrameMs: number;

  constructor(deliver: (items: T[]) => void, frameMs = FRAME_MS, busyFrameMs = BUSY_FRAME_MS) {
    this.deliver = deliver;
    this.frameMs = frameMs;
    this.busyFrameMs = Math.max(frameMs, busyFrameMs);
  }

  push(...items: T[]): void {
    this.pending.push(...items);
    if (this.timer) return;
    const busy = performance.now() - this.lastDelivery <= this.busyFrameMs;
    this.timer = setTimeout(() => this.flush(), busy ? this.busyFrameMs : this.frameMs);
  }

  /** Delivers what is pending now (in order) and starts a new frame. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.pending;
    this.pending = [];
    if (items.length === 0) return;
    this.lastDelivery = performance.now();
    this.deliver(items);
  }

  /** Drops what is pending; nothing is delivered after this. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
  }
}
