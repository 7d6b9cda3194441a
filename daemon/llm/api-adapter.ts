/**
 * What differs between the Responses API and Chat Completions, behind one shape: how a request is
 * sent, and how its stream of chunks reads as ProviderEvents. Everything the two share (retries
 * made visible, restarts, timeouts, cancelling, errors) lives once, in provider.ts.
 */
import type OpenAI from 'openai';
import type { ModelApi, ModelRequest, ModelResult, ProviderEvent } from './types.ts';

/** Rewrites a tool call's arguments text back to the tool's own schema (see strict-schema.ts). */
export type RestoreArguments = (toolName: string, argumentsText: string) => string;

export interface ApiAdapter<Chunk> {
  readonly api: ModelApi;
  /**
   * Sends the streamed request through the SDK (its retries happen inside) and settles with the raw
   * answer once it has started: its body, server-sent events whose data is JSON `Chunk`s, is read by
   * the provider (sse.ts), not by the SDK.
   */
  open(client: OpenAI, request: ModelRequest, signal: AbortSignal): Promise<Response>;
  /** A reader for one stream. */
  reader(request: ModelRequest, restoreArguments: RestoreArguments): StreamReader<Chunk>;
}

export interface StreamReader<Chunk> {
  /** Reads one chunk, pushing what it means for the caller onto `out`. Throws ProviderError when the chunk reports a failure. */
  read(chunk: Chunk, out: ProviderEvent[]): void;
  /** The call's result once the stream reached its proper end; undefined when it stopped short. */
  result(): ModelResult | undefined;
}
