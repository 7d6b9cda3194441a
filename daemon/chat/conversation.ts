/** The conversation so far as model items, and the words for a missing provider. (The system prompt: system-prompt.ts.) */
import type { ChatMessage, ToolPart } from '../../protocol/index.ts';
import type { ConversationItem } from '../llm/types.ts';

/** The reply when no model provider is configured: how to configure one (an answer, not an error). */
export const NOT_CONFIGURED_REPLY = [
  'No model provider is configured yet, so I cannot answer. To set one up, give the daemon one of these:',
  '',
  '- OpenAI: `OPENAI_API_KEY=sk-…` (optionally `RALPH_MODEL=gpt-5.4-mini`).',
  '- Ollama or another OpenAI-compatible server: `OPENAI_BASE_URL=http://localhost:11434/v1` and `RALPH_MODEL=<a model you have pulled, e.g. llama3.2>` (add `RALPH_API=chat` if the server lacks the Responses API).',
  '- Or the provider settings in `ralph.config.ts` at the root of this repository (changes there apply without a restart).',
  '',
  'The daemon reads the environment of the command that starts it: after changing it, run `ralph daemon stop`, and the next `ralph` command starts the daemon again with it.',
].join('\n');

export function messageText(message: ChatMessage): string {
  return message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/**
 * The conversation as the model sees it. Replies the model did not write (the note about configuring a
 * provider) are left out; a reply's tool calls go in with their results, in the order they happened.
 */
export function conversationItems(messages: readonly ChatMessage[]): ConversationItem[] {
  const items: ConversationItem[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      items.push({ role: 'user', content: messageText(message) });
    } else if (message.model !== undefined) {
      items.push(...replyItems(message));
    }
  }
  return items;
}

function replyItems(message: ChatMessage): ConversationItem[] {
  const items: ConversationItem[] = [];
  let text = '';
  let calls: ToolPart[] = [];
  const flushCalls = () => {
    if (calls.length === 0) return;
    items.push({
      role: 'assistant',
      content: text,
      toolCalls: calls.map((call) => ({ id: call.callId, name: call.name, arguments: call.arguments })),
    });
    for (const call of calls) {
      // A call cut short by an interruption still needs an answer: the APIs refuse a call without one.
      items.push({ role: 'tool', callId: call.callId, name: call.name, content: call.result ?? 'error: interrupted before it finished' });
    }
    text = '';
    calls = [];
  };
  for (const part of message.parts) {
    if (part.type === 'tool') {
      calls.push(part);
      continue;
    }
    flushCalls();
    text += part.text;
  }
  flushCalls();
  if (text !== '') items.push({ role: 'assistant', content: text });
  return items;
}
