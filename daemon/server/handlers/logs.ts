/** logs.* methods: pages of a goal's append-only log. New entries arrive as `log.appended` events. */
import type { DaemonServices, HandlerTable } from '../context.ts';
import { goalMissing } from '../../store/goal-store.ts';

export function logHandlers({ store }: DaemonServices): Pick<HandlerTable, 'logs.read'> {
  return {
    'logs.read': async ({ id, from, limit, tail }) => {
      const invalid = store.invalid().find((entry) => entry.id === id);
      // An invalid goal still has its log; only a goal that does not exist at all is an error.
      if (!store.get(id) && !invalid) throw goalMissing(id, undefined);
      // The params schema refuses `tail` with `from` or `limit`.
      return store.log.read(id, tail === undefined ? { from, limit } : { tail });
    },
  };
}
