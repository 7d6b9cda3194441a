/**
 * Collects items and hands them over together at most once per frame, so a flood of events
 * becomes one state update and one render per frame instead of one per event.
 */
export const FRAME_MS = 16;

export class FrameBatcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly deliver: (items: T[]) => void;
  private readonly frameMs: number;

  constructor(deliver: (items: T[]) => void, frameMs = FRAME_MS) {
    this.deliver = deliver;
    this.frameMs = frameMs;
  }

  push(...items: T[]): void {
    this.pending.push(...items);
    this.timer ??= setTimeout(() => this.flush(), this.frameMs);
  }

  /** Delivers what is pending now (in order) and starts a new frame. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.pending;
    this.pending = [];
    if (items.length > 0) this.deliver(items);
  }

  /** Drops what is pending; nothing is delivered after this. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
  }
}
