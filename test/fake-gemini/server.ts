/**
 * A small fake of the Gemini API (generativelanguage.googleapis.com, `v1beta`) on 127.0.0.1, enough
 * for Gemini CLI to run headless against it (`GOOGLE_GEMINI_BASE_URL`): `generateContent`,
 * `streamGenerateContent` (SSE with `alt=sse`, as the `@google/genai` SDK asks) and `countTokens`,
 * answers scripted per request, error statuses in Google's shape on demand, and a log of every
 * request. Only what the tests need: no files, caching, or embeddings.
 *
 *   const server = await startFakeGemini();
 *   server.script({ functionCalls: [{ name: 'write_file', args: { file_path: 'a.txt', content: 'x' } }] }, { text: 'Done' });
 *   // GOOGLE_GEMINI_BASE_URL=server.url
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One model answer. */
export interface GeminiReply {
  text?: string;
  /** Function calls the model makes (after the text, in the same turn). */
  functionCalls?: { name: string; args?: Record<string, unknown> }[];
  /** Usage to report; anything omitted is estimated (about 4 characters a token). */
  usage?: { promptTokenCount?: number; candidatesTokenCount?: number; cachedContentTokenCount?: number; thoughtsTokenCount?: number };
}

/** An error answer in the API's shape: `{"error": {code, message, status, details}}`. */
export interface GeminiFault {
  /** HTTP status: 400 (a bad key is INVALID_ARGUMENT there), 403, 429, 500, 503 … */
  code: number;
  /** The gRPC status name: `RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT`, `UNAVAILABLE` … */
  status: string;
  message: string;
  /** `details` entries (`google.rpc.RetryInfo`, `google.rpc.ErrorInfo`, `google.rpc.QuotaFailure`). */
  details?: unknown[];
}

/** What a scenario sees of a request. */
export interface GeminiRequest {
  model: string;
  method: 'generateContent' | 'streamGenerateContent' | 'countTokens';
  /** Function names the request offers the model. */
  toolNames: string[];
  /** The request's JSON body. */
  body: Record<string, unknown>;
  /** Function responses in the last turn of the conversation (the results of the previous calls). */
  functionResponses: { name: string; response: unknown }[];
}

export type GeminiScenario = (request: GeminiRequest) => GeminiReply;

export interface GeminiRequestRecord {
  method: string;
  path: string;
  model: string | undefined;
  api: GeminiRequest['method'] | 'other';
  toolNames: string[];
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number | undefined;
}

export interface FakeGeminiOptions {
  /** Answers requests no scripted reply is queued for. Default: a short text. */
  scenario?: GeminiScenario;
}

const defaultScenario: GeminiScenario = () => ({ text: 'OK.' });

export class FakeGeminiServer {
  /** What `GOOGLE_GEMINI_BASE_URL` is set to: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: GeminiRequestRecord[] = [];
  private readonly httpServer: http.Server;
  private scenario: GeminiScenario;
  private readonly scripted: (GeminiReply | GeminiScenario)[] = [];
  private readonly faults: { fault: GeminiFault; remaining: number; match: (request: GeminiRequest) => boolean }[] = [];

  constructor(server: http.Server, options: FakeGeminiOptions) {
    this.httpServer = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.scenario = options.scenario ?? defaultScenario;
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, errorBody({ code: 500, status: 'INTERNAL', message: `fake-gemini: ${String(error)}` }));
        else res.destroy();
      });
    });
  }

  setScenario(scenario: GeminiScenario): void {
    this.scenario = scenario;
  }

  /** Queues replies (or one-off scenario functions) for the next generate requests, ahead of the scenario. */
  script(...replies: (GeminiReply | GeminiScenario)[]): void {
    this.scripted.push(...replies);
  }

  /** Answers the next `times` requests `match` picks (default: every generate request) with an error. */
  injectFault(fault: GeminiFault, options: { times?: number; match?: (request: GeminiRequest) => boolean } = {}): void {
    this.faults.push({
      fault,
      remaining: options.times ?? Number.POSITIVE_INFINITY,
      match: options.match ?? ((request) => request.method !== 'countTokens'),
    });
  }

