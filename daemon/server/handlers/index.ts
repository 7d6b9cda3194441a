/** The table of every method handler. Its type demands one handler per method of protocol/methods.ts. */
import type { DaemonServices, HandlerTable } from '../context.ts';
import { chatHandlers } from './chat.ts';
import { daemonHandlers } from './daemon.ts';
import { goalHandlers } from './goals.ts';
import { logHandlers } from './logs.ts';
import { modelHandlers } from './models.ts';
import { pendingHandlers } from './pending.ts';

export function createHandlers(services: DaemonServices): HandlerTable {
  return {
    ...goalHandlers(services),
    ...logHandlers(services),
    ...daemonHandlers(services),
    ...chatHandlers(services.chat),
    ...modelHandlers(services.config),
    ...pendingHandlers(),
  };
}
