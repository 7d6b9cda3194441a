/**
 * JSON-RPC 2.0 envelopes, one message per WebSocket text frame.
 * Only the envelope shapes live here; what each method and event carries is in methods.ts and events.ts.
 */
import { z } from 'zod';
import { FreeJson, maxUnits, REQUEST_ID_MAX } from './limits.ts';

export const RequestId = z.union([z.int(), maxUnits(z.string().min(1), REQUEST_ID_MAX)]);
export type RequestId = z.infer<typeof RequestId>;

/** Params are free-form until the method's own schema reads them: bounded (limits.ts) before it does. */
export const JsonRpcRequest = z.strictObject({
  jsonrpc: z.literal('2.0'),
  id: RequestId,
  method: z.string().min(1),
  params: FreeJson.optional(),
});
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

export const JsonRpcNotification = z.strictObject({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: FreeJson.optional(),
});
export type JsonRpcNotification = z.infer<typeof JsonRpcNotification>;

export const JsonRpcErrorObject = z.object({
  code: z.int(),
  message: z.string(),
  data: FreeJson.optional(),
});
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObject>;

export const JsonRpcSuccess = z.strictObject({
  jsonrpc: z.literal('2.0'),
  id: RequestId,
  // Not bounded here: the method's own result schema, whose free-form parts are bounded, validates it next.
  result: z.unknown(),
});
export type JsonRpcSuccess = z.infer<typeof JsonRpcSuccess>;

export const JsonRpcFailure = z.strictObject({
  jsonrpc: z.literal('2.0'),
  // null when the request's id could not be read (parse error, invalid request)
  id: RequestId.nullable(),
  error: JsonRpcErrorObject,
});
export type JsonRpcFailure = z.infer<typeof JsonRpcFailure>;

/** Anything a peer may receive. Responses first: a request also has `method`, a response never does. */
export const JsonRpcMessage = z.union([JsonRpcSuccess, JsonRpcFailure, JsonRpcRequest, JsonRpcNotification]);
export type JsonRpcMessage = z.infer<typeof JsonRpcMessage>;

/** Standard codes (-32700..-32600) and Ralph's own, in the implementation-defined server range. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ProtocolMismatch: -32001,
  NotInitialized: -32002,
  NotFound: -32004,
  Conflict: -32009,
  InvalidTransition: -32010,
  MessageTooLarge: -32011,
  Unavailable: -32012,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error a handler throws to answer with a specific JSON-RPC code; anything else is InternalError. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
  toJSON(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export function success(id: RequestId, result: unknown): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: RequestId | null, error: JsonRpcErrorObject): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}

/** How many issues an error description names (a value can have one per element: thousands). */
export const DESCRIBED_ISSUES_MAX = 10;

/** A one-line description of a zod error, naming the path of each bad field (the first few of them). */
export function describeZodError(error: Pick<z.ZodError, 'issues'>): string {
  const described = error.issues
    .slice(0, DESCRIBED_ISSUES_MAX)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  const more = error.issues.length - described.length;
  return more > 0 ? `${described.join('; ')}; and ${more} more` : described.join('; ');
}
