/**
 * The model provider: the official `openai` SDK against OpenAI or any compatible server, over the
 * Responses API or Chat Completions (responses-provider.ts, chat-provider.ts), as one stream of
 * ProviderEvents. What both APIs share lives here:
 *
 * - The SDK sends the request: authentication, retries (429/5xx, backoff, `retry-after`) and the
 *   mapping of error answers are its own. Each call goes through an SDK client whose `fetch` reports
 *   the SDK's waits as `wait` events while they happen (retry-waits.ts).
 * - The streamed answer's body is read here (sse.ts), not by the SDK's stream, whose parser is
 *   quadratic in the events of a read; each event's data is read the way the SDK reads it (`eventChunk`).
 * - A stream that dies before any output is restarted once; one that dies mid-way is a `stream-cut`.
 * - No hang: the SDK's `timeout` bounds each try until the answer starts, an idle timeout bounds
 *   every gap between stream events after that.
 * - `request.signal` aborts the HTTP request at any point, including during a retry wait.
 */
import OpenAI from 'openai';
import type { ApiAdapter } from './api-adapter.ts';
import { AsyncQueue } from './async-queue.ts';
import { chatAdapter } from './chat-provider.ts';
import type { CallContext } from './provider-errors.ts';
import { formatSeconds } from '../../protocol/index.ts';
import { abortedError, toProviderError } from './provider-errors.ts';
import { responsesAdapter } from './responses-provider.ts';
import { fetchReportingRetries, type RetryWait } from './retry-waits.ts';
import { readServerSentEvents, type ServerSentEvent } from './sse.ts';
import { argumentRestorer } from './strict-schema.ts';
import type { ModelApi, ModelRequest, Provider, ProviderEvent } from './types.ts';
import { ProviderError } from './types.ts';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/**
 * Reasoning models stay silent while they think (the Responses stream sends no keep-alive events),
 * so the idle bound is generous.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** How often a stream that died before any output is sent again. */
const STREAM_RESTARTS = 1;

export interface ProviderOptions {
  api: ModelApi;
  apiKey: string | null;
  /** null: OpenAI itself. */
  baseURL: string | null;
  /** The SDK's retries of 429, 5xx and connection failures. Default 3. */
  maxRetries?: number;
  /** Per try, until the answer starts (the SDK's `timeout`). Default 10 minutes. */
  timeoutMs?: number;
  /** A started stream silent this long is dead (noticed within twice this). Default 5 minutes. */
  idleTimeoutMs?: number;
}

/** Makes a provider from settings: `createProvider`, or a stand-in a test passes. */
export type ProviderFactory = (options: ProviderOptions) => Provider;

export function createProvider(options: ProviderOptions): Provider {
  const apiKey = options.apiKey || null;
  const baseURL = options.baseURL || null;
  if (apiKey === null && baseURL === null) return new UnconfiguredProvider(options.api);
  const settings = { ...options, apiKey, baseURL };
  return options.api === 'responses' ? new SdkProvider(responsesAdapter, settings) : new SdkProvider(chatAdapter, settings);
}

/** No key and no base URL: every call says how to configure one; nothing crashes. */
class UnconfiguredProvider implements Provider {
  readonly api: ModelApi;

  constructor(api: ModelApi) {
    this.api = api;
  }

  // biome-ignore lint/correctness/useYield: a provider streams; this one's stream is its error, thrown at the first read
  async *stream(): AsyncGenerator<ProviderEvent> {
    throw new ProviderError(
      'not-configured',
      'no model provider is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for a compatible server (Ollama: http://localhost:11434/v1)',
    );
  }
}

/** The provider for one API; `Chunk` is what that API's stream yields. */
class SdkProvider<Chunk> implements Provider {
  readonly api: ModelApi;
  private readonly adapter: ApiAdapter<Chunk>;
  private readonly client: OpenAI;
  private readonly baseURL: string;
  private readonly apiKeySet: boolean;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly idleClients: ReportingClient[] = [];

