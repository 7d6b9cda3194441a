/**
 * A reply script (what a scenario returns) and its resolution into a plan both API writers share:
 * ids, text cut into deltas, citation offsets, usage. One place, so both APIs answer alike.
 */
import { randomBytes } from 'node:crypto';
import type { ScenarioRequest } from './request.ts';

export interface Reply {
  /** The assistant's message. No text (or '') and tool calls: the reply is only the calls. */
  text?: string;
  /** Exact deltas for the text; they must join to `text` (or give the text when `text` is omitted). */
  deltas?: string[];
  /** Function calls the model makes. `arguments` is sent as a JSON string (an object is serialized). */
  toolCalls?: ToolCallScript[];
  /** Hosted web searches made before answering (Responses API only; chat requests skip them). */
  webSearches?: WebSearchScript[];
  /** `url_citation` annotations on the text (Responses API only). */
  citations?: CitationScript[];
  /** A reasoning item before the answer (Responses API only; its tokens count on both). */
  reasoning?: { summary?: string };
  /** Usage to report; anything omitted is estimated (about 4 characters a token). */
  usage?: Partial<Usage>;
  /** Pause between deltas, overriding the server's default. */
  deltaDelayMs?: number;
  /**
   * Why the reply ends short of a natural stop: cut at the output-token limit (Chat Completions'
   * `finish_reason: "length"`, the Responses API's `incomplete` with `max_output_tokens`) or stopped
   * by the provider's content filter. The text and calls are sent as written: script them cut.
   */
  stop?: 'length' | 'content_filter';
}

export interface ToolCallScript {
  name: string;
  /**
   * `function` (default): a JSON-arguments function call. `custom`: a call to a freeform tool the
   * client offered with `type: "custom"` (Codex's `apply_patch`), whose `arguments` is the raw
   * input text (Responses API only).
   */
  type?: 'function' | 'custom';
  arguments?: string | Record<string, unknown>;
  /** The `call_id` the client must answer with; generated when omitted. */
  callId?: string;
}

export interface WebSearchScript {
  query: string;
  sources?: { url: string; title: string }[];
}

export interface CitationScript {
  url: string;
  title: string;
  /** The cited span of the text (its first occurrence); the whole text when omitted. */
  quote?: string;
}

/** Token counts as the APIs report them: output includes reasoning; cached is part of input. */
export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export interface UrlCitation {
  type: 'url_citation';
  url: string;
  title: string;
  start_index: number;
  end_index: number;
}

export interface ReplyPlan {
  reasoning: { id: string; summary: string | undefined; summaryDeltas: string[] } | undefined;
  webSearches: { id: string; query: string; sources: { url: string; title: string }[] }[];
  message: { id: string; text: string; deltas: string[]; annotations: UrlCitation[] } | undefined;
  /** `arguments` is a custom call's raw input. */
  toolCalls: { id: string; callId: string; type: 'function' | 'custom'; name: string; arguments: string; argumentDeltas: string[] }[];
  usage: Usage;
  deltaDelayMs: number;
  stop: Reply['stop'];
}

/** A reply that cannot be sent as written: a bug in the scenario or test, reported as such. */
export class ScriptError extends Error {}

/** An id in OpenAI's style: a prefix and random hex (`resp_…`, `msg_…`, `call_…`). */
export function makeId(prefix: string, bytes = 16): string {
  return prefix + randomBytes(bytes).toString('hex');
}

/** Roughly OpenAI's ratio for English; good enough for usage that tests do not pin. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Cuts text into deltas the way a tokenizer streams it: each word with the whitespace before it.
 * Joining the deltas gives the text back exactly.
 */
export function splitIntoDeltas(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/** Fixed-size pieces, for JSON arguments (which stream in arbitrary cuts). */
function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

export function planReply(reply: Reply, request: ScenarioRequest, defaultDeltaDelayMs: number): ReplyPlan {
  const text = reply.text ?? reply.deltas?.join('') ?? '';
  const deltas = reply.deltas ?? splitIntoDeltas(text);
  if (deltas.join('') !== text) throw new ScriptError('reply.deltas do not join to reply.text');

  const toolCalls = (reply.toolCalls ?? []).map((call) => {
    if (!call.name) throw new ScriptError('a scripted tool call has no name');
    const type = call.type ?? 'function';
    if (type === 'custom' && typeof call.arguments !== 'string') throw new ScriptError('a custom tool call takes its input as a string');
    if (type === 'custom' && request.api !== 'responses') throw new ScriptError('custom tool calls exist in the Responses API only');
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
    return {
      id: makeId(type === 'custom' ? 'ctc_' : 'fc_'),
      callId: call.callId ?? makeId('call_', 12),
      type,
      name: call.name,
      arguments: args,
      argumentDeltas: splitEvery(args, 8),
    };
  });

  const summary = reply.reasoning?.summary;
  const reasoning = reply.reasoning ? { id: makeId('rs_'), summary, summaryDeltas: splitIntoDeltas(summary ?? '') } : undefined;

  // A reply with neither text nor calls still answers with an (empty) message, as a model would.
  const hasMessage = text !== '' || toolCalls.length === 0;
  const message = hasMessage
    ? { id: makeId('msg_'), text, deltas, annotations: (reply.citations ?? []).map((citation) => locateCitation(citation, text)) }
    : undefined;

  const webSearches = (reply.webSearches ?? []).map((search) => ({
    id: makeId('ws_'),
    query: search.query,
    sources: search.sources ?? [],
  }));

  const reasoningTokens = reply.usage?.reasoningTokens ?? (reasoning ? 16 + estimateTokens(summary ?? '') : 0);
  const inputText = request.conversation
    .map((item) => (item.kind === 'message' ? item.text : item.kind === 'tool-call' ? item.arguments : item.output))
    .join('\n');
  const outputText = text + toolCalls.map((call) => call.name + call.arguments).join('');
  const usage: Usage = {
    inputTokens: reply.usage?.inputTokens ?? Math.max(1, estimateTokens(inputText)),
    cachedInputTokens: reply.usage?.cachedInputTokens ?? 0,
    outputTokens: reply.usage?.outputTokens ?? estimateTokens(outputText) + reasoningTokens,
    reasoningTokens,
  };
  if (usage.cachedInputTokens > usage.inputTokens) throw new ScriptError('usage.cachedInputTokens exceeds usage.inputTokens');
  if (usage.reasoningTokens > usage.outputTokens) throw new ScriptError('usage.reasoningTokens exceeds usage.outputTokens');

  return { reasoning, webSearches, message, toolCalls, usage, deltaDelayMs: reply.deltaDelayMs ?? defaultDeltaDelayMs, stop: reply.stop };
}

function locateCitation(citation: CitationScript, text: string): UrlCitation {
  const quote = citation.quote ?? text;
  const start = text.indexOf(quote);
  if (start < 0) throw new ScriptError(`citation quote ${JSON.stringify(quote)} is not in the reply text`);
  return { type: 'url_citation', url: citation.url, title: citation.title, start_index: start, end_index: start + quote.length };
}
