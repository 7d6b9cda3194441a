/**
 * Checks on the HTTP upgrade request, made before any WebSocket exists (DESIGN.md, "Security").
 * A refused upgrade gets a plain HTTP answer and its socket is destroyed.
 *
 * Everything here reads what an unauthenticated peer sent, so nothing here may throw on it: the
 * request target is compared as text, never parsed as a URL (`new URL` throws on `//`, `//[` …).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeRefusal {
  status: 400 | 401 | 403 | 404 | 405;
  message: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The host name of a Host header without its port: `127.0.0.1:4000` → `127.0.0.1`, `[::1]:4000` →
 * `[::1]`. Anything that is not `name[:port]` (`[::1]x`, `localhost:1:2`) names no host: ''.
 */
export function hostName(host: string): string {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::\d{0,5})?$/.exec(host.trim().toLowerCase());
  return match?.[1] ?? '';
}

/**
 * Whether a request target is the daemon's one path, `/` (a query after it is ignored). Only the
 * origin form counts: `//x`, `/\`, `http://host/` and `*` are other paths.
 */
export function isRootTarget(target: string | undefined): boolean {
  if (target === undefined) return false;
  const query = target.indexOf('?');
  return (query === -1 ? target : target.slice(0, query)) === '/';
}

/**
 * Compares a presented token with ours in constant time. Both are hashed first so the buffers have
 * equal length whatever was presented (timingSafeEqual needs that, and a length check would leak it).
 */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Why this upgrade must be refused, or null when it may proceed. */
export function checkUpgrade(request: IncomingMessage, token: string): UpgradeRefusal | null {
  const { headers } = request;
  // A page in a browser can open WebSockets to localhost (no CORS for them); browsers always send
  // Origin (sometimes `null`), our clients never do. So any Origin at all is refused.
  if (headers.origin !== undefined || headers['sec-websocket-origin'] !== undefined) {
    return { status: 403, message: 'requests with an Origin header are refused' };
  }
  // DNS rebinding: a hostile name resolving to 127.0.0.1 still sends its own name as Host.
  if (!headers.host || !LOOPBACK_HOSTS.has(hostName(headers.host))) {
    return { status: 403, message: 'the Host header must name a loopback address' };
  }
  if (!isRootTarget(request.url)) return { status: 404, message: 'not found' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (!match?.[1] || !tokenMatches(match[1], token)) {
    return { status: 401, message: 'a valid bearer token is required (see .ralph/daemon.json)' };
  }
  return null;
}

const STATUS_TEXT: Record<UpgradeRefusal['status'], string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

/** Answers the upgrade (or CONNECT) request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${refusal.message}\n`;
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(refusal.status === 401 ? ['WWW-Authenticate: Bearer'] : []),
  ].join('\r\n');
  // Destroyed once the answer is flushed, whether or not the peer closes its side.
  socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
}
