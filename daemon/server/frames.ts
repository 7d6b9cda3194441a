/**
 * Turns one incoming WebSocket frame into a request to dispatch, nothing (a notification), or the
 * JSON-RPC error to answer with. Pure, so every malformed case is handled in one place.
 */
import {
  ErrorCode,
  JsonRpcNotification,
  JsonRpcRequest,
  Methods,
  RequestId,
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
  if (typeof message !== 'object' || message === null || !('method' in message) || !('id' in message)) return null;
  const id = RequestId.safeParse(message.id);
  return id.success ? id.data : null;
}

/**
 * @param maxBytes the soft size cap: a larger message is answered with MessageTooLarge (the hard
 *   cap, enforced by `ws` itself, closes the connection; see server.ts).
 */
export function decodeFrame(data: Buffer, isBinary: boolean, maxBytes: number): DecodedFrame {
  if (data.length > maxBytes) {
    return refuse(null, ErrorCode.MessageTooLarge, `message of ${data.length} bytes is over the limit of ${maxBytes} bytes`);
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
    if (JsonRpcNotification.safeParse(message).success) return { kind: 'notification' };
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
