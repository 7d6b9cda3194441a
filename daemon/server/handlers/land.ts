/** goal.land: the LandService lands a done goal (refusals come back as Conflict errors naming the files). */
import type { DaemonServices, HandlerTable } from '../context.ts';

export function landHandlers({ landing }: DaemonServices): Pick<HandlerTable, 'goal.land'> {
  return {
    'goal.land': ({ id }, { cause }) => landing.land(id, cause),
  };
}
