/**
 * The Responses API (`POST /v1/responses`): a reply plan as the final `response` object and as the
 * stream of server-sent events OpenAI sends for it, typed with the `openai` SDK's own types so the
 * SDK (and its stream helpers) parse them.
 */
import type {
  Response,
  ResponseCustomToolCall,
  ResponseFunctionToolCall,
  ResponseFunctionWebSearch,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseReasoningItem,
  ResponseStreamEvent,
  ResponseUsage,
  Tool,
} from 'openai/resources/responses/responses';
import type { ReplyPlan, Usage } from './reply.ts';
import { makeId } from './reply.ts';
import type { ScenarioRequest } from './request.ts';
import type { SseEvent } from './sse.ts';

/** `output_text` is a convenience the SDK adds on the client; the wire object does not carry it. */
export type WireResponse = Omit<Response, 'output_text'>;

type Unsequenced<T> = T extends unknown ? Omit<T, 'sequence_number'> : never;

export function responsesUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens, cache_write_tokens: 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** The `response` object in a given state, echoing the request's settings as OpenAI does. */
function responseObject(
  id: string,
  createdAt: number,
  request: ScenarioRequest,
  status: 'in_progress' | 'completed' | 'incomplete',
  output: ResponseOutputItem[],
  usage: ResponseUsage | undefined,
  incomplete: ReplyPlan['stop'] = undefined,
): WireResponse {
  const body = request.body;
  const response: WireResponse = {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: incomplete ? { reason: incomplete === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    metadata: isRecord(body.metadata) ? (body.metadata as Record<string, string>) : {},
    model: request.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    reasoning: { effort: reasoningEffort(body.reasoning), summary: null },
    service_tier: 'default',
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    // The tools are echoed as the client sent them; parseRequest has checked their outline.
    tools: (Array.isArray(body.tools) ? body.tools : []) as Tool[],
    top_p: typeof body.top_p === 'number' ? body.top_p : 1,
    truncation: 'disabled',
  };
  if (usage) response.usage = usage;
  return response;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reasoningEffort(reasoning: unknown): 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | null {
  const effort = isRecord(reasoning) ? reasoning.effort : undefined;
  return effort === 'none' || effort === 'minimal' || effort === 'low' || effort === 'medium' || effort === 'high' || effort === 'xhigh'
    ? effort
    : null;
}

/** The completed output items of a plan, in the order a model produces them. */
function outputItems(plan: ReplyPlan): ResponseOutputItem[] {
  const items: ResponseOutputItem[] = [];
  if (plan.reasoning) items.push(reasoningItem(plan.reasoning));
  for (const search of plan.webSearches) items.push(webSearchItem(search, 'completed'));
  if (plan.message) items.push(messageItem(plan.message, 'completed'));
  for (const call of plan.toolCalls) items.push(toolCallItem(call, 'completed'));
  return items;
}

function reasoningItem(reasoning: NonNullable<ReplyPlan['reasoning']>): ResponseReasoningItem {
  return {
    id: reasoning.id,
    type: 'reasoning',
    summary: reasoning.summary === undefined ? [] : [{ type: 'summary_text', text: reasoning.summary }],
  };
}

function webSearchItem(search: ReplyPlan['webSearches'][number], status: 'in_progress' | 'completed'): ResponseFunctionWebSearch {
  const sources = search.sources.map((source) => ({ type: 'url' as const, url: source.url }));
  return {
    id: search.id,
    type: 'web_search_call',
    status,
    action: status === 'completed' ? { type: 'search', query: search.query, sources } : { type: 'search', query: search.query },
  };
}

function outputText(message: NonNullable<ReplyPlan['message']>, complete: boolean): ResponseOutputText {
  return { type: 'output_text', annotations: complete ? message.annotations : [], logprobs: [], text: complete ? message.text : '' };
}

function messageItem(message: NonNullable<ReplyPlan['message']>, status: 'in_progress' | 'completed'): ResponseOutputMessage {
  return {
    id: message.id,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [outputText(message, true)] : [],
  };
}

function functionCallItem(call: ReplyPlan['toolCalls'][number], status: 'in_progress' | 'completed'): ResponseFunctionToolCall {
  return {
    id: call.id,
    type: 'function_call',
    status,
    arguments: status === 'completed' ? call.arguments : '',
    call_id: call.callId,
    name: call.name,
  };
}

/** A call to a freeform (`custom`) tool: its input is raw text, not JSON. The wire item carries a status as function calls do. */
function customCallItem(
  call: ReplyPlan['toolCalls'][number],
  status: 'in_progress' | 'completed',
): ResponseCustomToolCall & { status: 'in_progress' | 'completed' } {
  return {
    id: call.id,
    type: 'custom_tool_call',
    status,
    input: status === 'completed' ? call.arguments : '',
    call_id: call.callId,
    name: call.name,
  };
}

function toolCallItem(call: ReplyPlan['toolCalls'][number], status: 'in_progress' | 'completed'): ResponseOutputItem {
  return call.type === 'custom' ? customCallItem(call, status) : functionCallItem(call, status);
}

export interface ResponsesReply {
  response: WireResponse;
  events: SseEvent[];
}

/** The whole reply: the final object (non-streaming body) and the events that stream it. */
export function buildResponsesReply(plan: ReplyPlan, request: ScenarioRequest): ResponsesReply {
  const id = makeId('resp_', 24);
  const createdAt = Math.floor(Date.now() / 1000);
  // A reply cut short ends as OpenAI's does: status `incomplete`, with the reason, in a `response.incomplete` event.
  const final = responseObject(
    id,
    createdAt,
    request,
    plan.stop ? 'incomplete' : 'completed',
    outputItems(plan),
    responsesUsage(plan.usage),
    plan.stop,
  );
  const inProgress = responseObject(id, createdAt, request, 'in_progress', [], undefined);

  const events: SseEvent[] = [];
  let sequenceNumber = 0;
  const emit = (event: Unsequenced<ResponseStreamEvent>): void => {
    const sequenced = { ...event, sequence_number: sequenceNumber++ } as ResponseStreamEvent;
    events.push({ name: sequenced.type, data: JSON.stringify(sequenced), isDelta: sequenced.type.endsWith('.delta') });
  };
  // The events carry the wire object; the SDK adds `output_text` itself when it accumulates.
  const asResponse = (response: WireResponse): Response => response as Response;

  emit({ type: 'response.created', response: asResponse(inProgress) });
  emit({ type: 'response.in_progress', response: asResponse(inProgress) });

  let outputIndex = 0;
  if (plan.reasoning) {
    const reasoning = plan.reasoning;
    const item_id = reasoning.id;
    const output_index = outputIndex++;
    emit({ type: 'response.output_item.added', output_index, item: { id: item_id, type: 'reasoning', summary: [] } });
    if (reasoning.summary !== undefined) {
      const text = reasoning.summary;
      emit({
        type: 'response.reasoning_summary_part.added',
        item_id,
        output_index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
      for (const delta of reasoning.summaryDeltas) {
        emit({ type: 'response.reasoning_summary_text.delta', item_id, output_index, summary_index: 0, delta });
      }
      emit({ type: 'response.reasoning_summary_text.done', item_id, output_index, summary_index: 0, text });
      emit({ type: 'response.reasoning_summary_part.done', item_id, output_index, summary_index: 0, part: { type: 'summary_text', text } });
    }
    emit({ type: 'response.output_item.done', output_index, item: reasoningItem(reasoning) });
  }

  for (const search of plan.webSearches) {
    const item_id = search.id;
    const output_index = outputIndex++;
    emit({ type: 'response.output_item.added', output_index, item: webSearchItem(search, 'in_progress') });
    emit({ type: 'response.web_search_call.in_progress', item_id, output_index });
    emit({ type: 'response.web_search_call.searching', item_id, output_index });
    emit({ type: 'response.web_search_call.completed', item_id, output_index });
    emit({ type: 'response.output_item.done', output_index, item: webSearchItem(search, 'completed') });
  }

  if (plan.message) {
    const message = plan.message;
    const item_id = message.id;
    const output_index = outputIndex++;
    const content_index = 0;
    emit({ type: 'response.output_item.added', output_index, item: messageItem(message, 'in_progress') });
    emit({ type: 'response.content_part.added', item_id, output_index, content_index, part: outputText(message, false) });
    for (const delta of message.deltas) {
      emit({ type: 'response.output_text.delta', item_id, output_index, content_index, delta, logprobs: [] });
    }
    message.annotations.forEach((annotation, annotation_index) => {
      emit({ type: 'response.output_text.annotation.added', item_id, output_index, content_index, annotation_index, annotation });
    });
    emit({ type: 'response.output_text.done', item_id, output_index, content_index, text: message.text, logprobs: [] });
    emit({ type: 'response.content_part.done', item_id, output_index, content_index, part: outputText(message, true) });
    emit({ type: 'response.output_item.done', output_index, item: messageItem(message, 'completed') });
  }

  for (const call of plan.toolCalls) {
    const item_id = call.id;
    const output_index = outputIndex++;
    emit({ type: 'response.output_item.added', output_index, item: toolCallItem(call, 'in_progress') });
    if (call.type === 'custom') {
      for (const delta of call.argumentDeltas) emit({ type: 'response.custom_tool_call_input.delta', item_id, output_index, delta });
      emit({ type: 'response.custom_tool_call_input.done', item_id, output_index, input: call.arguments });
    } else {
      for (const delta of call.argumentDeltas) {
        emit({ type: 'response.function_call_arguments.delta', item_id, output_index, delta });
      }
      emit({ type: 'response.function_call_arguments.done', item_id, output_index, name: call.name, arguments: call.arguments });
    }
    emit({ type: 'response.output_item.done', output_index, item: toolCallItem(call, 'completed') });
  }

  if (plan.stop) emit({ type: 'response.incomplete', response: asResponse(final) });
  else emit({ type: 'response.completed', response: asResponse(final) });
  return { response: final, events };
}
