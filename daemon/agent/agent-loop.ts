/**
 * The agent loop every agent runs (the chat agent, each research agent, the goal executor): call
 * the model with the conversation so far, stream what it says, run the tools it calls, call it
 * again with their results, until it answers without calling a tool, a tool ends the loop, or the
 * step budget is spent. Like the provider below it, it knows nothing about any UI, file or client:
 * everything it has to say is one event of `AgentEvent`, yielded in order.
 *
 * A reply cut short (at the output-token limit, or by the provider's content filter) is never taken
 * as a clean answer: its tool calls may carry cut arguments, so none of them runs, and each fails
 * back to the model asking for it again, smaller; a cut answer is continued in the next step, and
 * one still cut when the steps or the continuations run out ends the loop as `cut`.
 */
import type { CallUsage } from '../../protocol/index.ts';
import { ProviderError } from '../llm/types.ts';
import type { Citation, ConversationItem, ModelRequest, Provider, ProviderEvent, ToolCall } from '../llm/types.ts';
import type { Redact } from '../secrets/redactor.ts';
import { errorResult, runTool, toolDefinition, type Tool, type ToolContext, type ToolResult } from '../tools/tool.ts';

export interface AgentOptions {
  provider: Provider;
  /** Everything of a model request but the conversation, the tools and the signal. */
  request: Omit<ModelRequest, 'items' | 'tools' | 'signal'>;
  /** The conversation so far (the agent's own context: fresh for every research agent and iteration). */
  items: readonly ConversationItem[];
  tools: readonly Tool[];
  /** Where the tools work and whom they tell what they are doing; the signal is the loop's. */
  toolContext: Omit<ToolContext, 'signal'>;
  /** Model calls at most; the loop ends with `max-steps` when they are spent. */
  maxSteps: number;
  /** Cancels the model call and the running tool; the loop then throws ProviderError('aborted'). */
  signal: AbortSignal;
  /** Ends the loop after a tool call when this says so (e.g. `goal_done`): no further model call. */
  stopAfterTool?: (call: ToolCall, result: ToolResult) => boolean;
  /**
   * Applied to every tool call's arguments before it runs and to its result before anything else
   * sees it (the model, the events, the logs): the daemon's secrets come out here, once for all
   * tools. Default: nothing is changed.
   */
  redact?: Redact;
}

/** `cut`: the last answer was cut short (see the file's comment), its text is what came. */
export type AgentStopReason = 'answered' | 'max-steps' | 'stopped-by-tool' | 'cut';

/** How a reply was cut short: at the output-token limit, or by the provider's content filter. */
export type CutReason = 'length' | 'content_filter';

/** A cut answer is continued at most this often (each continuation is one more step of the budget). */
export const MAX_CONTINUATIONS = 3;

export const CONTINUE_PROMPT =
  'Your reply was cut off at the output-token limit. Continue exactly where it stopped, without repeating anything.';

/** What a tool call from a cut reply gets back instead of running. */
export function cutCallResult(reason: CutReason): ToolResult {
  return reason === 'length'
    ? errorResult(
        'Not run: your reply was cut off at the output-token limit, so the arguments of this call may be incomplete. ' +
          'Call it again with a smaller payload (write a large file in several parts, one call each).',
        'not run: the reply was cut at the output-token limit',
      )
    : errorResult(
        "Not run: your reply was stopped by the provider's content filter.",
        'not run: the reply was stopped by the content filter',
      );
}

export type AgentEvent =
  /** A model call begins; steps count from 1. */
  | { type: 'step'; step: number; maxSteps: number }
  | { type: 'text.delta'; step: number; delta: string }
  | { type: 'reasoning.delta'; step: number; delta: string }
  | { type: 'web.search'; step: number; query?: string; status: 'searching' | 'done' }
  | { type: 'citation'; step: number; citation: Citation }
  | Extract<ProviderEvent, { type: 'wait' }>
  /** A model call ended: its usage and the model that answered, for cost. */
  | { type: 'usage'; step: number; model: string; usage: CallUsage }
  | { type: 'tool.start'; step: number; call: ToolCall }
  | { type: 'tool.end'; step: number; call: ToolCall; result: ToolResult }
  /** The step's reply was cut short: its calls fail back (`calls`), or its answer is continued (`continued`). */
  | { type: 'cut'; step: number; reason: CutReason; calls: number; continued: boolean }
  /** The loop ended: the last answer's text, the whole conversation (to continue it), why it stopped. */
  | { type: 'done'; text: string; items: ConversationItem[]; steps: number; reason: AgentStopReason };

