/**
 * A real OpenAI-compatible HTTP server for tests and for driving the UI by hand: the Responses API
 * and Chat Completions (streaming and not), `GET /v1/models`, scripted answers, faults on demand,
 * an optional required API key, and a log of every request.
 *
 *   const server = await startFakeOpenAI({ scenario: 'echo' });
 *   const client = new OpenAI({ baseURL: server.url, apiKey: 'test' });
 *   server.injectFaults({ kind: '429' }, { times: 2 });
 *   server.script({ text: 'first' }, { toolCalls: [{ name: 'list_goals' }] });
 *   server.requests   // what arrived, when, and how it ended
 *   await server.close();
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildChatReply } from './chat-api.ts';
import type { OpenAIErrorBody } from './errors.ts';
import { errorBody, invalidKeyMessage, MISSING_KEY_MESSAGE, RATE_LIMIT_MESSAGE, SERVER_ERROR_MESSAGE } from './errors.ts';
import type { DrawnFaults, Fault, FaultKind, FaultOptions } from './faults.ts';
import { FaultRules } from './faults.ts';
import type { Reply, ReplyPlan } from './reply.ts';
import { makeId, planReply } from './reply.ts';
import type { ApiKind, ConversationHistory, ConversationItem, ScenarioRequest } from './request.ts';
import { BadRequestError, parseRequest } from './request.ts';
import { buildResponsesReply } from './responses-api.ts';
import type { ScenarioFn, ScenarioName } from './scenarios.ts';
import { isScenarioName, scenarios } from './scenarios.ts';
import type { SseEvent } from './sse.ts';
import { formatSse } from './sse.ts';

/** The GPT-5.x ids the SDK knows, plus a neutral one; any model id is accepted in requests. */
export const DEFAULT_MODELS = ['gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-nano', 'gpt-5.5', 'fake-model'];

export interface FakeOpenAIOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Answers requests when no scripted reply is queued. Default `echo`. */
  scenario?: ScenarioName | ScenarioFn;
  /** Delay before every model response starts (status line and headers). */
  latencyMs?: number;
  /** Pause between streamed deltas (a reply's own `deltaDelayMs` wins). */
  deltaDelayMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get OpenAI's 401. */
  apiKey?: string;
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
  /** Called as each request ends (the standalone server prints a line). */
  onRequestEnd?: (record: RequestRecord) => void;
  /** Called as each streamed delta is handed to the socket (the benchmark times delivery from here). */
  onDeltaWritten?: (record: RequestRecord, deltaIndex: number, at: number) => void;
}

export interface RequestRecord {
  /** Arrival order among all requests to this server, from 0. */
  index: number;
  method: string;
  path: string;
  api: ApiKind | 'models' | 'other';
  model: string | undefined;
  stream: boolean;
  /** Function names and hosted tool types offered (`web_search`). */
  toolNames: string[];
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined for GET or a body that is not JSON). */
  body: unknown;
  /** Epoch milliseconds, fractional: when the request arrived and when its response ended. */
  startedAt: number;
  endedAt: number | undefined;
  status: number | undefined;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** Faults this request drew. */
  faults: FaultKind[];
  /** Why the server refused or failed it (bad request, failing scenario), if it did. */
  error: string | undefined;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Responses kept for `previous_response_id`; older ones are forgotten. */
const MAX_STORED_RESPONSES = 1000;

function now(): number {
  return performance.timeOrigin + performance.now();
}

export class FakeOpenAIServer {
  /** The base URL for the SDK: `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order, updated live as each one ends. */
  readonly requests: RequestRecord[] = [];
  latencyMs: number;
  deltaDelayMs: number;
  apiKey: string | undefined;
  models: string[];

  private readonly http: http.Server;
  private readonly onRequestEnd: ((record: RequestRecord) => void) | undefined;
  private readonly onDeltaWritten: FakeOpenAIOptions['onDeltaWritten'];
  private scenario: ScenarioFn;
  private readonly scripted: (Reply | ScenarioFn)[] = [];
  private readonly faults = new FaultRules();
  private readonly history: ConversationHistory = new Map();
  private modelRequestCount = 0;