  constructor(adapter: ApiAdapter<Chunk>, options: ProviderOptions) {
    this.api = adapter.api;
    this.adapter = adapter;
    this.baseURL = options.baseURL ?? OPENAI_BASE_URL;
    this.apiKeySet = options.apiKey !== null;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.client = new OpenAI({
      // The SDK insists on a key even for servers that need none (Ollama, llama.cpp).
      apiKey: options.apiKey ?? 'unused',
      // Explicit, so the SDK does not read OPENAI_BASE_URL itself: the settings are already resolved.
      baseURL: this.baseURL,
      maxRetries: this.maxRetries,
      timeout: this.timeoutMs,
      // Every failure reaches the caller as a ProviderError; the SDK's own console logging is noise (OPENAI_LOG still turns it on).
      ...(process.env.OPENAI_LOG ? {} : { logLevel: 'off' as const }),
    });
  }

  /**
   * One generator for the whole call, tries included: the body's events are parsed a network read
   * at a time, and each passes one layer on its way out (the benchmark holds this to the bare SDK's throughput).
   */
  async *stream(request: ModelRequest): AsyncGenerator<ProviderEvent> {
    const userSignal = request.signal;
    if (userSignal?.aborted) throw abortedError();
    const restoreArguments = argumentRestorer(request.tools ?? []);
    for (let restarts = 0; ; restarts++) {
      const controller = new AbortController();
      const abort = () => controller.abort();
      userSignal?.addEventListener('abort', abort, { once: true });
      let idleTimer: NodeJS.Timeout | undefined;
      let finished = false;
      try {
        // Send it, passing on the SDK's retry waits while they happen.
        const { opening, waits, call } = this.open(request, controller.signal);
        for await (const wait of waits) yield wait;
        if (userSignal?.aborted) throw abortedError();
        let response: Response;
        try {
          response = await opening;
        } catch (error) {
          throw toProviderError(error, call);
        }

        let died: string | undefined;
        let emitted = false;
        const reader = this.adapter.reader(request, restoreArguments);
        const out: ProviderEvent[] = [];
        // The idle timeout measures the server's silence, not the time the caller spends on an event.
        // It is checked once a period (re-arming a timer for each of hundreds of reads costs more
        // than reading them), so a stall is noticed between one and two periods after the last read.
        let idle = false;
        let awaitingServer = true;
        let progress = 0;
        let progressAtCheck = 0;
        idleTimer = setInterval(() => {
          if (!awaitingServer || progress !== progressAtCheck) {
            progressAtCheck = progress;
            return;
          }
          idle = true;
          controller.abort();
        }, this.idleTimeoutMs);
        try {
          let endMarkerSeen = false;
          for await (const events of readServerSentEvents(response.body ?? emptyBody())) {
            awaitingServer = false;
            for (const event of events) {
              if (isEndMarker(event)) endMarkerSeen = true;
              if (endMarkerSeen) break;
              const chunk = eventChunk<Chunk>(event, response.headers);
              if (chunk === undefined) continue;
              reader.read(chunk, out);
              if (out.length > 0) {
                emitted = true;
                for (const providerEvent of out) yield providerEvent;
                out.length = 0;
              }
            }
            progress++;
            awaitingServer = true;
          }
        } catch (error) {
          if (error instanceof ProviderError) throw error;
          // An error the server reported inside the stream is an answer, not a broken connection.
          if (error instanceof OpenAI.APIError) throw toProviderError(error, call);
          died = error instanceof SyntaxError ? 'the server sent invalid JSON' : 'the connection was cut';
        }
        clearInterval(idleTimer);
        // An abort reads as a failed read of the body, so the reason is read from the flags.
        if (userSignal?.aborted) throw abortedError();
        if (idle) died = `no data for ${formatSeconds(this.idleTimeoutMs / 1000)}`;
        const result = died === undefined ? reader.result() : undefined;
        if (result) {
          finished = true;
          yield { type: 'done', result };
          return;
        }
        died ??= 'the connection closed before the answer was complete';
        if (emitted) throw new ProviderError('stream-cut', `the model's stream was cut mid-answer (${died}); the answer is incomplete`);
        if (restarts >= STREAM_RESTARTS)
          throw new ProviderError('stream-cut', `the model's stream failed before any output, twice (${died})`);
      } finally {
        clearInterval(idleTimer);
        userSignal?.removeEventListener('abort', abort);
        // Whatever ended this try early (an error, a dead stream, the caller leaving the loop) closes its HTTP request.
        if (!finished) controller.abort();
      }
      // Nothing was said yet, so nothing is lost: send it again.
      yield { type: 'wait', reason: 'stream-restart', seconds: 0, attempt: restarts + 2 };
    }
  }

