/**
 * Methods whose services are being built (research: issue 4; the Ralph loop: issue 5). Until a
 * service is wired in, its methods answer with a clear Unavailable error instead of being unknown.
 */
import { ErrorCode, RpcError } from '../../../protocol/index.ts';
import type { HandlerTable } from '../context.ts';

type PendingMethods =
  | 'research.start'
  | 'research.cancel'
  | 'research.get'
  | 'research.list'
  | 'goal.land'
  | 'pipeline.pause'
  | 'pipeline.resume';

export function pendingHandlers(): Pick<HandlerTable, PendingMethods> {
  const unavailable = (): never => {
    throw new RpcError(ErrorCode.Unavailable, 'not available in this daemon yet');
  };
  return {
    'research.start': unavailable,
    'research.cancel': unavailable,
    'research.get': unavailable,
    'research.list': unavailable,
    'goal.land': unavailable,
    'pipeline.pause': unavailable,
    'pipeline.resume': unavailable,
  };
}
