/**
 * The long work in progress now, followed from the bus's progress.* events: what a terminal that
 * attaches late needs to draw the same progress bars as the others (it goes into the snapshot).
 */
import type { ProgressUnit } from '../../protocol/index.ts';
import type { EventBus } from './bus.ts';

export class ProgressTracker {
  private readonly units = new Map<string, ProgressUnit>();
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus) {
    this.unsubscribe = bus.subscribe(({ envelope }) => {
      switch (envelope.type) {
        case 'progress.begin': {
          const { token, kind, title, total, parent } = envelope.data;
          const unit: ProgressUnit = { token, kind, title, startedAt: envelope.time };
          if (total !== undefined) unit.total = total;
          if (parent !== undefined) unit.parent = parent;
          this.units.set(token, unit);
          break;
        }
        case 'progress.report': {
          const unit = this.units.get(envelope.data.token);
          if (!unit) break;
          const { token: _token, ...changes } = envelope.data;
          // Only what the report carries changes; undefined fields keep the earlier value.
          for (const [key, value] of Object.entries(changes)) if (value !== undefined) Object.assign(unit, { [key]: value });
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
