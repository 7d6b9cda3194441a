/**
 * What clients see of the queue (protocol/queue.ts): whether Redis answers, and which worker runs
 * each remote goal the daemon follows. The reachability comes from the executor's connection; a
 * goal's worker from the lines its log relays (every line a worker writes carries its name, so a
 * worker that takes over a stalled attempt shows at its first line). Every change reaches every
 * client as one `queue.changed` with the whole status.
 */
import { type QueueStatus, workerName } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';

export class QueueStatusBoard {
  private readonly bus: EventBus;
  private readonly url: string;
  private reachableNow = false;
  /** The goals whose logs are relayed from the queue now (the executor follows their streams). */
  private readonly followed = new Set<number>();
  /** Goal → the worker its log last named. */
  private readonly workers = new Map<number, string>();
  private readonly unsubscribe: () => void;
  private announcing = false;

  /** `url` as it may be shown (its password hidden). */
  constructor(bus: EventBus, url: string) {
    this.bus = bus;
    this.url = url;
    this.unsubscribe = bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'log.appended' || !this.followed.has(envelope.data.goalId)) return;
      let named: string | null = null;
      for (const entry of envelope.data.entries) named = workerName(entry.worker) ?? named;
      if (named === null || this.workers.get(envelope.data.goalId) === named) return;
      this.workers.set(envelope.data.goalId, named);
      this.changed();
    });
  }

  get reachable(): boolean {
    return this.reachableNow;
  }

  setReachable(reachable: boolean): void {
    if (reachable === this.reachableNow) return;
    this.reachableNow = reachable;
    this.changed();
  }

  /** The goal's log is relayed from the queue from now on: the worker its lines name is its worker. */
  follow(goalId: number): void {
    this.followed.add(goalId);
  }

  /** The goal's attempt is over here: it has no worker any more. */
  forget(goalId: number): void {
    this.followed.delete(goalId);
    if (this.workers.delete(goalId)) this.changed();
  }

  status(): QueueStatus {
    const workers = [...this.workers].sort(([a], [b]) => a - b).map(([goalId, worker]) => ({ goalId, worker }));
    return { url: this.url, reachable: this.reachableNow, workers };
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Announced once the event that caused it has reached every listener (the bus calls them while it
   * publishes: publishing from inside one would put this event before that one), and once for a
   * burst of changes.
   */
  private changed(): void {
    if (this.announcing) return;
    this.announcing = true;
    queueMicrotask(() => {
      this.announcing = false;
      this.bus.publish('queue.changed', this.status());
    });
  }
}
