/** goal.land: the LandService queues a done goal and answers once it landed (refusals come back as Conflict errors naming the files); land.status: the queue. */
import type { DaemonServices, HandlerTable } from '../context.ts';

export function landHandlers({ landing }: DaemonServices): Pick<HandlerTable, 'goal.land' | 'land.status'> {
  return {
    'goal.land': ({ id }, { cause }) => landing.land(id, cause),
    'land.status': async () => {
      await landing.start();
      return landing.state();
    },
  };
}
