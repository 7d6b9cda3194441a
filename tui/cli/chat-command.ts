/**
 * `ralph chat "message"`: one turn in the shared chat. The reply streams to stdout as it arrives
 * (only this turn's reply, whoever else is talking); notes about waiting go to stderr. Exit 0 when
 * the reply is done, 1 when it ends in an error, 130 after Ctrl+C (which interrupts the turn).
 */
import type { RalphClient } from '../../protocol/client.ts';
import { describeWait, type ChatMessage, type EventEnvelope, type ResultOf } from '../../protocol/index.ts';
import type { CommandHandler } from './commands.ts';
import { CliError, UsageError } from './errors.ts';
import { note, printJson, printPiece } from './output.ts';
import { withDaemon } from './session.ts';
import { followEvents, type FollowHandlers } from './follow-events.ts';

/** The exit code after Ctrl+C, as shells report a process ended by SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;
/** After Ctrl+C, how long to wait for the daemon to confirm the interruption before exiting anyway. */
const INTERRUPT_GRACE_MS = 5_000;
/** Shorter waits before a retry pass unremarked: a note is for a pause a person would notice. */
const NOTE_WAITS_FROM_SECONDS = 1;

export const chatCommand: CommandHandler = async (context) => {
  const text = context.args[0]!;
  if (text.trim() === '') throw new UsageError('the message is empty', 'chat');
  return withDaemon(context, (client) => new ChatTurn(client, context.json).run(text));
};

type Reply = Pick<ResultOf<'chat.send'>, 'session' | 'replyMessageId'>;

/** Follows one turn from `chat.send` to its reply's `chat.message.done`. */
class ChatTurn {
  private readonly client: RalphClient;
  private readonly json: boolean;
  private reply: Reply | undefined;
  /** Events that came before `chat.send` answered (its reply id was not known yet). */
  private readonly early: EventEnvelope[] = [];
  private streaming = false;
  private printed = '';
  private interruptedHere = false;
  private settle!: (outcome: { message: ChatMessage } | { error: Error } | { exitNow: true }) => void;
  private readonly ended = new Promise<{ message: ChatMessage } | { error: Error } | { exitNow: true }>(
    (resolve) => (this.settle = resolve),
  );

  constructor(client: RalphClient, json: boolean) {
    this.client = client;
    this.json = json;
  }

  async run(text: string): Promise<number> {
    const handlers: FollowHandlers = {
      event: (event) => (this.reply ? this.take(event) : this.early.push(event)),
      lost: () => this.settle({ error: new CliError('lost the connection to the daemon before the reply ended') }),
      interrupt: () => this.interrupt(),
    };
    return followEvents(this.client, handlers, async () => {
      const sent = await this.client.request('chat.send', { text });
      this.reply = sent;
      if (sent.position > 0) note(`waiting for ${sent.position} earlier ${sent.position === 1 ? 'turn' : 'turns'} in the chat…`);
      if (this.interruptedHere) this.requestInterrupt();
      for (const event of this.early.splice(0)) this.take(event);
      return this.finish(await this.ended);
    });
  }

  private take(event: EventEnvelope): void {
    const reply = this.reply!;
    switch (event.type) {
      case 'chat.message':
        if (event.data.message.id === reply.replyMessageId && event.data.message.status === 'streaming') this.streaming = true;
        return;
      case 'chat.delta':
        if (event.data.messageId !== reply.replyMessageId) return;
        this.printed += event.data.delta;
        if (!this.json) printPiece(event.data.delta);
        return;
      case 'provider.wait':
        // Only one turn of a session streams at a time: a wait in the session while ours streams is ours.
        if (this.streaming && event.data.scope.session === reply.session && event.data.seconds >= NOTE_WAITS_FROM_SECONDS) {
          note(describeWait(event.data));
        }
        return;
      case 'chat.message.done':
        if (event.data.message.id === reply.replyMessageId) this.settle({ message: event.data.message });
        return;
      default:
        return;
    }
  }

  /** Ctrl+C: interrupt this turn (never another client's) and exit once it has ended; a second Ctrl+C exits at once. */
  private interrupt(): void {
    if (this.interruptedHere) {
      this.settle({ exitNow: true });
      return;
    }
    this.interruptedHere = true;
    if (this.reply) this.requestInterrupt();
    setTimeout(() => this.settle({ exitNow: true }), INTERRUPT_GRACE_MS).unref();
  }

  private requestInterrupt(): void {
    const { session, replyMessageId } = this.reply!;
    this.client.request('chat.interrupt', { session, messageId: replyMessageId }).catch(() => this.settle({ exitNow: true }));
  }

  private finish(outcome: { message: ChatMessage } | { error: Error } | { exitNow: true }): number {
    if (!this.json && this.printed !== '' && !this.printed.endsWith('\n')) process.stdout.write('\n');
    if ('exitNow' in outcome) return INTERRUPTED_EXIT_CODE;
    if ('error' in outcome) throw outcome.error;
    const { message } = outcome;
    if (this.json) printJson(message);
    if (message.status === 'done') return 0;
    if (message.status === 'interrupted' && this.interruptedHere) return INTERRUPTED_EXIT_CODE;
    if (message.status === 'interrupted') throw new CliError(message.error ?? 'the reply was interrupted (from another client)');
    throw new CliError(message.error ?? 'the reply failed');
  }
}
