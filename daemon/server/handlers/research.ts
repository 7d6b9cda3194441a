/** research.* methods: thin mappings onto the ResearchService, which runs the agents, saves the runs and publishes the events. */
import type { ResearchService } from '../../research/research-service.ts';
import { ErrorCode, RpcError } from '../../../protocol/index.ts';
import type { HandlerTable } from '../context.ts';

type ResearchMethod = 'research.start' | 'research.cancel' | 'research.get' | 'research.list';

export function researchHandlers(research: ResearchService): Pick<HandlerTable, ResearchMethod> {
  return {
    'research.start': async ({ questions, session, consolidate }, { cause }) => ({
      run: await research.start({ questions, session, consolidate }, cause),
    }),
    'research.cancel': async ({ runId, agentId }, { cause }) => ({ run: await research.cancel(runId, agentId, cause) }),
    'research.get': async ({ runId }) => {
      const run = await research.get(runId);
      if (!run) throw new RpcError(ErrorCode.NotFound, `no research run '${runId}'`);
      return { run };
    },
    'research.list': async ({ limit }) => ({ runs: await research.list(limit) }),
  };
}
