/**
 * Turns one incoming WebSocket frame into a request to dispatch, nothing (a notification), or the
 * JSON-RPC error to answer with. Pure, so every malformed case is handled in one place.
 */
import type { z } from 'zod';
import {
  ErrorCode,
  JsonRpcNotification,
  JsonRpcRequest,
  Methods,
  RequestId,
  describeZodError,
  type JsonRpcErrorObject,
  type MethodName,
} from '../../protocol/index.ts';

export type DecodedFrame =
  | { kind: 'request'; id: RequestId; method: MethodName; params: unknown }
  /** A notification from the client: JSON-RPC says it gets no response, and no method of ours takes one. */
  | { kind: 'notification' }
  | { kind: 'error'; id: RequestId | null; error: JsonRpcErrorObject };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(id: RequestId | null, code: number, message: string): DecodedFrame {
  return { kind: 'error', id, error: { code, message } };
}

export function isMethodName(method: string): method is MethodName {
  return Object.hasOwn(Methods, method);
}

/** The id of a message that is not a valid request, when it can still be read (so the client can match the error). */
function readableId(message: unknown): RequestId | null {
  if (typeof message !== 'object' || message === null || !Object.hasOwn(message, 'method') || !Object.hasOwn(message, 'id')) return null;
  const id = RequestId.safeParse((message as { id: unknown }).id);
  return id.success ? id.data : null;
}

/** Whether every issue is inside `params`: the envelope itself is sound. */
function onlyParamsBad(error: z.ZodError): boolean {
  return error.issues.every((issue) => issue.path[0] === 'params');
}

/** How far into a message too large to parse its id is looked for. */
export const ID_SCAN_BYTES = 4096;

/**
 * The id of a message too large to parse, when its first ID_SCAN_BYTES bytes hold it: a top-level
 * `"id"` key, before any value that does not fit there (clients write the id before the params).
 * Scans those bytes at most once; never parses the rest.
 */
export function leadingId(data: Buffer, scanBytes = ID_SCAN_BYTES): RequestId | null {
  const end = Math.min(data.length, scanBytes);
  let at = skipSpace(data, 0, end);
  if (data[at] !== 0x7b /* { */) return null;
  at++;
  for (;;) {
    at = skipSpace(data, at, end);
    if (at >= end || data[at] !== 0x22 /* " */) return null;
    const keyStart = at;
    at = stringEnd(data, at, end);
    if (at < 0) return null;
    const isId = data.toString('latin1', keyStart, at) === '"id"';
    at = skipSpace(data, at, end);
    if (data[at] !== 0x3a /* : */) return null;
    at = skipSpace(data, at + 1, end);
    const valueStart = at;
    at = valueEnd(data, at, end);
    if (at < 0) return null;
    if (isId) {
      try {
        const id = RequestId.safeParse(JSON.parse(data.toString('utf8', valueStart, at)));
        return id.success ? id.data : null;
      } catch {
        return null;
      }
    }
    at = skipSpace(data, at, end);
    if (data[at] !== 0x2c /* , */) return null;
    at++;
  }
}

function skipSpace(data: Buffer, at: number, end: number): number {
  while (at < end && (data[at] === 0x20 || data[at] === 0x09 || data[at] === 0x0a || data[at] === 0x0d)) at++;
  return at;
}

/** Just past the string that opens at `at` (a `"`), or -1 when it does not end before `end`. */
function stringEnd(data: Buffer, at: number, end: number): number {
  for (at++; at < end; at++) {
    if (data[at] === 0x5c /* \ */) at++;
    else if (data[at] === 0x22) return at + 1;
  }
  return -1;
}

/** Just past the JSON value that starts at `at`, or -1 when it does not end before `end`. */
function valueEnd(data: Buffer, at: number, end: number): number {
  if (at >= end) return -1;
  if (data[at] === 0x22) return stringEnd(data, at, end);
  if (data[at] === 0x7b || data[at] === 0x5b /* [ */) {
    let depth = 0;
    while (at < end) {
      const byte = data[at];
      if (byte === 0x22) {
        at = stringEnd(data, at, end);
        if (at < 0) return -1;
        continue;
      }
      if (byte === 0x7b || byte === 0x5b) depth++;
      else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) return at + 1;
      at++;
    }
    return -1;
  }
  // A number or a literal: it runs to the next delimiter, which must come before `end`.
  while (
    at < end &&
    !(
      data[at] === 0x2c ||
      data[at] === 0x7d ||
      data[at] === 0x5d ||
      data[at] === 0x20 ||
      data[at] === 0x09 ||
      data[at] === 0x0a ||
      data[at] === 0x0d
    )
  )
    at++;
  return at < end ? at : -1;
}

/**
 * @param maxBytes the soft size cap: a larger message is answered with MessageTooLarge (the hard
 *   cap, enforced by `ws` itself, closes the connection; see server.ts).
 */
export function decodeFrame(data: Buffer, isBinary: boolean, maxBytes: number): DecodedFrame {
  if (data.length > maxBytes) {
    return refuse(
      isBinary ? null : leadingId(data),
      ErrorCode.MessageTooLarge,
      `message of ${data.length} bytes is over the limit of ${maxBytes} bytes`,
    );
  }
  if (isBinary) return refuse(null, ErrorCode.InvalidRequest, 'binary frames are not supported: send JSON-RPC as text frames');

  let message: unknown;
  try {
    // ws is told to skip its own UTF-8 check (which would close the connection); bad UTF-8 is a parse error here.
    message = JSON.parse(utf8.decode(data));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'text is not valid UTF-8';
    return refuse(null, ErrorCode.ParseError, `parse error: ${reason}`);
  }

  if (Array.isArray(message)) return refuse(null, ErrorCode.InvalidRequest, 'batch requests are not supported: send one request per frame');
  const request = JsonRpcRequest.safeParse(message);
  if (!request.success) {
    // A sound request whose params are not (too deep, too large): the method's error, with its id.
    if (onlyParamsBad(request.error)) {
      const { id, method } = message as { id: RequestId; method: string };
      if (!isMethodName(method)) return refuse(id, ErrorCode.MethodNotFound, `method not found: ${method}`);
      const issues = request.error.issues.map((issue) => ({ ...issue, path: issue.path.slice(1) }));
      return refuse(id, ErrorCode.InvalidParams, `invalid params for ${method}: ${describeZodError({ issues })}`);
    }
    // A notification gets no answer, whatever its params.
    const notification = JsonRpcNotification.safeParse(message);
    if (notification.success || onlyParamsBad(notification.error)) return { kind: 'notification' };
    return refuse(
      readableId(message),
      ErrorCode.InvalidRequest,
      'invalid request: expected {"jsonrpc": "2.0", "id": number | string, "method": string, "params"?: object}',
    );
  }
  const { id, method, params } = request.data;
  if (!isMethodName(method)) return refuse(id, ErrorCode.MethodNotFound, `method not found: ${method}`);
  return { kind: 'request', id, method, params };
}
