/**
 * Answers to the chat's questions (ask_human in the chat) come back into their session: each one
 * is sent as a message of its own, named as the answer to its question, which starts the next turn.
 * Follows `question.answered` on the event stream, so an answer from any client (the TUI, `ralph
 * answer`) reaches the chat alike.
 */
import { oneLine, type EventEnvelope, type Question } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { Log } from '../log.ts';
import type { ChatService } from './chat-service.ts';

/** The message an answer becomes in the chat. */
export function answerMessage(question: Question): string {
  return `Answer to question ${question.id} (${oneLine(question.question)}):\n${question.answer?.text ?? ''}`;
}

export class ChatQuestions {
  private readonly bus: EventBus;
  private readonly chat: Pick<ChatService, 'send'>;
  private readonly log: Log;
  private unsubscribe: (() => void) | null = null;

  constructor(options: { bus: EventBus; chat: Pick<ChatService, 'send'>; log: Log }) {
    this.bus = options.bus;
    this.chat = options.chat;
    this.log = options.log;
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'question.answered') return;
      const { question } = envelope.data;
      if ('chat' in question.from && question.answer) this.deliver(question, question.from.chat, envelope.cause);
    });
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private deliver(question: Question, session: string, cause: EventEnvelope['cause']): void {
    const by = question.answer?.by ?? 'inbox';
    this.chat.send({ text: answerMessage(question), session }, { clientId: 'inbox', name: by }, cause).catch((error: unknown) => {
      this.log(`chat: the answer to question ${question.id} could not be sent to session ${session}: ${(error as Error).message}`);
    });
  }
}
