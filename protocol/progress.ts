/**
 * A unit of long work as its progress.* events make it: begun, then changed by each report. The
 * daemon keeps the units in progress for the snapshot and the TUI draws them; both build them here,
 * so a terminal that attached late draws the same bar as one that saw every event.
 */
import type { EventData } from './events.ts';
import type { ProgressUnit } from './research.ts';

/** The unit a progress.begin starts; `time` is the event's. */
export function beginUnit(begin: EventData<'progress.begin'>, time: string): ProgressUnit {
  const { token, kind, title, total, parent } = begin;
  const unit: ProgressUnit = { token, kind, title, startedAt: time };
  if (total !== undefined) unit.total = total;
  if (parent !== undefined) unit.parent = parent;
  return unit;
}

/** The unit after a progress.report (a copy): only what the report carries changes, the rest is kept from earlier reports. */
export function reportOnUnit<Unit extends ProgressUnit>(unit: Unit, report: EventData<'progress.report'>): Unit {
  const { token: _token, ...changes } = report;
  const next: Unit = { ...unit };
  for (const [key, value] of Object.entries(changes)) if (value !== undefined) Object.assign(next, { [key]: value });
  return next;
}
