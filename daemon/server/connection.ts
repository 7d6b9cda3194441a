/** One attached client: its socket, who it is once initialized, and sending with a backpressure limit. */
import type { WebSocket } from 'ws';
import type { ClientInfo } from '../../protocol/index.ts';

/** Close codes the daemon uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** The daemon is stopping. */
  GoingAway: 1001,
  /** Answering the client failed, and so did telling it so. */
  InternalError: 1011,
  /** The client reads too slowly; it can reconnect and resume. */
  TryAgainLater: 1013,
} as const;

/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;

export class ClientConnection {
  readonly id: string;
  readonly socket: WebSocket;
  /** Set by `initialize`; until then the client gets no events and may call nothing else. */
  info: ClientInfo | undefined;
  /** Cleared at each keep-alive ping, set by the pong (or any message): a peer that stays silent is dead. */
  alive = true;
  private readonly maxBufferedBytes: number;
  private readonly onTooSlow: (backlog: number) => void;
  private closing = false;
  private responseBytesInFlight = 0;

  constructor(id: string, socket: WebSocket, limits: { maxBufferedBytes: number; onTooSlow: (backlog: number) => void }) {
    this.id = id;
    this.socket = socket;
    this.maxBufferedBytes = limits.maxBufferedBytes;
    this.onTooSlow = limits.onTooSlow;
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Queues a text frame. A client whose unsent backlog of events passes the limit is too slow to keep
   * up: it is closed (1013) rather than letting the daemon's memory grow; it can reconnect and resume.
   *
   * Responses are not counted while they are in flight: a big snapshot must not get its own client
   * closed as slow. (Only a client holding the token can ask for responses, and it can stop the daemon
   * anyway: this rule protects against slow clients, not hostile ones.)
   * Returns false when the frame was not sent.
   */
  send(text: string, kind: 'event' | 'response' = 'event'): boolean {
    if (!this.isOpen) return false;
    if (kind === 'response') {
      const bytes = Buffer.byteLength(text);
      this.responseBytesInFlight += bytes;
      this.socket.send(text, () => {
        this.responseBytesInFlight -= bytes;
      });
      return true;
    }
    this.socket.send(text);
    const backlog = this.socket.bufferedAmount - this.responseBytesInFlight;
    if (backlog > this.maxBufferedBytes) {
      this.close(CloseCode.TryAgainLater, 'too slow: reconnect and resume');
      this.onTooSlow(backlog);
      return false;
    }
    return true;
  }

  /** Starts the close handshake, and cuts the socket if the peer does not finish it in time (e.g. it stopped reading). */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
