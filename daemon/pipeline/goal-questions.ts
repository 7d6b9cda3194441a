/**
 * What an answer means for a goal that asked: the answer goes into the goal's log (a `note`), and
 * a goal `waiting` whose questions all have their answer goes back to `queued` (`answer`); its next
 * iteration's prompt carries the answer (goal-run.ts, iteration.ts).
 *
 * It follows the event stream, like the pipeline: `question.answered` (from any client), and a goal
 * that enters `waiting` (an answer may come before the goal has moved). At start it looks at every
 * goal `waiting`: one whose answer was written just before the daemon was killed is queued now.
 *
 * A daemon killed after filing a goal's question and before moving the goal to `waiting` leaves it
 * `running`, which the store's start makes `queued`, the question open. At start such a goal waits
 * on that question (`ask`) rather than running again: withdrawing the question for a rerun would
 * refuse an answer someone may be typing into the inbox right now, and the rerun could well ask the
 * same thing; waiting loses nothing, and the answer reaches the next iteration as any answer does.
 *
 * A goal that ends without its answer (cancelled while it waits, or done, or removed) no longer
 * waits for one: its open questions are withdrawn, so the inbox holds only what someone waits on.
 */
import { isFinal, isOpen, oneLine, type EventEnvelope, type Question } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { InboxService } from '../inbox/inbox-service.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';
import { clip } from '../tools/tool.ts';
import { iterationsOf } from './notes.ts';

type Cause = EventEnvelope['cause'];

export interface GoalQuestionsOptions {
  bus: EventBus;
  store: GoalStore;
  inbox: Pick<InboxService, 'ofGoal' | 'withdraw'>;
  log: Log;
}

export class GoalQuestions {
  private readonly options: GoalQuestionsOptions;
  /** One goal's answers one at a time (two answers at once must not queue it twice). */
  private readonly queue = new KeyedQueue<number>();
  private unsubscribe: (() => void) | null = null;

  constructor(options: GoalQuestionsOptions) {
    this.options = options;
  }

  /**
   * Follows the answers and the goals that start waiting; queues the waiting goals answered already,
   * and makes a queued goal with an open question of its current attempt wait on it. Resolves once
   * those start-time moves are made (before the pipeline starts, so no such goal runs again).
   */
  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = this.options.bus.subscribe(({ envelope }) => {
      if (envelope.type === 'question.answered') {
        const { question } = envelope.data;
        if ('goalId' in question.from) void this.answered(question.from.goalId, question, envelope.cause);
      } else if (envelope.type === 'goal.updated' && envelope.data.goal.state === 'waiting') {
        void this.resumeIfAnswered(envelope.data.goal.id);
      } else if (envelope.type === 'goal.updated' && isFinal(envelope.data.goal.state)) {
        void this.withdrawOpen(envelope.data.goal.id, `goal #${envelope.data.goal.id} is ${envelope.data.goal.state}`, envelope.cause);
      } else if (envelope.type === 'goal.removed') {
        void this.withdrawOpen(envelope.data.id, `goal #${envelope.data.id} was removed`, envelope.cause);
      }
    });
    const moves: Promise<void>[] = [];
    for (const goal of this.options.store.list()) {
      if (goal.state === 'waiting') moves.push(this.resumeIfAnswered(goal.id));
      else if (goal.state === 'queued') moves.push(this.waitOnOpenQuestion(goal.id));
      else if (isFinal(goal.state)) moves.push(this.withdrawOpen(goal.id, `goal #${goal.id} is ${goal.state}`, undefined));
    }
    await Promise.all(moves);
  }

  /**
   * A queued goal whose current attempt asked a question no one has answered yet (the daemon died
   * between filing it and moving the goal) waits on it, as it would have had the daemon lived.
   */
  private waitOnOpenQuestion(goalId: number): Promise<void> {
    return this.queue.run(goalId, async () => {
      const { store, inbox, log } = this.options;
      const goal = store.get(goalId);
      const attempt = goal?.attempts.at(-1);
      if (goal?.state !== 'queued' || !attempt || attempt.endedAt !== undefined) return;
      const asked = new Set(iterationsOf(attempt).map((iteration) => iteration.number));
      const open = inbox
        .ofGoal(goalId)
        .filter((question) => isOpen(question) && 'iteration' in question.from && asked.has(question.from.iteration));
      const question = open.at(-1);
      if (!question) return;
      const note = `the daemon stopped before the goal could wait for question ${question.id}: it waits for its answer now`;
      await store.transition(goalId, 'ask', { note }).catch((error: unknown) => {
        log(`goal #${goalId}: could not wait for question ${question.id}: ${(error as Error).message}`);
      });
    });
  }

  /** The goal no longer waits for an answer: its open questions are withdrawn. */
  private withdrawOpen(goalId: number, reason: string, cause: Cause): Promise<void> {
    return this.queue.run(goalId, async () => {
      const open = this.options.inbox.ofGoal(goalId).filter((question) => isOpen(question));
      for (const question of open) {
        await this.options.inbox.withdraw(question.id, reason, cause).catch((error: unknown) => {
          this.options.log(`inbox: could not withdraw question ${question.id}: ${(error as Error).message}`);
        });
      }
    });
  }

  /** Resolves once what was started so far has ended. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.queue.idle();
  }

  private answered(goalId: number, question: Question, cause: Cause): Promise<void> {
    return this.queue.run(goalId, async () => {
      const { store, log } = this.options;
      if (!store.get(goalId) || !question.answer) return;
      const text = `question ${question.id} answered by ${question.answer.by}: ${clip(oneLine(question.answer.text), 500)}`;
      await store.log
        .append(
          goalId,
          {
            kind: 'note',
            text,
            questionId: question.id,
            question: question.question,
            answer: question.answer.text,
            by: question.answer.by,
          },
          cause,
        )
        .catch((error: unknown) =>
          log(`goal #${goalId}: could not log the answer to question ${question.id}: ${(error as Error).message}`),
        );
      await this.resume(goalId, question, cause);
    });
  }

  private resumeIfAnswered(goalId: number): Promise<void> {
    return this.queue.run(goalId, () => this.resume(goalId, undefined, undefined));
  }

  /** A waiting goal that asked, and whose questions all have their answer, goes back to the queue. */
  private async resume(goalId: number, answered: Question | undefined, cause: Cause): Promise<void> {
    const { store, inbox, log } = this.options;
    if (store.get(goalId)?.state !== 'waiting') return;
    const questions = inbox.ofGoal(goalId);
    if (questions.length === 0 || questions.some((question) => !question.answer)) return;
    const last = answered ?? questions.at(-1)!;
    const note = `question ${last.id} answered by ${last.answer!.by}: ${clip(oneLine(last.answer!.text), 300)}`;
    await store.transition(goalId, 'answer', { note }, cause).catch((error: unknown) => {
      log(`goal #${goalId}: could not go back to the queue after its answer: ${(error as Error).message}`);
    });
  }
}
