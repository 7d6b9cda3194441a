/**
 * A real Anthropic Messages API server for tests (node:http on 127.0.0.1): what Claude Code sends
 * when `ANTHROPIC_BASE_URL` points here. `POST /v1/messages` streaming (SSE) and not, with text,
 * thinking and tool_use blocks; `POST /v1/messages/count_tokens`; `GET /v1/models[/id]`; and
 * `HEAD|GET /api/hello`, the connectivity check Claude Code makes unless its nonessential traffic
 * is off. Replies are scripted: each messages request takes the next queued one; every request is
 * recorded.
 *
 *   const server = await startFakeAnthropicForTest(t);
 *   server.script({ toolUses: [{ name: 'Write', input: { file_path: 'a.txt', content: 'a' } }] }, { text: 'done' });
 *   env.ANTHROPIC_BASE_URL = server.url;
 *   server.messageRequests()   // what Claude Code asked, in order
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { formatSse } from '../fake-openai/sse.ts';
import type { MessagesRequest, ReplyFn, ScriptedReply } from './messages.ts';
import { BadRequestError, buildMessage, errorBody, isErrorReply, parseMessagesRequest } from './messages.ts';
import { estimateTokens } from '../fake-openai/reply.ts';

/** The models `GET /v1/models` lists; any model id is accepted in requests. */
export const DEFAULT_MODELS = ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'fake-claude'];

/** What the server answers when nothing is scripted: a plain turn that ends the client's loop. */
export const UNSCRIPTED_TEXT = 'fake-anthropic: no reply was scripted for this request.';

export interface FakeAnthropicOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** When set, requests must carry it (`x-api-key`, or `Authorization: Bearer`) or get a 401. */
  apiKey?: string;
  /** Answers messages requests when no scripted reply is queued. Default: UNSCRIPTED_TEXT. */
  fallback?: ReplyFn;
}

