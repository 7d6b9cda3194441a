/** daemon.* methods: status for `ralph daemon status`, and a clean shutdown on request. */
import type { DaemonServices, HandlerTable } from '../context.ts';

export function daemonHandlers(services: DaemonServices): Pick<HandlerTable, 'daemon.status' | 'daemon.shutdown'> {
  const { store, bus } = services;
  return {
    'daemon.status': () => ({
      daemon: services.info,
      url: services.url(),
      repo: services.repo(),
      clients: services.clients(),
      goals: store.counts(),
      invalidGoals: store.invalid().length,
      seq: bus.lastSeq,
      pipeline: services.pipeline(),
      spend: services.spend(),
      ...(services.queue ? { queue: services.queue() } : {}),
    }),
    'daemon.shutdown': (_params, { client }) => {
      // Deferred by the daemon until this answer is on its way, so the caller learns the stop was accepted.
      services.requestShutdown(`shutdown requested by ${client.name} (client ${client.id})`);
      return { stopping: true };
    },
  };
}
