/** `ralph inbox` (the open questions agents asked, oldest first) and `ralph answer ID "text"`. */
import { describeAsker, type Question } from '../../protocol/index.ts';
import type { CommandHandler } from './commands.ts';
import { UsageError } from './errors.ts';
import { note, print, printJson } from './output.ts';
import { withDaemon } from './session.ts';

export const showInbox: CommandHandler = async (context) => {
  const { questions, invalid } = await withDaemon(context, (client) => client.request('inbox.list', {}));
  for (const bad of invalid) note(`${bad.file} is not read: ${bad.error}`);
  if (context.json) {
    printJson(questions);
    return;
  }
  if (questions.length === 0) {
    print('no open questions');
    return;
  }
  for (const [i, question] of questions.entries()) {
    if (i > 0) print();
    for (const line of describeQuestion(question)) print(line);
  }
  print();
  print('answer with: ralph answer ID "text"');
};

export const answerQuestion: CommandHandler = async (context) => {
  const [idText, text] = context.args as [string, string];
  const match = /^([1-9]\d{0,9})$/.exec(idText.trim());
  if (!match) throw new UsageError(`a question ID is a positive integer, not '${idText}'`, 'answer');
  if (text.trim() === '') throw new UsageError('the answer is empty', 'answer');
  const { question } = await withDaemon(context, (client) => client.request('inbox.answer', { id: Number(match[1]), text }));
  if (context.json) printJson(question);
  else
    print(`question ${question.id} answered${'goalId' in question.from ? `: goal #${question.from.goalId} goes back to the queue` : ''}`);
};

/** A question as lines: its id, who asked and when, the question, and its options. */
function describeQuestion(question: Question): string[] {
  const lines = [`${question.id}  ${describeAsker(question.from)}  ${question.createdAt}`];
  for (const line of question.question.split('\n')) lines.push(`    ${line}`);
  if (question.options?.length) lines.push(`    options: ${question.options.join(' | ')}`);
  return lines;
}
