/** pipeline.* methods: pause and resume the whole goal pipeline (daemon/pipeline/pipeline.ts says what pausing does). */
import type { DaemonServices, HandlerTable } from '../context.ts';

export function pipelineHandlers({ pipelineControl }: DaemonServices): Pick<HandlerTable, 'pipeline.pause' | 'pipeline.resume'> {
  return {
    'pipeline.pause': (_params, { cause }) => ({ paused: pipelineControl.pause(cause).paused }),
    'pipeline.resume': (_params, { cause }) => ({ paused: pipelineControl.resume(cause).paused }),
  };
}