  constructor(server: http.Server, options: FakeOpenAIOptions) {
    this.http = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/v1`;
    this.latencyMs = options.latencyMs ?? 0;
    this.deltaDelayMs = options.deltaDelayMs ?? 0;
    this.apiKey = options.apiKey;
    this.models = options.models ?? DEFAULT_MODELS;
    this.onRequestEnd = options.onRequestEnd;
    this.onDeltaWritten = options.onDeltaWritten;
    this.scenario = resolveScenario(options.scenario ?? 'echo');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the server itself: answer if still possible rather than leave the client hanging.
        if (!res.headersSent) sendJson(res, 500, errorBody(`fake-openai internal error: ${String(error)}`, 'server_error'));
        else res.destroy();
      });
    });
  }

  /** The scenario that answers requests no scripted reply is queued for. */
  setScenario(scenario: ScenarioName | ScenarioFn): void {
    this.scenario = resolveScenario(scenario);
  }

  /** Queues replies (or one-off scenario functions) for the next model requests, in order. */
  script(...replies: (Reply | ScenarioFn)[]): void {
    this.scripted.push(...replies);
  }

  /** Scripted replies not yet used. */
  get pendingScript(): number {
    return this.scripted.length;
  }

  /** Adds a fault for every model request, the next `times` ones, or those `match` picks. */
  injectFaults(fault: Fault, options?: FaultOptions): void {
    this.faults.add(fault, options);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Requests to the model APIs (responses and chat), leaving out `/v1/models` and strays. */
  modelRequests(): RequestRecord[] {
    return this.requests.filter((record) => record.api === 'responses' || record.api === 'chat');
  }

  /** The most model requests that were in flight at the same moment. */
  maxConcurrency(records: RequestRecord[] = this.modelRequests()): number {
    const edges = records.flatMap((record) => [
      { at: record.startedAt, change: 1 },
      { at: record.endedAt ?? Number.POSITIVE_INFINITY, change: -1 },
    ]);
    // At equal times an end comes first: touching intervals do not overlap.
    edges.sort((a, b) => a.at - b.at || a.change - b.change);
    let current = 0;
    let max = 0;
    for (const edge of edges) {
      current += edge.change;
      max = Math.max(max, current);
    }
    return max;
  }

  /** Forgets the log, faults, scripted replies and stored responses (the scenario stays). */
  reset(): void {
    this.requests.length = 0;
    this.scripted.length = 0;
    this.faults.clear();
    this.history.clear();
    this.modelRequestCount = 0;
  }

  /** Stops listening and drops open connections (in-flight responses end as cut). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.http.close((error) => (error ? reject(error) : resolve())));
    this.http.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const record: RequestRecord = {
      index: this.requests.length,
      method: req.method ?? 'GET',
      path,
      api:
        path === '/v1/responses'
          ? 'responses'
          : path === '/v1/chat/completions'
            ? 'chat'
            : path.startsWith('/v1/models')
              ? 'models'
              : 'other',
      model: undefined,
      stream: false,
      toolNames: [],
      headers: req.headers,
      body: undefined,
      startedAt: now(),
      endedAt: undefined,
      status: undefined,
      aborted: false,
      faults: [],
      error: undefined,
    };
    this.requests.push(record);

    // `close` comes both after a complete response and when the client hangs up early.
    const clientGone = new AbortController();
    const onDeltaWritten = this.onDeltaWritten;
    const exchange: Exchange = {
      res,
      record,
      signal: clientGone.signal,
      cutByServer: false,
      deltaWritten: onDeltaWritten && ((deltaIndex) => onDeltaWritten(record, deltaIndex, now())),
    };
    res.on('close', () => {
      record.endedAt = now();
      record.status = res.headersSent ? res.statusCode : undefined;
      if (!res.writableFinished && !exchange.cutByServer) record.aborted = true;
      clientGone.abort();
      this.onRequestEnd?.(record);
    });

    const bodyText = await readBody(req);
    if (bodyText === undefined) return; // the client went away mid-body
    if (bodyText === null) return refuse(exchange, 413, errorBody('Request body too large.', 'invalid_request_error'));

    if (this.apiKey !== undefined) {
      const key = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (key !== this.apiKey) {
        const message = key === undefined ? MISSING_KEY_MESSAGE : invalidKeyMessage(key);
        return refuse(exchange, 401, errorBody(message, 'invalid_request_error', key === undefined ? null : 'invalid_api_key'));
      }
    }

    if (record.api === 'models' && req.method === 'GET') return this.serveModels(exchange, path);
    if ((record.api === 'responses' || record.api === 'chat') && req.method === 'POST') {
      return this.serveModelRequest(exchange, record.api, bodyText);
    }
    return refuse(exchange, 404, errorBody(`Invalid URL (${req.method} ${path})`, 'invalid_request_error'));
  }

  private serveModels(exchange: Exchange, path: string): void {
    const created = 1_700_000_000;
    const model = (id: string) => ({ id, object: 'model', created, owned_by: 'openai' });
    if (path === '/v1/models') return sendJson(exchange.res, 200, { object: 'list', data: this.models.map(model) });
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (this.models.includes(id)) return sendJson(exchange.res, 200, model(id));
    refuse(exchange, 404, errorBody(`The model '${id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model'));
  }

  private async serveModelRequest(exchange: Exchange, api: ApiKind, bodyText: string): Promise<void> {
    const { record, signal } = exchange;
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return refuse(
        exchange,
        400,
        errorBody('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', 'invalid_request_error'),
      );
    }
    record.body = body;

    let request: ScenarioRequest;
    try {
      request = parseRequest(api, body, this.modelRequestCount++, this.history);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      return refuse(exchange, 400, errorBody(error.message, 'invalid_request_error', null, error.param));
    }
    record.model = request.model;
    record.stream = request.stream;
    record.toolNames = request.toolNames;

    const faults = this.faults.draw(request);
    record.faults = [faults.status, faults.delay, faults.body].filter((fault) => fault !== undefined).map((fault) => fault.kind);

    const delayMs = this.latencyMs + (faults.delay?.delayMs ?? 0);
    if (delayMs > 0 && !(await pauseUnlessAborted(delayMs, signal))) return;
    if (faults.status) return sendFault(exchange, faults.status);

    let plan: ReplyPlan;
    try {
      const next = this.scripted.shift() ?? this.scenario;
      const reply = typeof next === 'function' ? await next(request) : next;
      plan = planReply(reply, request, this.deltaDelayMs);
    } catch (error) {
      // A broken scenario is a bug in the test: say so, and tell the SDK not to retry it.
      const message = `fake-openai scenario failed: ${error instanceof Error ? error.message : String(error)}`;
      return refuse(exchange, 500, errorBody(message, 'server_error', 'scenario_error'), { 'x-should-retry': 'false' });
    }
    if (signal.aborted) return;

    if (api === 'responses') {
      const { response, events } = buildResponsesReply(plan, request);
      this.remember(response.id, [...request.conversation, ...conversationItems(plan)]);
      return request.stream ? writeStream(exchange, events, plan.deltaDelayMs, faults) : writeJsonBody(exchange, response, faults);
    }
    const { completion, events } = buildChatReply(plan, request);
    return request.stream ? writeStream(exchange, events, plan.deltaDelayMs, faults) : writeJsonBody(exchange, completion, faults);
  }

  private remember(responseId: string, conversation: ConversationItem[]): void {
    this.history.set(responseId, conversation);
    if (this.history.size > MAX_STORED_RESPONSES) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
    }
  }
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const server = http.createServer({ keepAliveTimeout: 5_000 });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  return new FakeOpenAIServer(server, options);
}

