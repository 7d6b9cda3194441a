/** One conversation held in memory: its messages in order, the turn answering now, and those waiting. */
import type { ChatMessage, EventEnvelope } from '../../protocol/index.ts';
import type { TranscriptLine } from './transcript.ts';

/** A reply to produce: queued until its turn, then streaming until it is final. */
export interface Turn {
  reply: ChatMessage;
  /** The `chat.send` request that asked for it: every event of the reply names it. */
  cause: EventEnvelope['cause'] | undefined;
  /** Set while the turn calls the model; aborting it interrupts the turn. */
  abort: AbortController | undefined;
}

export class ChatSession {
  readonly id: string;
  /** In conversation order: each user message followed by its reply (queued, streaming or final). */
  readonly messages: ChatMessage[] = [];
  /** The turn running now. */
  current: Turn | null = null;
  /** Turns waiting, first in first out. */
  readonly waiting: Turn[] = [];
  /** Runs the turns one after another; null when none is left. */
  draining: Promise<void> | null = null;
  private readonly orders = new Map<string, number>();
  private nextOrder = 0;

  constructor(id: string, lines: readonly TranscriptLine[] = []) {
    this.id = id;
    for (const { order, ...message } of lines) {
      this.messages.push(message);
      this.orders.set(message.id, order);
      this.nextOrder = Math.max(this.nextOrder, order + 1);
    }
  }

  /** The order (what the transcript sorts by) of the next message: taken before it is written, so the line carries it. */
  reserveOrder(): number {
    return this.nextOrder++;
  }

  /** Adds a message at the end of the conversation. */
  add(message: ChatMessage, order: number = this.reserveOrder()): void {
    this.messages.push(message);
    this.orders.set(message.id, order);
  }

  orderOf(messageId: string): number {
    const order = this.orders.get(messageId);
    if (order === undefined) throw new Error(`message ${messageId} is not in chat session ${this.id}`);
    return order;
  }

  /** Replaces a message (by id) with its newer state. */
  replace(message: ChatMessage): void {
    const index = this.messages.findIndex((candidate) => candidate.id === message.id);
    if (index < 0) throw new Error(`message ${message.id} is not in chat session ${this.id}`);
    this.messages[index] = message;
  }

  /** Turns ahead of a turn queued now. */
  get turnsAhead(): number {
    return (this.current ? 1 : 0) + this.waiting.length;
  }
}
