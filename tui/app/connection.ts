/**
 * What the TUI needs from its link to the daemon: the protocol client (protocol/client.ts) provides
 * all of it. Kept this small so tests can drive the app with an in-memory transport fed with real
 * protocol objects.
 */
import type { ConnectionStatus } from '../../protocol/client.ts';
import type { EventEnvelope, MethodName, ParamsOf, ResultOf, Snapshot } from '../../protocol/index.ts';

export type { ConnectionStatus };

/** The connection's events and their listener arguments. */
export interface DaemonConnectionEvents {
  /** Every event exactly once, in seq order. */
  event: [event: EventEnvelope];
  /** A fresh snapshot, after a reconnect that could not resume. */
  snapshot: [snapshot: Snapshot];
  status: [status: ConnectionStatus];
  /** A bad frame from the daemon, or a reconnect that cannot succeed (a daemon speaking another protocol version). */
  error: [error: Error];
}

export type DaemonConnectionListener<E extends keyof DaemonConnectionEvents> = (...args: DaemonConnectionEvents[E]) => void;

export interface DaemonConnection {
  /** The state the daemon sent when the connection was made. */
  readonly snapshot: Snapshot;
  readonly status: ConnectionStatus;
  /** The seq of the last event the connection has delivered. */
  readonly lastSeq: number;
  on<E extends keyof DaemonConnectionEvents>(event: E, listener: DaemonConnectionListener<E>): unknown;
  off<E extends keyof DaemonConnectionEvents>(event: E, listener: DaemonConnectionListener<E>): unknown;
  request<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
}

/**
 * The daemon's current state, assembled from two requests (there is no "snapshot" method:
 * `initialize` sends the only one). `seq` is taken from the first answer, so replaying the events
 * after it on top converges: every goal event carries the whole goal or its removal.
 */
export async function fetchSnapshot(connection: DaemonConnection): Promise<Snapshot> {
  // Sent in this order on one socket, so the daemon answers the status before it lists the goals.
  const [status, list, history, inbox] = await Promise.all([
    connection.request('daemon.status', {}),
    connection.request('goal.list', {}),
    // The chat as it is now; a daemon without the chat keeps what the first snapshot had.
    connection.request('chat.history', {}).catch(() => null),
    connection.request('inbox.list', {}).catch(() => null),
  ]);
  const chat = history
    ? {
        ...connection.snapshot.chat,
        session: history.session,
        messages: history.messages,
        queued: history.messages.filter((message) => message.status === 'queued').length,
      }
    : connection.snapshot.chat;
  return {
    seq: status.seq,
    repo: status.repo,
    daemon: status.daemon,
    goals: list.goals,
    invalid: list.invalid,
    clients: status.clients,
    chat,
    // No method lists them: the units of the first snapshot, corrected by the progress events that follow.
    progress: connection.snapshot.progress,
    pipeline: connection.snapshot.pipeline,
    // Nor the settings: they change only when ralph.config.ts is edited, which is rare in the moment this covers.
    settings: connection.snapshot.settings,
    questions: inbox ? inbox.questions : connection.snapshot.questions,
  };
}
