/** The state a client draws from: built in one synchronous step so it matches `bus.lastSeq` exactly. */
import type { Snapshot } from '../../protocol/index.ts';
import type { DaemonServices } from './context.ts';

export function buildSnapshot(services: DaemonServices): Snapshot {
  const { bus, store } = services;
  return {
    seq: bus.lastSeq,
    repo: services.repo(),
    daemon: services.info,
    goals: store.list(),
    invalid: store.invalid(),
    clients: services.clients(),
    chat: services.chat.snapshot(),
    progress: services.progress.active(),
    pipeline: services.pipeline(),
  };
}
