/**
 * The Responses API (`POST /v1/responses`, streamed): conversation items as input items, function
 * tools with strict schemas, the hosted `web_search` tool, and the stream's events as ProviderEvents.
 */
import { emptyCallUsage } from '../../protocol/index.ts';
import type {
  ResponseCreateParamsStreaming,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseStreamEvent,
  Tool,
} from 'openai/resources/responses/responses';
import type { ApiAdapter, RestoreArguments, StreamReader } from './api-adapter.ts';
import { strictSchema } from './strict-schema.ts';
import type { Citation, ConversationItem, ModelRequest, ModelResult, ProviderEvent, StopReason, ToolCall } from './types.ts';
import { ProviderError } from './types.ts';

export function responsesInput(items: readonly ConversationItem[]): ResponseInputItem[] {
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch returns for every role (TypeScript checks that it is exhaustive)
  return items.flatMap((item): ResponseInputItem[] => {
    switch (item.role) {
      case 'user':
        return [{ role: 'user', content: item.content }];
      case 'assistant': {
        const message: ResponseInputItem[] = item.content ? [{ role: 'assistant', content: item.content }] : [];
        const calls = (item.toolCalls ?? []).map(
          (call): ResponseInputItem => ({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments }),
        );
        return [...message, ...calls];
      }
      case 'tool':
        return [{ type: 'function_call_output', call_id: item.callId, output: item.content }];
    }
  });
}

export function responsesBody(request: ModelRequest): ResponseCreateParamsStreaming {
  const tools: Tool[] = (request.tools ?? []).map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description,
    parameters: strictSchema(tool.parameters),
    strict: true,
  }));
  if (request.webSearch) tools.push({ type: 'web_search' });
  return {
    model: request.model,
    input: responsesInput(request.items),
    stream: true,
    ...(request.instructions ? { instructions: request.instructions } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(request.reasoningEffort ? { reasoning: { effort: request.reasoningEffort } } : {}),
    ...(request.maxOutputTokens !== undefined ? { max_output_tokens: request.maxOutputTokens } : {}),
  };
}

function searchQuery(item: ResponseOutputItem): string | undefined {
  if (item.type !== 'web_search_call' || item.action?.type !== 'search') return undefined;
  return item.action.query ?? (item.action.queries?.length ? item.action.queries.join('; ') : undefined);
}

class ResponsesStreamReader implements StreamReader<ResponseStreamEvent> {
  private readonly restoreArguments: RestoreArguments;
  private model: string;
  private text = '';
  private readonly toolCalls: ToolCall[] = [];
  private readonly citations: Citation[] = [];
  private readonly citedUrls = new Set<string>();
  private final: ModelResult | undefined;

  constructor(request: ModelRequest, restoreArguments: RestoreArguments) {
    this.model = request.model;
    this.restoreArguments = restoreArguments;
  }

  read(event: ResponseStreamEvent, out: ProviderEvent[]): void {
    switch (event.type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        this.text += event.delta;
        out.push({ type: 'text.delta', delta: event.delta });
        return;
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        out.push({ type: 'reasoning.delta', delta: event.delta });
        return;
      case 'response.output_text.annotation.added':
        this.cite(event.annotation, out);
        return;
      case 'response.output_item.added':
        if (event.item.type === 'web_search_call') out.push(webSearchEvent(event.item, 'searching'));
        return;
      case 'response.output_item.done':
        this.itemDone(event.item, out);
        return;
      case 'response.completed':
      case 'response.incomplete':
        this.finish(event.response);
        return;
      case 'response.failed':
        throw new ProviderError('server', `the model failed: ${event.response.error?.message ?? 'no reason given'}`);
      case 'error':
        throw new ProviderError('server', `the model failed: ${event.message}`);
      default:
        return;
    }
  }

  private itemDone(item: ResponseOutputItem, out: ProviderEvent[]): void {
    if (item.type === 'web_search_call') {
      out.push(webSearchEvent(item, 'done'));
    } else if (item.type === 'function_call') {
      // Emitted when the call is complete: its arguments are all there.
      const call = { id: item.call_id, name: item.name, arguments: this.restoreArguments(item.name, item.arguments) };
      this.toolCalls.push(call);
      out.push({ type: 'tool.call', call });
    } else if (item.type === 'message') {
      // Servers that skip the annotation events still list them on the finished message.
      for (const part of item.content)
        if (part.type === 'output_text') for (const annotation of part.annotations) this.cite(annotation, out);
    }
  }

  private cite(annotation: unknown, out: ProviderEvent[]): void {
    const found = annotation as { type?: unknown; url?: unknown; title?: unknown };
    if (found.type !== 'url_citation' || typeof found.url !== 'string' || this.citedUrls.has(found.url)) return;
    this.citedUrls.add(found.url);
    const citation: Citation = typeof found.title === 'string' && found.title ? { url: found.url, title: found.title } : { url: found.url };
    this.citations.push(citation);
    out.push({ type: 'citation', citation });
  }

  private finish(response: Extract<ResponseStreamEvent, { type: 'response.completed' }>['response']): void {
    const usage = response.usage;
    const reason = response.incomplete_details?.reason;
    const stopReason: StopReason =
      reason === 'max_output_tokens'
        ? 'length'
        : reason === 'content_filter'
          ? 'content_filter'
          : this.toolCalls.length > 0
            ? 'tool_calls'
            : 'stop';
    this.model = response.model || this.model;
    this.final = {
      text: this.text,
      toolCalls: this.toolCalls,
      citations: this.citations,
      usage: usage
        ? {
            inputTokens: usage.input_tokens,
            cachedInputTokens: usage.input_tokens_details?.cached_tokens ?? 0,
            outputTokens: usage.output_tokens,
            reasoningTokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
          }
        : emptyCallUsage(),
      stopReason,
      model: this.model,
    };
  }

  result(): ModelResult | undefined {
    return this.final;
  }
}

function webSearchEvent(item: ResponseOutputItem, status: 'searching' | 'done'): ProviderEvent {
  const query = searchQuery(item);
  return query === undefined ? { type: 'web.search', status } : { type: 'web.search', status, query };
}

export const responsesAdapter: ApiAdapter<ResponseStreamEvent> = {
  api: 'responses',
  open: (client, request, signal) => client.responses.create(responsesBody(request), { signal }).asResponse(),
  reader: (request, restoreArguments) => new ResponsesStreamReader(request, restoreArguments),
};
