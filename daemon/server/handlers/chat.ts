/** chat.* methods: thin mappings onto the ChatService, which writes the transcripts and publishes the events. */
import type { ChatService } from '../../chat/chat-service.ts';
import type { HandlerTable } from '../context.ts';

type ChatMethod = 'chat.send' | 'chat.history' | 'chat.new' | 'chat.interrupt';

export function chatHandlers(chat: ChatService): Pick<HandlerTable, ChatMethod> {
  return {
    'chat.send': ({ text, session }, { client, cause }) => chat.send({ text, session }, { clientId: client.id, name: client.name }, cause),
    'chat.history': (params) => chat.history(params),
    'chat.new': (_params, { cause }) => chat.newSession(cause),
    'chat.interrupt': (params, { cause }) => chat.interrupt(params, cause),
  };
}
