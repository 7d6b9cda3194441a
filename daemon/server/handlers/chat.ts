/**
 * Chat and model methods. The chat service arrives with issue 3; until it is wired in, these
 * answer with a clear Unavailable error instead of being unknown methods.
 */
import { ErrorCode, RpcError } from '../../../protocol/index.ts';
import type { HandlerTable } from '../context.ts';

type ChatMethods = 'chat.send' | 'chat.history' | 'chat.new' | 'chat.interrupt' | 'models.list';

export function chatHandlers(): Pick<HandlerTable, ChatMethods> {
  const unavailable = (): never => {
    throw new RpcError(ErrorCode.Unavailable, 'the chat is not available in this daemon yet');
  };
  return {
    'chat.send': unavailable,
    'chat.history': unavailable,
    'chat.new': unavailable,
    'chat.interrupt': unavailable,
    'models.list': unavailable,
  };
}
