/**
 * One chat turn against the model: call it with the conversation so far, stream its text, and when
 * it calls tools, run them and call it again with their results, until it answers without calling
 * any. It knows nothing of messages, files or clients: everything it has to say goes to `TurnEvents`.
 */
import type { ConversationItem, ModelRequest, ModelResult, Provider, ProviderEvent, ToolCall } from '../llm/types.ts';
import { ProviderError } from '../llm/types.ts';
import type { ToolOutcome, ToolRegistry } from './tools.ts';

/** Model calls in one turn at most: a model that keeps calling tools is stopped rather than looping forever. */
export const MAX_STEPS_PER_TURN = 25;

export interface TurnEvents {
  /** Text of the model call `step` (0 for the first call of the turn, 1 after the first tool results, …). */
  textDelta(step: number, delta: string): void;
  toolStarted(step: number, call: ToolCall): void;
  toolFinished(step: number, call: ToolCall, outcome: ToolOutcome): void;
  /** The call waits before its next try (rate limit, server error, stream restart). */
  wait(event: Extract<ProviderEvent, { type: 'wait' }>): void;
  /** A model call finished: its usage and model, for cost. */
  callDone(result: ModelResult): void;
}

export interface TurnInput {
  provider: Provider;
  /** Everything of the request but the conversation, the tools and the signal. */
  request: Omit<ModelRequest, 'items' | 'tools' | 'signal'>;
  items: readonly ConversationItem[];
  tools: ToolRegistry;
  signal: AbortSignal;
  maxSteps?: number;
}

/** Runs the turn to its end. Throws ProviderError when a call fails (kind `aborted` once `signal` fires). */
export async function runTurn(input: TurnInput, events: TurnEvents): Promise<void> {
  const { provider, tools, signal } = input;
  const items = [...input.items];
  const definitions = tools.definitions();
  const maxSteps = input.maxSteps ?? MAX_STEPS_PER_TURN;
  for (let step = 0; ; step++) {
    if (step >= maxSteps) throw new ProviderError('bad-request', `the model kept calling tools: stopped after ${maxSteps} calls in one turn`);
    const request: ModelRequest = { ...input.request, items, signal, ...(definitions.length > 0 ? { tools: definitions } : {}) };
    let result: ModelResult | undefined;
    for await (const event of provider.stream(request)) {
      if (event.type === 'text.delta') events.textDelta(step, event.delta);
      else if (event.type === 'wait') events.wait(event);
      else if (event.type === 'done') result = event.result;
    }
    if (signal.aborted) throw new ProviderError('aborted', 'interrupted');
    if (!result) throw new ProviderError('stream-cut', 'the model stream ended without a result');
    events.callDone(result);
    if (result.toolCalls.length === 0) return;

    items.push({ role: 'assistant', content: result.text, toolCalls: result.toolCalls });
    for (const call of result.toolCalls) {
      events.toolStarted(step, call);
      const outcome = await tools.execute(call, { signal });
      events.toolFinished(step, call, outcome);
      items.push({ role: 'tool', callId: call.id, name: call.name, content: outcome.output });
    }
  }
}
