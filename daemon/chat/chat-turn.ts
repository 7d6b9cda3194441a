/**
 * One turn of the shared chat as its tools see it (chat-agent.ts builds the tools, chat-service.ts
 * runs the turn). On its own so the tools and the agent that lists them do not import each other.
 */
import type { EventEnvelope } from '../../protocol/index.ts';

/** What the tools of one turn know about it, and what they may ask of the chat. */
export interface ChatTurn {
  readonly session: string;
  /** The `chat.send` request that asked for the turn: events the tools cause name it too. */
  readonly cause: EventEnvelope['cause'];
  /** The research run this session started last (this turn's included), if any. */
  lastResearchRun(): string | undefined;
  /** Marks the tool call running now as having started this research run, so clients draw its bars inline. */
  showResearchRun(runId: string): void;
  /**
   * Once the turn ends answered, calls `save` with the text the reply wrote after the tool call
   * running now (e.g. the consolidated answer to a research run). Not called when it has no text.
   */
  whenAnswered(save: (answer: string) => Promise<unknown>): void;
}
