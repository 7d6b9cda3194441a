/**
 * Chat Completions (`POST /v1/chat/completions`, streamed), for servers that speak only that:
 * conversation items as messages, function tools with strict schemas, tool calls assembled from
 * their indexed deltas, usage from the last chunk (`stream_options.include_usage`).
 */
import { emptyCallUsage } from '../../protocol/index.ts';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions/completions';
import type { ApiAdapter, RestoreArguments, StreamReader } from './api-adapter.ts';
import { strictSchema } from './strict-schema.ts';
import type { ConversationItem, ModelRequest, ModelResult, ProviderEvent, StopReason, ToolCall } from './types.ts';

export function chatMessages(instructions: string | undefined, items: readonly ConversationItem[]): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const item of items) {
    switch (item.role) {
      case 'user':
        messages.push({ role: 'user', content: item.content });
        break;
      case 'assistant':
        if (item.toolCalls?.length) {
          messages.push({
            role: 'assistant',
            content: item.content || null,
            tool_calls: item.toolCalls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          });
        } else {
          messages.push({ role: 'assistant', content: item.content });
        }
        break;
      case 'tool':
        messages.push({ role: 'tool', tool_call_id: item.callId, content: item.content });
        break;
    }
  }
  return messages;
}

export function chatBody(request: ModelRequest): ChatCompletionCreateParamsStreaming {
  const tools: ChatCompletionTool[] = (request.tools ?? []).map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: strictSchema(tool.parameters), strict: true },
  }));
  return {
    model: request.model,
    messages: chatMessages(request.instructions, request.items),
    stream: true,
    stream_options: { include_usage: true },
    ...(tools.length > 0 ? { tools } : {}),
    ...(request.reasoningEffort ? { reasoning_effort: request.reasoningEffort } : {}),
    ...(request.maxOutputTokens !== undefined ? { max_completion_tokens: request.maxOutputTokens } : {}),
  };
}

/**
 * Fields some OpenAI-compatible servers add to a delta for the model's reasoning: `reasoning_content`
 * (vLLM, DeepSeek, llama.cpp) or `reasoning` (Ollama, OpenRouter).
 */
interface ReasoningDelta {
  reasoning_content?: unknown;
  reasoning?: unknown;
}

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

class ChatStreamReader implements StreamReader<ChatCompletionChunk> {
  private readonly restoreArguments: RestoreArguments;
  private model: string;
  private text = '';
  /** Tool calls by their stream index, as their deltas arrive. */
  private readonly partialCalls = new Map<number, PartialCall>();
  private toolCalls: ToolCall[] = [];
  private finishReason: ChatCompletionChunk.Choice['finish_reason'] = null;
  private usage = emptyCallUsage();

  constructor(request: ModelRequest, restoreArguments: RestoreArguments) {
    this.model = request.model;
    this.restoreArguments = restoreArguments;
  }

  read(chunk: ChatCompletionChunk, out: ProviderEvent[]): void {
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) {
      this.usage = {
        inputTokens: chunk.usage.prompt_tokens,
        cachedInputTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
        outputTokens: chunk.usage.completion_tokens,
        reasoningTokens: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
      };
    }
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta = choice.delta;
    const reasoning = (delta as ReasoningDelta).reasoning_content ?? (delta as ReasoningDelta).reasoning;
    if (typeof reasoning === 'string' && reasoning) out.push({ type: 'reasoning.delta', delta: reasoning });
    const text = delta.content ?? delta.refusal;
    if (text) {
      this.text += text;
      out.push({ type: 'text.delta', delta: text });
    }
    delta.tool_calls?.forEach((piece, position) => {
      const index = piece.index ?? position;
      const call = this.partialCalls.get(index) ?? { id: '', name: '', arguments: '' };
      if (piece.id) call.id = piece.id;
      if (piece.function?.name) call.name = piece.function.name;
      if (piece.function?.arguments) call.arguments += piece.function.arguments;
      this.partialCalls.set(index, call);
    });
    if (choice.finish_reason && !this.finishReason) {
      this.finishReason = choice.finish_reason;
      // The calls' arguments are complete once the choice finishes.
      this.toolCalls = [...this.partialCalls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, call]) => ({
          id: call.id || `call_${index}`,
          name: call.name,
          arguments: this.restoreArguments(call.name, call.arguments),
        }));
      for (const call of this.toolCalls) out.push({ type: 'tool.call', call });
    }
  }

  result(): ModelResult | undefined {
    if (!this.finishReason) return undefined;
    const reason = this.finishReason;
    const stopReason: StopReason =
      reason === 'length' ? 'length' : reason === 'content_filter' ? 'content_filter' : this.toolCalls.length > 0 ? 'tool_calls' : 'stop';
    return { text: this.text, toolCalls: this.toolCalls, citations: [], usage: this.usage, stopReason, model: this.model };
  }
}

export const chatAdapter: ApiAdapter<ChatCompletionChunk> = {
  api: 'chat',
  open: (client, request, signal) => client.chat.completions.create(chatBody(request), { signal }).asResponse(),
  reader: (request, restoreArguments) => new ChatStreamReader(request, restoreArguments),
};