function resolveScenario(scenario: ScenarioName | ScenarioFn): ScenarioFn {
  if (typeof scenario === 'function') return scenario;
  if (!isScenarioName(scenario)) {
    throw new Error(`unknown scenario '${String(scenario)}' (known: ${Object.keys(scenarios).join(', ')})`);
  }
  return scenarios[scenario];
}

/** What the model said, as conversation items, for a later `previous_response_id`. */
function conversationItems(plan: ReplyPlan): ConversationItem[] {
  const items: ConversationItem[] = [];
  if (plan.message) items.push({ kind: 'message', role: 'assistant', text: plan.message.text });
  for (const call of plan.toolCalls) items.push({ kind: 'tool-call', callId: call.callId, name: call.name, arguments: call.arguments });
  return items;
}

interface Exchange {
  res: http.ServerResponse;
  record: RequestRecord;
  /** Aborted when the response ends, in particular when the client hangs up early. */
  signal: AbortSignal;
  /** The server broke the connection on purpose (a cut-stream fault): not a client abort. */
  cutByServer: boolean;
  deltaWritten: ((deltaIndex: number) => void) | undefined;
}

/** The body as text; null when over the cap, undefined when the client hung up while sending it. */
async function readBody(req: http.IncomingMessage): Promise<string | null | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return null;
      chunks.push(chunk);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits, unless the client hangs up first; says whether the exchange is still on. */
