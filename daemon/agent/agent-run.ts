/**
 * What every consumer of the agent loop (the chat's turns, each research agent and the
 * consolidation, the goal's iterations) does the same way with its events: follows them in order,
 * prices each model call, adds up the usage, the cost and the time spent waiting on the provider,
 * and hands each event to the consumer's hook for it. What differs (what is shown, logged or
 * published) is the hooks'; the arithmetic is here once.
 *
 * One `AgentRun` may follow several loops (a research agent's last, report-only step is a loop of
 * its own): the totals run on across them.
 */
import { addCallUsage, addCost, emptyCallUsage, type CallUsage, type Usage } from '../../protocol/index.ts';
import type { ModelTable } from '../llm/models.ts';
import type { AgentEvent } from './agent-loop.ts';

type EventOf<K extends AgentEvent['type']> = Extract<AgentEvent, { type: K }>;

/** A model call that ended, with its price: null when the model or a price it needs is unknown. */
export type PricedCall = EventOf<'usage'> & { costUsd: number | null };

/** The loop's end: the last answer's text, the whole conversation, why it stopped. */
export type AgentDone = EventOf<'done'>;

/** Hooks that return a promise are awaited before the next event: a log line is written in order. */
type Hook<E> = (event: E) => void | Promise<void>;

/** One optional hook per event; `usage` gets the call priced and is called after the totals include it. */
export type AgentRunHooks = { [K in Exclude<AgentEvent['type'], 'usage'>]?: Hook<EventOf<K>> } & { usage?: Hook<PricedCall> };

export class AgentRun {
  /** The tokens of every model call so far. */
  usage: CallUsage = emptyCallUsage();
  /** Their cost in USD: unknown (null) once any call's price is unknown, never a made-up figure. */
  costUsd: number | null = 0;
  /** Model calls so far. */
  calls = 0;
  /** Time spent waiting before a model call's next try (rate limits, server errors). */
  waitedMs = 0;
  private readonly models: Pick<ModelTable, 'cost'>;

  constructor(models: Pick<ModelTable, 'cost'>) {
    this.models = models;
  }

  /** Follows one loop to its end; returns its `done`. Rethrows what the loop or a hook throws. */
  async follow(events: AsyncIterable<AgentEvent>, hooks: AgentRunHooks): Promise<AgentDone> {
    for await (const event of events) {
      if (event.type === 'usage') {
        const call = this.count(event);
        const pending = hooks.usage?.(call);
        if (pending) await pending;
        continue;
      }
      if (event.type === 'wait') this.waitedMs += event.seconds * 1000;
      // The union narrowed per key: the hook for this event's type takes this event.
      const hook = hooks[event.type] as Hook<AgentEvent> | undefined;
      // Only a promise is awaited: a hook that returns nothing costs no extra turn (the chat's deltas coalesce by turns).
      const pending = hook?.(event);
      if (pending) await pending;
      if (event.type === 'done') return event;
    }
    throw new Error('the agent loop ended without a result');
  }

  /** The totals as a goal records them (calls counted, no reasoning tokens: they are part of the output). */
  spend(): Usage {
    const { inputTokens, cachedInputTokens, outputTokens } = this.usage;
    return { inputTokens, cachedInputTokens, outputTokens, calls: this.calls, costUsd: this.costUsd };
  }

  private count(event: EventOf<'usage'>): PricedCall {
    const costUsd = this.models.cost(event.model, event.usage);
    this.usage = addCallUsage(this.usage, event.usage);
    this.costUsd = addCost(this.costUsd, costUsd);
    this.calls++;
    return { ...event, costUsd };
  }
}