  /** Requests that generated content (leaving out token counts and strays). */
  modelRequests(): GeminiRequestRecord[] {
    return this.requests.filter((record) => record.api === 'generateContent' || record.api === 'streamGenerateContent');
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.httpServer.close((error) => (error ? reject(error) : resolve())));
    this.httpServer.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: GeminiRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      model: undefined,
      api: 'other',
      toolNames: [],
      headers: req.headers,
      body: undefined,
      status: undefined,
    };
    this.requests.push(record);
    res.on('close', () => {
      record.status = res.headersSent ? res.statusCode : undefined;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const match = /^\/v1(?:beta|alpha)?\/models\/([^:/]+):(generateContent|streamGenerateContent|countTokens)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      return sendJson(res, 404, errorBody({ code: 404, status: 'NOT_FOUND', message: `fake-gemini: no ${req.method} ${url.pathname}` }));
    }
    const [, model = '', method] = match;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, errorBody({ code: 400, status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' }));
    }
    const request: GeminiRequest = {
      model: decodeURIComponent(model),
      method: method as GeminiRequest['method'],
      toolNames: offeredFunctions(body),
      body,
      functionResponses: lastFunctionResponses(body),
    };
    Object.assign(record, { model: request.model, api: request.method, toolNames: request.toolNames, body });

    const fault = this.faults.find((rule) => rule.remaining > 0 && rule.match(request));
    if (fault) {
      fault.remaining--;
      return sendJson(res, fault.fault.code, errorBody(fault.fault));
    }
    if (request.method === 'countTokens') return sendJson(res, 200, { totalTokens: estimateTokens(JSON.stringify(body.contents ?? '')) });

    const next = this.scripted.shift() ?? this.scenario;
    const reply = typeof next === 'function' ? next(request) : next;
    const chunksToSend = responseChunks(reply, request);
    if (request.method === 'generateContent') return sendJson(res, 200, mergeChunks(chunksToSend));
    if (url.searchParams.get('alt') !== 'sse') {
      // Without `alt=sse` the API streams a JSON array; the SDK always asks for SSE.
      return sendJson(res, 200, chunksToSend);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const chunk of chunksToSend) res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    res.end();
  }
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGeminiServer> {
  const server = http.createServer({ keepAliveTimeout: 5_000 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return new FakeGeminiServer(server, options);
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function offeredFunctions(body: Record<string, unknown>): string[] {
  const tools = Array.isArray(body.tools) ? (body.tools as { functionDeclarations?: { name?: string }[] }[]) : [];
  return tools.flatMap((tool) => (tool.functionDeclarations ?? []).map((declaration) => declaration.name ?? ''));
}

function lastFunctionResponses(body: Record<string, unknown>): GeminiRequest['functionResponses'] {
  const contents = Array.isArray(body.contents)
    ? (body.contents as { parts?: { functionResponse?: { name: string; response: unknown } }[] }[])
    : [];
  const parts = contents.at(-1)?.parts ?? [];
  return parts.flatMap((part) =>
    part.functionResponse ? [{ name: part.functionResponse.name, response: part.functionResponse.response }] : [],
  );
}

/** The reply as the API streams it: the text in a few chunks, then the calls, then the finish with usage. */
function responseChunks(reply: GeminiReply, request: GeminiRequest): Record<string, unknown>[] {
  const text = reply.text ?? '';
  const pieces = text === '' ? [] : (text.match(/[\s\S]{1,40}/g) ?? []);
  const calls = (reply.functionCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.args ?? {} } }));
  const usage = {
    promptTokenCount: reply.usage?.promptTokenCount ?? estimateTokens(JSON.stringify(request.body.contents ?? '')),
    candidatesTokenCount: reply.usage?.candidatesTokenCount ?? estimateTokens(text + JSON.stringify(calls)),
    ...(reply.usage?.cachedContentTokenCount !== undefined ? { cachedContentTokenCount: reply.usage.cachedContentTokenCount } : {}),
    ...(reply.usage?.thoughtsTokenCount !== undefined ? { thoughtsTokenCount: reply.usage.thoughtsTokenCount } : {}),
  };
  const totalTokenCount = usage.promptTokenCount + usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0);
  const candidate = (parts: unknown[], finishReason?: string): Record<string, unknown> => ({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finishReason ? { finishReason } : {}) }],
    modelVersion: request.model,
    responseId: `fake-${Math.random().toString(36).slice(2)}`,
  });
  const chunks = pieces.map((piece) => candidate([{ text: piece }]));
  const finalParts = calls.length > 0 ? calls : pieces.length === 0 ? [{ text: '' }] : [];
  chunks.push({ ...candidate(finalParts, 'STOP'), usageMetadata: { ...usage, totalTokenCount } });
  return chunks;
}

/** A non-streamed answer: the chunks' parts in one candidate. */
function mergeChunks(chunks: Record<string, unknown>[]): Record<string, unknown> {
  type Chunk = { candidates: { content: { parts: { text?: string }[] } }[] };
  const parts = chunks.flatMap((chunk) => (chunk as unknown as Chunk).candidates[0]?.content.parts ?? []);
  const text = parts.flatMap((part) => (part.text !== undefined ? [part.text] : [])).join('');
  const others = parts.filter((part) => part.text === undefined);
  const last = chunks.at(-1) as Record<string, unknown> & Chunk;
  const merged = [...(text ? [{ text }] : []), ...others];
  return {
    ...last,
    candidates: [{ ...last.candidates[0], content: { role: 'model', parts: merged.length > 0 ? merged : [{ text: '' }] } }],
  };
}

function errorBody(fault: GeminiFault): { error: Record<string, unknown> } {
  return {
    error: { code: fault.code, message: fault.message, status: fault.status, ...(fault.details ? { details: fault.details } : {}) },
  };
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