export interface RequestRecord {
  /** Arrival order among all requests to this server, from 0. */
  index: number;
  method: string;
  /** The path without its query (Claude Code adds `?beta=true`). */
  path: string;
  kind: 'messages' | 'count_tokens' | 'models' | 'hello' | 'other';
  model: string | undefined;
  stream: boolean;
  toolNames: string[];
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined for GET or a body that is not JSON). */
  body: unknown;
  /** The status answered (undefined until the response is sent). */
  status: number | undefined;
  /** Why the server refused it, if it did. */
  error: string | undefined;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class FakeAnthropicServer {
  /** The base URL for ANTHROPIC_BASE_URL: `http://127.0.0.1:PORT` (clients add `/v1/messages`). */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[] = [];
  apiKey: string | undefined;

  private readonly http: http.Server;
  private readonly scripted: (ScriptedReply | ReplyFn)[] = [];
  private readonly fallback: ReplyFn;
  private messagesCount = 0;

  constructor(server: http.Server, options: FakeAnthropicOptions) {
    this.http = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.apiKey = options.apiKey;
    this.fallback = options.fallback ?? (() => ({ text: UNSCRIPTED_TEXT }));
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the server or a script: answer (not retryable) rather than leave the client hanging.
        if (!res.headersSent) this.send(res, undefined, 400, errorBody('invalid_request_error', `fake-anthropic: ${String(error)}`));
        else res.destroy();
      });
    });
  }

  /** Queues replies (or one-off functions of the request) for the next messages requests, in order. */
  script(...replies: (ScriptedReply | ReplyFn)[]): void {
    this.scripted.push(...replies);
  }

  /** Scripted replies not yet used. */
  get pendingScript(): number {
    return this.scripted.length;
  }

  /** The `POST /v1/messages` requests, in order. */
  messageRequests(): RequestRecord[] {
    return this.requests.filter((record) => record.kind === 'messages');
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.http.close((error) => (error ? reject(error) : resolve())));
    this.http.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '') || '/';
    const record: RequestRecord = {
      index: this.requests.length,
      method: req.method ?? 'GET',
      path,
      kind: kindOf(path),
      model: undefined,
      stream: false,
      toolNames: [],
      headers: req.headers,
      body: undefined,
      status: undefined,
      error: undefined,
    };
    this.requests.push(record);

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return this.send(res, record, 413, errorBody('request_too_large', 'Request exceeds the maximum size'));
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text) {
      try {
        record.body = JSON.parse(text);
      } catch {
        return this.send(res, record, 400, errorBody('invalid_request_error', 'The request body is not valid JSON.'));
      }
    }

    if (this.apiKey !== undefined && record.kind !== 'hello') {
      const key = req.headers['x-api-key'] ?? /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (key !== this.apiKey) return this.send(res, record, 401, errorBody('authentication_error', 'invalid x-api-key'));
    }

    switch (`${req.method} ${record.kind}`) {
      case 'HEAD hello':
      case 'GET hello':
        return this.send(res, record, 200, { message: 'hello' });
      case 'GET models':
        return this.serveModels(res, record);
      case 'POST count_tokens':
        return this.send(res, record, 200, { input_tokens: estimateTokens(JSON.stringify(record.body ?? '')) });
      case 'POST messages':
        return this.serveMessages(res, record);
      default:
        return this.send(res, record, 404, errorBody('not_found_error', `Not found: ${req.method} ${path}`));
    }
  }

  private serveModels(res: http.ServerResponse, record: RequestRecord): void {
    const model = (id: string) => ({ type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z' });
    if (record.path === '/v1/models') {
      const data = DEFAULT_MODELS.map(model);
      return this.send(res, record, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    const id = decodeURIComponent(record.path.slice('/v1/models/'.length));
    if (DEFAULT_MODELS.includes(id)) return this.send(res, record, 200, model(id));
    this.send(res, record, 404, errorBody('not_found_error', `model: ${id}`));
  }

  private async serveMessages(res: http.ServerResponse, record: RequestRecord): Promise<void> {
    let request: MessagesRequest;
    try {
      request = parseMessagesRequest(record.body, this.messagesCount++);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      return this.send(res, record, 400, errorBody('invalid_request_error', error.message));
    }
    record.model = request.model;
    record.stream = request.stream;
    record.toolNames = request.toolNames;

    const next = this.scripted.shift() ?? this.fallback;
    const reply = typeof next === 'function' ? await next(request) : next;
    if (isErrorReply(reply)) {
      const { status, type, message, retryAfterSeconds } = reply.error;
      const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
      return this.send(res, record, status, errorBody(type, message), headers);
    }
    const { message, events } = buildMessage(reply, request);
    if (!request.stream) return this.send(res, record, 200, message);
    record.status = 200;
    res.writeHead(200, { ...commonHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const event of events) res.write(formatSse(event));
    res.end();
  }

  private send(
    res: http.ServerResponse,
    record: RequestRecord | undefined,
    status: number,
    value: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (record) {
      record.status = status;
      if (status >= 400) record.error = (value as { error?: { message?: string } }).error?.message;
    }
    const text = JSON.stringify(value);
    res.writeHead(status, {
      ...commonHeaders(),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(record?.method === 'HEAD' ? undefined : text);
  }
}

function kindOf(path: string): RequestRecord['kind'] {
  if (path === '/v1/messages') return 'messages';
  if (path === '/v1/messages/count_tokens') return 'count_tokens';
  if (path === '/v1/models' || path.startsWith('/v1/models/')) return 'models';
  if (path === '/api/hello') return 'hello';
  return 'other';
}

function commonHeaders(): Record<string, string> {
  return { 'request-id': `req_fake${Date.now().toString(36)}`, 'anthropic-organization-id': 'fake-org' };
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const server = http.createServer({ keepAliveTimeout: 5_000 });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  return new FakeAnthropicServer(server, options);
}

/** One server for a test, closed after it. */
export async function startFakeAnthropicForTest(t: TestContext, options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const server = await startFakeAnthropic(options);
  t.after(() => server.close());
  return server;
}
