/**
 * Chat Completions (`POST /v1/chat/completions`): a reply plan as a `chat.completion` object and as
 * the `chat.completion.chunk` stream OpenAI sends for it (ending in `data: [DONE]`), typed with the
 * `openai` SDK's own types. Hosted web searches and citations are Responses-only and skipped here.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ReplyPlan, Usage } from './reply.ts';
import { makeId } from './reply.ts';
import type { ScenarioRequest } from './request.ts';
import type { SseEvent } from './sse.ts';

const SYSTEM_FINGERPRINT = 'fp_fakeopenai';

export function chatUsage(usage: Usage): CompletionUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export interface ChatReply {
  completion: ChatCompletion;
  events: SseEvent[];
}

export function buildChatReply(plan: ReplyPlan, request: ScenarioRequest): ChatReply {
  const id = makeId('chatcmpl-', 14);
  const created = Math.floor(Date.now() / 1000);
  const finishReason = plan.stop ?? (plan.toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const text = plan.message?.text ?? '';

  const completion: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model: request.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: plan.message ? text : null,
          refusal: null,
          annotations: [],
          ...(plan.toolCalls.length > 0
            ? {
                tool_calls: plan.toolCalls.map((call) => ({
                  id: call.callId,
                  type: 'function' as const,
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: chatUsage(plan.usage),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };

  const events: SseEvent[] = [];
  const emit = (choices: ChatCompletionChunk.Choice[], isDelta: boolean, usage?: CompletionUsage): void => {
    const chunk: ChatCompletionChunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: request.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
      // With include_usage every chunk carries `usage: null` until the last one, as OpenAI sends it.
      ...(request.includeUsage ? { usage: usage ?? null } : {}),
    };
    events.push({ data: JSON.stringify(chunk), isDelta });
  };
  const delta = (content: ChatCompletionChunk.Choice.Delta, finish_reason: ChatCompletionChunk.Choice['finish_reason'] = null) => [
    { index: 0, delta: content, logprobs: null, finish_reason },
  ];

  emit(delta({ role: 'assistant', content: plan.message ? '' : null, refusal: null }), false);
  for (const piece of plan.message?.deltas ?? []) emit(delta({ content: piece }), true);
  plan.toolCalls.forEach((call, index) => {
    emit(delta({ tool_calls: [{ index, id: call.callId, type: 'function', function: { name: call.name, arguments: '' } }] }), false);
    for (const piece of call.argumentDeltas) emit(delta({ tool_calls: [{ index, function: { arguments: piece } }] }), true);
  });
  emit(delta({}, finishReason), false);
  if (request.includeUsage) emit([], false, chatUsage(plan.usage));
  events.push({ data: '[DONE]', isDelta: false });

  return { completion, events };
}
