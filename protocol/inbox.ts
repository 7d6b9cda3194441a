/**
 * The inbox: questions agents ask a person (a goal's executor through `ask_human`, a research run,
 * the chat), one file each in `.ralph/questions/<id>.json`, answered from any client. The first
 * answer wins; a question keeps its answer (who gave it and when) once it has one. A question whose
 * asker no longer waits (its goal was cancelled) is withdrawn: closed, unanswered, saying why.
 */
import { z } from 'zod';
import { GoalId, IsoTime } from './goal.ts';
import { boundedJson, maxUnits, NAME_MAX, type JsonBounds } from './limits.ts';

/** A question's text, each option, and an answer at most, in UTF-16 units. */
export const QUESTION_MAX = 4000;
export const QUESTION_OPTION_MAX = 200;
export const QUESTION_OPTIONS_MAX = 10;
export const ANSWER_MAX = 20_000;

/** A question file as a whole (its loose extra keys included): far more than a question needs. */
export const QUESTION_BOUNDS: JsonBounds = { maxDepth: 8, maxNodes: 1000, maxStringUnits: 256 * 1024 };

/** Question ids are integers, increasing, never reused (like goal ids): `ralph answer 3 "…"`. */
export const QuestionId = z
  .int()
  .positive()
  .max(2 ** 31 - 1);
export type QuestionId = z.infer<typeof QuestionId>;

/** Who asked: a goal's executor in one iteration, a research run, or a chat session. */
export const QuestionFrom = z.union([
  z.object({ goalId: GoalId, iteration: z.int().positive() }),
  z.object({ researchId: maxUnits(z.string().min(1), NAME_MAX) }),
  z.object({ chat: maxUnits(z.string().min(1), NAME_MAX) }),
]);
export type QuestionFrom = z.infer<typeof QuestionFrom>;

export const QuestionAnswer = z.object({
  text: maxUnits(z.string().trim().min(1), ANSWER_MAX),
  at: IsoTime,
  /** The name of the client that answered (`tui`, `ralph-cli` …). */
  by: maxUnits(z.string(), NAME_MAX),
});
export type QuestionAnswer = z.infer<typeof QuestionAnswer>;

/** A question as its file holds it. Loose (a later version's fields survive), so held to QUESTION_BOUNDS. */
export const Question = boundedJson(
  z.looseObject({
    id: QuestionId,
    createdAt: IsoTime,
    from: QuestionFrom,
    question: maxUnits(z.string().trim().min(1), QUESTION_MAX),
    /** Answers the asker suggests; any text is an answer all the same. */
    options: z
      .array(maxUnits(z.string().trim().min(1), QUESTION_OPTION_MAX))
      .max(QUESTION_OPTIONS_MAX)
      .optional(),
    answer: QuestionAnswer.optional(),
    /** Set when the asker no longer waits for an answer (its goal was cancelled or ended): closed unanswered. */
    withdrawn: z.object({ at: IsoTime, reason: maxUnits(z.string(), QUESTION_MAX) }).optional(),
  }),
  QUESTION_BOUNDS,
);
export type Question = z.infer<typeof Question>;

/** A question file that is not read or does not validate: reported with its error, never overwritten. */
export const InvalidQuestion = z.object({ file: z.string(), error: z.string() });
export type InvalidQuestion = z.infer<typeof InvalidQuestion>;

/** Neither answered nor withdrawn: someone should answer it. */
export function isOpen(question: Question): boolean {
  return question.answer === undefined && question.withdrawn === undefined;
}

/** Who asked, in a few words: `goal #3 (iteration 2)`, `research r-…`, `chat 2026-11-26-1`. */
export function describeAsker(from: QuestionFrom): string {
  if ('goalId' in from) return `goal #${from.goalId} (iteration ${from.iteration})`;
  if ('researchId' in from) return `research ${from.researchId}`;
  return `chat ${from.chat}`;
}

/** Oldest first (by when they were asked, then by id). */
export function byAge(a: Question, b: Question): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id - b.id;
}
