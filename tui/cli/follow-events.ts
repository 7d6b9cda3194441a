/**
 * A command that starts long work in the daemon (a chat turn, a research run) and follows its events
 * until it ends. Listening starts before the request is sent: the first events may arrive before
 * the answer to it. The listeners (events, connection loss, Ctrl+C) are removed however it ends.
 */
import type { RalphClient } from '../../protocol/client.ts';
import type { EventEnvelope } from '../../protocol/index.ts';

export interface FollowHandlers {
  event(event: EventEnvelope): void;
  /** The connection dropped before the work ended. */
  lost(): void;
  /** Ctrl+C. */
  interrupt(): void;
}

export async function followEvents<T>(client: RalphClient, handlers: FollowHandlers, body: () => Promise<T>): Promise<T> {
  const onEvent = (event: EventEnvelope) => handlers.event(event);
  const onStatus = (status: string) => {
    if (status === 'closed' || status === 'reconnecting') handlers.lost();
  };
  const onSigint = () => handlers.interrupt();
  client.on('event', onEvent);
  client.on('status', onStatus);
  process.on('SIGINT', onSigint);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSigint);
    client.off('event', onEvent);
    client.off('status', onStatus);
  }
}