async function pauseUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function commonHeaders(): Record<string, string> {
  return { 'x-request-id': makeId('req_'), 'openai-version': '2020-10-01' };
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    ...commonHeaders(),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function refuse(exchange: Exchange, status: number, body: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  exchange.record.error = body.error.message;
  sendJson(exchange.res, status, body, headers);
}

function sendFault(exchange: Exchange, fault: NonNullable<DrawnFaults['status']>): void {
  const retryHeaders = (ms: number | undefined): Record<string, string> =>
    ms === undefined ? {} : { 'retry-after-ms': String(ms), 'retry-after': String(Math.ceil(ms / 1000)) };
  switch (fault.kind) {
    case '429': {
      const retryAfterMs = fault.retryAfterMs ?? (fault.retryAfterSeconds !== undefined ? fault.retryAfterSeconds * 1000 : 10);
      const headers: Record<string, string> = { ...retryHeaders(retryAfterMs), 'x-ratelimit-remaining-requests': '0' };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      return refuse(exchange, 429, errorBody(fault.message ?? RATE_LIMIT_MESSAGE, 'requests', 'rate_limit_exceeded'), headers);
    }
    case '500':
      return refuse(exchange, 500, errorBody(fault.message ?? SERVER_ERROR_MESSAGE, 'server_error'), retryHeaders(fault.retryAfterMs));
    case 'status': {
      const body = errorBody(
        fault.message ?? `Error ${fault.status}`,
        fault.type ?? (fault.status >= 500 ? 'server_error' : 'invalid_request_error'),
        fault.code ?? null,
      );
      return refuse(exchange, fault.status, body, retryHeaders(fault.retryAfterMs));
    }
  }
}

/** Breaks the connection once everything written so far has reached the socket. */
async function cutConnection(exchange: Exchange, written: Promise<void>): Promise<void> {
  exchange.cutByServer = true;
  await written;
  exchange.res.socket?.destroy();
}

function writeChunk(res: http.ServerResponse, text: string): { flushed: Promise<void>; mayContinue: boolean } {
  let mayContinue = true;
  const flushed = new Promise<void>((resolve) => {
    mayContinue = res.write(text, () => resolve());
  });
  return { flushed, mayContinue };
}

async function writeJsonBody(exchange: Exchange, value: unknown, faults: DrawnFaults): Promise<void> {
  const { res } = exchange;
  const text = JSON.stringify(value);
  const half = text.slice(0, Math.floor(text.length / 2));
  if (faults.body?.kind === 'invalid-json') return sendRaw(res, half);
  if (faults.body?.kind === 'cut-stream') {
    res.writeHead(200, { ...commonHeaders(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    return cutConnection(exchange, writeChunk(res, half).flushed);
  }
  sendJson(res, 200, value);
}

/** A complete 200 response labelled JSON whose body is not JSON. */
function sendRaw(res: http.ServerResponse, text: string): void {
  res.writeHead(200, { ...commonHeaders(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function writeStream(exchange: Exchange, events: SseEvent[], deltaDelayMs: number, faults: DrawnFaults): Promise<void> {
  const { res, signal } = exchange;
  res.writeHead(200, {
    ...commonHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();

  const bodyFault = faults.body;
  let written: Promise<void> = Promise.resolve();
  let deltaIndex = 0;
  for (let index = 0; index <= events.length; index++) {
    if (bodyFault?.kind === 'cut-stream' && index === bodyFault.afterEvents) return cutConnection(exchange, written);
    if (bodyFault?.kind === 'invalid-json' && index === (bodyFault.afterEvents ?? 0)) {
      // A data line that stops mid-object: what a proxy mangling the stream would deliver.
      written = writeChunk(res, formatSse({ name: events[index]?.name, data: '{"type": "broken', isDelta: false })).flushed;
    }
    const event = events[index];
    if (!event) break;
    if (event.isDelta && deltaDelayMs > 0 && !(await pauseUnlessAborted(deltaDelayMs, signal))) return;
    if (signal.aborted) return;
    const chunk = writeChunk(res, formatSse(event));
    written = chunk.flushed;
    if (event.isDelta) exchange.deltaWritten?.(deltaIndex++);
    if (!chunk.mayContinue) {
      // Back-pressure: wait for the socket to drain (or the client to leave).
      try {
        await once(res, 'drain', { signal });
      } catch {
        return;
      }
    }
  }
  if (bodyFault?.kind === 'cut-stream') return cutConnection(exchange, written);
  res.end();
}
