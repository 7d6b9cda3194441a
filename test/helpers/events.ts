/** What a connected client is told: every event it receives, recorded in order for a test to read. */
import type { RalphClient } from '../../protocol/client.ts';
import type { EventEnvelope } from '../../protocol/index.ts';

/** Every event `client` receives from now on, in order (the array grows as they arrive). */
export function recordEvents(client: RalphClient): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}
