/** Chat and research objects for the TUI's tests, checked against the protocol's schemas. */
import { ChatMessage, ResearchRun, type ChatPart, type ToolPart } from '../../../protocol/index.ts';

export const SESSION = '2025-01-02-1';
const TIME = '2025-01-02T03:04:05.000Z';
const NO_USAGE = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };

export function userMessage(id: string, text: string, session = SESSION): ChatMessage {
  return ChatMessage.parse({ id, session, role: 'user', parts: [{ id: `${id}-p`, type: 'text', text }], time: TIME, status: 'done' });
}

export function reply(
  id: string,
  parts: ChatPart[] = [],
  status: ChatMessage['status'] = 'streaming',
  extra: Partial<ChatMessage> = {},
): ChatMessage {
  return ChatMessage.parse({ id, session: SESSION, role: 'assistant', parts, time: TIME, status, ...extra });
}

export function toolPart(
  id: string,
  name: string,
  args: unknown,
  status: 'running' | 'done' | 'error' = 'running',
  result?: string,
  extra: Partial<ToolPart> = {},
): ToolPart {
  return {
    id,
    type: 'tool',
    callId: `call-${id}`,
    name,
    arguments: JSON.stringify(args),
    status,
    ...(result === undefined ? {} : { result }),
    ...extra,
  };
}

export interface AgentSpec {
  id: string;
  question: string;
  status?: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  step?: number;
  error?: string;
  sources?: number;
}

export function researchRun(id: string, agents: AgentSpec[], status: ResearchRun['status'] = 'running'): ResearchRun {
  return ResearchRun.parse({
    id,
    questions: agents.map((agent) => agent.question),
    status,
    session: SESSION,
    createdAt: TIME,
    usage: NO_USAGE,
    costUsd: status === 'running' ? 0 : 0.05,
    agents: agents.map((agent) => ({
      id: agent.id,
      question: agent.question,
      status: agent.status ?? 'running',
      step: agent.step ?? 0,
      maxSteps: 20,
      sources: Array.from({ length: agent.sources ?? 0 }, (_, i) => ({ kind: 'url', ref: `https://example.com/${i}` })),
      usage: { ...NO_USAGE, inputTokens: 1000, outputTokens: 200 },
      costUsd: 0.01,
      ...(agent.error ? { error: agent.error } : {}),
    })),
  });
}
