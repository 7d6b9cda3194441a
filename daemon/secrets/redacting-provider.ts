/**
 * A provider that never sends a known secret: every text of a model request (the instructions,
 * each conversation item, tool calls' arguments) is redacted before the request leaves. Tool
 * results are redacted earlier already (the agent loop); this catches the rest — a key the
 * developer pasted into the chat, a note that quotes one — for every agent, in one place.
 */
import type { ConversationItem, ModelRequest, Provider, ProviderEvent } from '../llm/types.ts';
import type { Redact } from './redactor.ts';

export function redactingProvider(provider: Provider, redact: Redact): Provider {
  return {
    api: provider.api,
    stream(request: ModelRequest): AsyncIterable<ProviderEvent> {
      return provider.stream(redactRequest(request, redact));
    },
  };
}

/** The request with its texts redacted; the signal and everything else as they were. */
export function redactRequest(request: ModelRequest, redact: Redact): ModelRequest {
  const redacted: ModelRequest = { ...request, items: request.items.map((item) => redactItem(item, redact)) };
  if (request.instructions !== undefined) redacted.instructions = redact(request.instructions);
  return redacted;
}

function redactItem(item: ConversationItem, redact: Redact): ConversationItem {
  switch (item.role) {
    case 'user':
      return { ...item, content: redact(item.content) };
    case 'tool':
      return { ...item, content: redact(item.content) };
    case 'assistant':
      return {
        ...item,
        content: redact(item.content),
        ...(item.toolCalls ? { toolCalls: item.toolCalls.map((call) => ({ ...call, arguments: redact(call.arguments) })) } : {}),
      };
  }
}