  /**
   * Sends the request through an SDK client that reports the SDK's retry waits into `waits`.
   * `waits` closes when the answer starts, the request fails, or the call is aborted: the SDK
   * sleeps through a retry wait without looking at the signal, so an abort must not wait for it.
   */
  private open(
    request: ModelRequest,
    signal: AbortSignal,
  ): { opening: Promise<Response>; waits: AsyncQueue<ProviderEvent>; call: CallContext } {
    const waits = new AsyncQueue<ProviderEvent>();
    const call: CallContext = { baseURL: this.baseURL, apiKeySet: this.apiKeySet, tries: 0, timeoutMs: this.timeoutMs };
    const client = this.idleClients.pop() ?? this.reportingClient();
    client.reportTo = { onRequest: () => call.tries++, onWait: (wait) => waits.push({ type: 'wait', ...wait }) };
    const opening = this.adapter.open(client.sdk, request, signal);
    const settled = () => {
      waits.close();
      client.reportTo = undefined;
      this.idleClients.push(client);
    };
    opening.then(settled, settled);
    signal.addEventListener('abort', () => waits.close(), { once: true });
    return { opening, waits, call };
  }

  /**
   * An SDK client whose `fetch` reports to the call holding it. Building an SDK client takes a tenth
   * of a millisecond or more (a good share of the provider's own work in a call), so they are kept
   * and reused: one per call in flight at most, held until its call's answer has started (after
   * that the SDK sends nothing more for the call), so no report goes astray.
   */
  private reportingClient(): ReportingClient {
    const client: ReportingClient = { sdk: this.client, reportTo: undefined };
    client.sdk = this.client.withOptions({
      fetch: fetchReportingRetries({
        maxRetries: this.maxRetries,
        onRequest: () => client.reportTo?.onRequest(),
        onWait: (wait) => client.reportTo?.onWait(wait),
      }),
    });
    return client;
  }
}

interface ReportingClient {
  sdk: OpenAI;
  /** The call being sent through this client, until its answer starts. */
  reportTo: { onRequest: () => void; onWait: (wait: RetryWait) => void } | undefined;
}

/** Chat Completions' `data: [DONE]`, after which the SDK ignores whatever else comes. */
function isEndMarker(event: ServerSentEvent): boolean {
  return event.data.startsWith('[DONE]');
}

/**
 * One event's data, read as the SDK's own stream reads it (`Stream.fromSSEResponse` in
 * openai/core/streaming, v6): JSON (a SyntaxError when it is not), and a payload with an `error`
 * field is an error the server reported mid-stream, thrown as the SDK's APIError. Undefined for the
 * Assistants API's `thread.*` events, which no call here asks for.
 */
function eventChunk<Chunk>(event: ServerSentEvent, headers: Headers): Chunk | undefined {
  if (event.event?.startsWith('thread.')) return undefined;
  const payload = JSON.parse(event.data) as { error?: unknown } | null;
  if (payload?.error) throw new OpenAI.APIError(undefined, payload.error as object, undefined, headers);
  return payload as Chunk;
}

/** The body of an answer that has none: a stream with no events. */
function emptyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}
