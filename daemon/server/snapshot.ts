/** The state a client draws from: built in one synchronous step so it matches `bus.lastSeq` exactly. */
import type { ClientSettings, Snapshot } from '../../protocol/index.ts';
import type { ConfigService } from '../config/config-service.ts';
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
    spend: services.spend(),
    settings: clientSettings(services.config),
    questions: services.inbox.openQuestions(),
    landing: services.landing.state(),
    ...(services.queue ? { queue: services.queue() } : {}),
  };
}

/** What clients take from the config in force (the snapshot has it; `config.changed` carries it again on a reload). */
export function clientSettings(config: Pick<ConfigService, 'config' | 'provider'>): ClientSettings {
  return {
    chatModel: config.provider('chat').model,
    tuiKeys: { ...config.config.tui.keys },
    maxIterations: config.config.executor.maxIterations,
  };
}
