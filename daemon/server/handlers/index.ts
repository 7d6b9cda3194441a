/** The table of every method handler. Its type demands one handler per method of protocol/methods.ts. */
import type { DaemonServices, HandlerTable } from '../context.ts';
import { agentHandlers, configAgentSettings } from './agents.ts';
import { chatHandlers } from './chat.ts';
import { daemonHandlers } from './daemon.ts';
import { goalHandlers } from './goals.ts';
import { inboxHandlers } from './inbox.ts';
import { landHandlers } from './land.ts';
import { logHandlers } from './logs.ts';
import { modelHandlers } from './models.ts';
import { pipelineHandlers } from './pipeline.ts';
import { researchHandlers } from './research.ts';

export function createHandlers(services: DaemonServices): HandlerTable {
  return {
    ...goalHandlers(services),
    ...landHandlers(services),
    ...logHandlers(services),
    ...daemonHandlers(services),
    ...chatHandlers(services.chat),
    ...researchHandlers(services.research),
    ...modelHandlers(services.config),
    ...agentHandlers(services, configAgentSettings(services.config)),
    ...pipelineHandlers(services),
    ...inboxHandlers(services),
  };
}
