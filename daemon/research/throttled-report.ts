/**
 * progress.report for one unit, at most one every `intervalMs`: an agent streaming deltas or
 * running quick tools changes state far more often than a progress bar needs to be redrawn, and
 * every report is a frame to every client. Changes in between are merged; the latest value wins.
 */
import type { EventData } from '../../protocol/index.ts';

export type ReportChanges = Omit<EventData<'progress.report'>, 'token'>;

/** About ten reports a second per unit at most. */
export const REPORT_INTERVAL_MS = 100;

export class ThrottledReport {
  private readonly send: (changes: ReportChanges) => void;
  private readonly intervalMs: number;
  private pending: ReportChanges | undefined;
  private lastSent = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(send: (changes: ReportChanges) => void, intervalMs = REPORT_INTERVAL_MS) {
    this.send = send;
    this.intervalMs = intervalMs;
  }

  report(changes: ReportChanges): void {
    if (this.closed) return;
    this.pending = { ...this.pending, ...changes };
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now (before the unit's progress.end, so the last state is never lost). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const changes = this.pending;
    this.pending = undefined;
    this.lastSent = performance.now();
    this.send(changes);
  }

  /** Sends what is pending and stops: later reports are dropped. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
