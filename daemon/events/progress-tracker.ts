/**
 * The long work in progress now, followed from the bus's progress.* events: what a terminal that
 * attaches late needs to draw the same progress bars as the others (it goes into the snapshot).
 */
import { beginUnit, reportOnUnit, type ProgressUnit } from '../../protocol/index.ts';
import type { EventBus } from './bus.ts';

export class ProgressTracker {
  private readonly units = new Map<string, ProgressUnit>();
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus) {
    this.unsubscribe = bus.subscribe(({ envelope }) => {
      switch (envelope.type) {
        case 'progress.begin':
          this.units.set(envelope.data.token, beginUnit(envelope.data, envelope.time));
          break;
        case 'progress.report': {
          const unit = this.units.get(envelope.data.token);
          if (unit) this.units.set(unit.token, reportOnUnit(unit, envelope.data));
          break;
        }
        case 'progress.end':
          this.units.delete(envelope.data.token);
          break;
      }
    });
  }

  /** The units in progress, oldest first (copies: the snapshot must not change under a client). */
  active(): ProgressUnit[] {
    return [...this.units.values()].map((unit) => ({ ...unit }));
  }

  close(): void {
    this.unsubscribe();
  }
}
