/**
 * The model layer's one interface: a provider turns a request into a stream of events, whatever
 * API (Responses or Chat Completions) and server (OpenAI, Ollama, vLLM, …) is behind it. Like the
 * agent loop above it, it knows nothing about any UI: everything it has to say is an event.
 */
import type { CallUsage } from '../../protocol/index.ts';

export type ModelApi = 'responses' | 'chat';
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

/** A JSON Schema object (e.g. from `z.toJSONSchema`): the parameters of a function tool. */
export type JsonSchema = Record<string, unknown>;

export interface ToolDefinition {
  name: string;
  description: string;
  parameters: JsonSchema;
}

export interface ToolCall {
  /** The provider's call id, echoed back with the result. */
  id: string;
  name: string;
  /** The arguments as the model wrote them (JSON text); the caller validates them. */
  arguments: string;
}

export type ConversationItem =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; callId: string; name: string; content: string };

export interface ModelRequest {
  model: string;
  /** The system prompt. */
  instructions?: string;
  items: ConversationItem[];
  tools?: ToolDefinition[];
  /** Offer the provider's hosted web search (Responses API only; ignored elsewhere). */
  webSearch?: boolean;
  reasoningEffort?: ReasoningEffort;
  maxOutputTokens?: number;
  /** Aborts the HTTP request and ends the stream with an `aborted` error. */
  signal?: AbortSignal;
}

export interface Citation {
  url: string;
  title?: string;
}

export type StopReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export interface ModelResult {
  text: string;
  toolCalls: ToolCall[];
  citations: Citation[];
  usage: CallUsage;
  stopReason: StopReason;
  model: string;
}

/** Everything a call reports, in order; `done` is last when the call succeeds. */
export type ProviderEvent =
  | { type: 'text.delta'; delta: string }
  | { type: 'reasoning.delta'; delta: string }
  | { type: 'tool.call'; call: ToolCall }
  | { type: 'web.search'; query?: string; status: 'searching' | 'done' }
  | { type: 'citation'; citation: Citation }
  /**
   * The call is waiting before its next try (the SDK's own retry, or the one restart of a stream that died before any output).
   * `attempt` is the try that comes after the wait: 2 for the first retry.
   */
  | { type: 'wait'; reason: 'rate-limit' | 'server-error' | 'stream-restart'; seconds: number; attempt: number }
  | { type: 'done'; result: ModelResult };

export type ProviderErrorKind = 'not-configured' | 'auth' | 'rate-limit' | 'server' | 'network' | 'bad-request' | 'stream-cut' | 'aborted';

/** A failed call, in one line a person can act on ("rate limited by the server after 3 tries"). */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  /** A rate limit's reset, in seconds from when it was answered (`retry-after`, `x-ratelimit-reset-*`), where the provider said. */
  readonly retryAfterSeconds: number | undefined;
  /** The account's quota is exhausted (OpenAI's `insufficient_quota`): waiting seconds will not help. */
  readonly quota: boolean;
  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; cause?: unknown; retryAfterSeconds?: number; quota?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.quota = options.quota ?? false;
  }
}

export interface Provider {
  readonly api: ModelApi;
  /** Streams one model call. Throws ProviderError (from the iterator) when it fails. */
  stream(request: ModelRequest): AsyncIterable<ProviderEvent>;
}