/** Runs the loop. Throws ProviderError when a model call fails (kind `aborted` once `signal` fires). */
export async function* runAgent(options: AgentOptions): AsyncGenerator<AgentEvent, void, undefined> {
  const { provider, signal, maxSteps } = options;
  const tools = new Map(options.tools.map((tool) => [tool.name, tool]));
  const definitions = options.tools.map(toolDefinition);
  const toolContext: ToolContext = { ...options.toolContext, signal };
  const items = [...options.items];
  let text = '';
  /** The answer so far when replies were cut and continued: each continuation adds to it. */
  let answer = '';
  let continuations = 0;
  for (let step = 1; step <= maxSteps; step++) {
    yield { type: 'step', step, maxSteps };
    const request: ModelRequest = { ...options.request, items, signal, ...(definitions.length > 0 ? { tools: definitions } : {}) };
    text = '';
    let toolCalls: ToolCall[] | undefined;
    let cut: CutReason | null = null;
    for await (const event of provider.stream(request)) {
      switch (event.type) {
        case 'text.delta':
          text += event.delta;
          yield { type: 'text.delta', step, delta: event.delta };
          break;
        case 'reasoning.delta':
          yield { type: 'reasoning.delta', step, delta: event.delta };
          break;
        case 'web.search':
          yield { type: 'web.search', step, ...(event.query !== undefined ? { query: event.query } : {}), status: event.status };
          break;
        case 'citation':
          yield { type: 'citation', step, citation: event.citation };
          break;
        case 'wait':
          yield event;
          break;
        case 'done':
          text = event.result.text;
          toolCalls = event.result.toolCalls;
          cut = event.result.stopReason === 'length' || event.result.stopReason === 'content_filter' ? event.result.stopReason : null;
          yield { type: 'usage', step, model: event.result.model, usage: event.result.usage };
          break;
        case 'tool.call':
          break; // the calls are taken from the result, complete and in order
      }
    }
    if (signal.aborted) throw new ProviderError('aborted', 'cancelled');
    if (!toolCalls) throw new ProviderError('stream-cut', 'the model stream ended without a result');
    if (toolCalls.length === 0) {
      items.push({ role: 'assistant', content: text });
      answer += text;
      const continued = cut === 'length' && continuations < MAX_CONTINUATIONS && step < maxSteps;
      if (cut) yield { type: 'cut', step, reason: cut, calls: 0, continued };
      if (continued) {
        continuations++;
        items.push({ role: 'user', content: CONTINUE_PROMPT });
        continue;
      }
      yield { type: 'done', text: answer, items, steps: step, reason: cut ? 'cut' : 'answered' };
      return;
    }
    answer = '';

    items.push({ role: 'assistant', content: text, toolCalls });
    if (cut) {
      yield { type: 'cut', step, reason: cut, calls: toolCalls.length, continued: false };
      for (const call of toolCalls) {
        const result = cutCallResult(cut);
        yield { type: 'tool.start', step, call };
        yield { type: 'tool.end', step, call, result };
        items.push({ role: 'tool', callId: call.id, name: call.name, content: result.output });
      }
      continue;
    }
    let stop = false;
    for (const modelCall of toolCalls) {
      // Arguments too: a model that somehow holds a secret does not get to write it anywhere or send it out (fetch_url).
      const call = options.redact ? { ...modelCall, arguments: options.redact(modelCall.arguments) } : modelCall;
      yield { type: 'tool.start', step, call };
      const tool = tools.get(call.name);
      const result = redactResult(
        tool
          ? await runTool(tool, call.arguments, toolContext)
          : errorResult(`there is no tool named ${call.name}; the tools are: ${[...tools.keys()].join(', ') || 'none'}`),
        options.redact,
      );
      if (signal.aborted) throw new ProviderError('aborted', 'cancelled');
      yield { type: 'tool.end', step, call, result };
      items.push({ role: 'tool', callId: call.id, name: call.name, content: result.output });
      if (options.stopAfterTool?.(call, result)) stop = true;
    }
    if (stop) {
      yield { type: 'done', text, items, steps: step, reason: 'stopped-by-tool' };
      return;
    }
  }
  yield { type: 'done', text: answer || text, items, steps: maxSteps, reason: 'max-steps' };
}

function redactResult(result: ToolResult, redact: Redact | undefined): ToolResult {
  if (!redact) return result;
  const output = redact(result.output);
  const summary = redact(result.summary);
  return output === result.output && summary === result.summary ? result : { ...result, output, summary };
}
