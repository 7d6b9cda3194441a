/** inbox.* methods: the questions agents asked, and answering one (daemon/inbox/ keeps them; the first answer wins). */
import type { DaemonServices, HandlerTable } from '../context.ts';

export function inboxHandlers({ inbox }: DaemonServices): Pick<HandlerTable, 'inbox.list' | 'inbox.answer'> {
  return {
    'inbox.list': ({ all }) => inbox.list({ all: all ?? false }),
    'inbox.answer': async ({ id, text }, { client, cause }) => ({ question: await inbox.answer(id, text, client.name, cause) }),
  };
}
