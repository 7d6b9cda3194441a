/**
 * What the fake Anthropic server answers a `POST /v1/messages` with: a reply script (what a test
 * queues) turned into Anthropic's exact shapes, the streamed events (`message_start`, a `ping`,
 * `content_block_start/delta/stop` for thinking, text and tool_use blocks, `message_delta` with the
 * stop reason and usage, `message_stop`) or the one message JSON. And the parts of a request a
 * script may want to look at. One place, so the streamed and the whole answer always agree.
 */
import type { SseEvent } from '../fake-openai/sse.ts';
import { estimateTokens, makeId, splitIntoDeltas } from '../fake-openai/reply.ts';

/** A tool call the model makes: `Write` with `{ file_path, content }`, `Bash` with `{ command }`. */
export interface ToolUseScript {
  name: string;
  input: Record<string, unknown>;
  /** The `tool_use` id the client must answer with; generated when omitted. */
  id?: string;
}

/** One scripted model turn. */
export interface AnthropicReply {
  /** A thinking block before the answer. */
  thinking?: string;
  /** The assistant's text; none (or '') with tool uses: the turn is only the calls. */
  text?: string;
  toolUses?: ToolUseScript[];
  /** Usage to report; anything omitted is estimated (about 4 characters a token). */
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number };
  /** The turn was cut at `max_tokens` (send the text cut as you want it). */
  stop?: 'max_tokens';
}

/** One scripted refusal: the status and Anthropic's error body (`rate_limit_error`, `authentication_error`…). */
export interface AnthropicErrorReply {
  error: { status: number; type: string; message: string; retryAfterSeconds?: number };
}

/** What a script sees of a `POST /v1/messages`. */
export interface MessagesRequest {
  /** Among the messages requests to this server, from 0. */
  index: number;
  model: string;
  stream: boolean;
  /** Tool names offered (Claude Code offers its built-in tools: Bash, Edit, Read, Write …). */
  toolNames: string[];
  /** The system prompt's text, its blocks joined. */
  system: string;
  /** The tool results the last user message carries, in order. */
  toolResults: { toolUseId: string; content: string; isError: boolean }[];
  /** The request body as sent. */
  body: Record<string, unknown>;
}

export type ScriptedReply = AnthropicReply | AnthropicErrorReply;
export type ReplyFn = (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>;

export class BadRequestError extends Error {}

export function isErrorReply(reply: ScriptedReply): reply is AnthropicErrorReply {
  return 'error' in reply;
}

/** The request's parts a script reads; throws BadRequestError where the real API would answer 400. */
export function parseMessagesRequest(body: unknown, index: number): MessagesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object');
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '') throw new BadRequestError('model: Field required');
  if (!Array.isArray(record.messages)) throw new BadRequestError('messages: Field required');
  if (typeof record.max_tokens !== 'number') throw new BadRequestError('max_tokens: Field required');
  const tools = Array.isArray(record.tools) ? (record.tools as { name?: unknown }[]) : [];
  const lastUser = (record.messages as { role?: unknown; content?: unknown }[]).findLast((message) => message.role === 'user');
  const toolResults = Array.isArray(lastUser?.content)
    ? (lastUser.content as Record<string, unknown>[])
        .filter((block) => block.type === 'tool_result')
        .map((block) => ({ toolUseId: String(block.tool_use_id), content: textOf(block.content), isError: block.is_error === true }))
    : [];
  return {
    index,
    model: record.model,
    stream: record.stream === true,
    toolNames: tools.map((tool) => String(tool.name)),
    system: textOf(record.system),
    toolResults,
    body: record,
  };
}

/** A content value (a string, or blocks with text) as one string. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block: { text?: unknown }) => (typeof block?.text === 'string' ? block.text : '')).join('\n');
}

interface PlannedBlock {
  block: Record<string, unknown>;
  /** Empty at the start of a streamed block, filled by its deltas. */
  start: Record<string, unknown>;
  deltas: Record<string, unknown>[];
}

/** The reply as Anthropic's message JSON and, for streaming, its events. */
export function buildMessage(reply: AnthropicReply, request: MessagesRequest): { message: Record<string, unknown>; events: SseEvent[] } {
  const blocks: PlannedBlock[] = [];
  if (reply.thinking) {
    const signature = makeId('sig_');
    blocks.push({
      block: { type: 'thinking', thinking: reply.thinking, signature },
      start: { type: 'thinking', thinking: '', signature: '' },
      deltas: [
        ...splitIntoDeltas(reply.thinking).map((thinking) => ({ type: 'thinking_delta', thinking })),
        { type: 'signature_delta', signature },
      ],
    });
  }
  if (reply.text) {
    blocks.push({
      block: { type: 'text', text: reply.text },
      start: { type: 'text', text: '' },
      deltas: splitIntoDeltas(reply.text).map((text) => ({ type: 'text_delta', text })),
    });
  }
  for (const use of reply.toolUses ?? []) {
    if (!use.name) throw new Error('a scripted tool use has no name');
    const id = use.id ?? makeId('toolu_', 12);
    const json = JSON.stringify(use.input);
    blocks.push({
      block: { type: 'tool_use', id, name: use.name, input: use.input },
      start: { type: 'tool_use', id, name: use.name, input: {} },
      // Arbitrary cuts, as the real API streams arguments: the client must join before parsing.
      deltas: pieces(json, 24).map((partial_json) => ({ type: 'input_json_delta', partial_json })),
    });
  }
  if (blocks.length === 0) throw new Error('a scripted reply needs text, thinking or tool uses');

  const outputTokens =
    reply.usage?.outputTokens ?? estimateTokens(`${reply.thinking ?? ''}${reply.text ?? ''}${JSON.stringify(reply.toolUses ?? [])}`);
  const usage = {
    input_tokens: reply.usage?.inputTokens ?? estimateTokens(JSON.stringify(request.body.messages)),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: reply.usage?.cacheReadInputTokens ?? 0,
    output_tokens: outputTokens,
  };
  const stopReason = reply.stop ?? (reply.toolUses?.length ? 'tool_use' : 'end_turn');
  const base = { id: makeId('msg_', 12), type: 'message', role: 'assistant', model: request.model };
  const message = { ...base, content: blocks.map((planned) => planned.block), stop_reason: stopReason, stop_sequence: null, usage };

  const event = (type: string, data: Record<string, unknown>, isDelta = false): SseEvent => ({
    name: type,
    data: JSON.stringify({ type, ...data }),
    isDelta,
  });
  const events: SseEvent[] = [
    event('message_start', {
      message: { ...base, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }),
    event('ping', {}),
  ];
  blocks.forEach((planned, index) => {
    events.push(event('content_block_start', { index, content_block: planned.start }));
    for (const delta of planned.deltas) events.push(event('content_block_delta', { index, delta }, true));
    events.push(event('content_block_stop', { index }));
  });
  events.push(event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }));
  events.push(event('message_stop', {}));
  return { message, events };
}

/** Anthropic's error body: `{"type":"error","error":{type, message},"request_id"}`. */
export function errorBody(type: string, message: string): Record<string, unknown> {
  return { type: 'error', error: { type, message }, request_id: makeId('req_', 12) };
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out.length ? out : [''];
}
