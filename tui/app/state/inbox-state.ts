/**
 * The inbox as the TUI shows it: the open questions, oldest first, and those answered (or withdrawn)
 * while this terminal watched (another terminal's answer shows as answered, live, rather than vanishing), and
 * which one is picked in the inbox overlay. Pure: `reduceInbox` is the only way it changes.
 */
import { byAge, isOpen, type Question } from '../../../protocol/index.ts';

export interface InboxView {
  /** By id: the open questions, and those answered while this terminal was attached. */
  questions: ReadonlyMap<number, Question>;
  /** The question picked in the overlay (an id in `questions`), or null when there is none. */
  pickedId: number | null;
}

export type InboxAction =
  | { kind: 'snapshot'; questions: readonly Question[] }
  | { kind: 'asked'; question: Question }
  /** Answered or withdrawn. */
  | { kind: 'closed'; question: Question }
  | { kind: 'pick'; direction: 'next' | 'previous' };

export function inboxFromSnapshot(questions: readonly Question[], previous?: InboxView): InboxView {
  return reduceInbox(previous ?? { questions: new Map(), pickedId: null }, { kind: 'snapshot', questions });
}

export function reduceInbox(state: InboxView, action: InboxAction): InboxView {
  switch (action.kind) {
    case 'snapshot': {
      // The snapshot has the open ones; those this terminal saw answered stay, answered.
      const questions = new Map([...state.questions].filter(([, question]) => !isOpen(question)));
      for (const question of action.questions) questions.set(question.id, question);
      return withPick({ ...state, questions });
    }
    case 'asked':
    case 'closed': {
      const current = state.questions.get(action.question.id);
      // An answer is final: an `asked` replayed after it does not reopen the question.
      if (current && !isOpen(current) && isOpen(action.question)) return state;
      return withPick({ ...state, questions: new Map(state.questions).set(action.question.id, action.question) });
    }
    case 'pick': {
      const list = inboxList(state);
      if (list.length === 0) return state;
      const at = list.findIndex((question) => question.id === state.pickedId);
      const next = Math.min(list.length - 1, Math.max(0, at + (action.direction === 'next' ? 1 : -1)));
      const pickedId = list[next]!.id;
      return pickedId === state.pickedId ? state : { ...state, pickedId };
    }
  }
}

/** What the overlay lists: the open questions oldest first, then those answered meanwhile. */
export function inboxList(state: InboxView): Question[] {
  const all = [...state.questions.values()];
  return [...all.filter(isOpen).sort(byAge), ...all.filter((question) => !isOpen(question)).sort(byAge)];
}

export function openCount(state: InboxView): number {
  let count = 0;
  for (const question of state.questions.values()) if (isOpen(question)) count++;
  return count;
}

export function pickedQuestion(state: InboxView): Question | null {
  return state.pickedId === null ? null : (state.questions.get(state.pickedId) ?? null);
}

/** The pick stays where it was while it exists; else the oldest open question (or the first listed). */
function withPick(state: InboxView): InboxView {
  if (state.pickedId !== null && state.questions.has(state.pickedId)) return state;
  const pickedId = inboxList(state)[0]?.id ?? null;
  return pickedId === state.pickedId ? state : { ...state, pickedId };
}

/** The line under which an answer file's text is ignored (as git's commit scissors). */
export const ANSWER_SCISSORS = '# ------------------------ >8 ------------------------';

/** The file an answer is written in ($EDITOR): empty above the scissors, the question below it for reference. */
export function answerTemplate(question: Question): string {
  const options = question.options?.length ? [`#`, `# Options: ${question.options.join(' | ')}`] : [];
  const quoted = question.question.split('\n').map((line) => `# ${line}`);
  return [
    '',
    ANSWER_SCISSORS,
    '# Write your answer above this line (it may span many lines); everything from the line up is kept.',
    '# Save an empty answer to answer nothing.',
    '#',
    `# Question ${question.id}:`,
    ...quoted,
    ...options,
    '',
  ].join('\n');
}

/** The answer in an edited answer file: the text above the scissors, trimmed; null when it is empty. */
export function answerFromFile(text: string): string | null {
  const cut = text.indexOf(ANSWER_SCISSORS);
  const answer = (cut === -1 ? text : text.slice(0, cut)).trim();
  return answer === '' ? null : answer;
}
