/**
 * The chat agent's `ask_human {question, options?}`: a question filed in the inbox, for when the
 * answer may come later or from another terminal (the developer left, or the chat was one
 * `ralph chat` from a script). The answer comes back into the session as a message of its own,
 * which starts the next turn (chat-questions.ts).
 */
import { z } from 'zod';
import { firstLine, QUESTION_MAX, QUESTION_OPTION_MAX, QUESTION_OPTIONS_MAX } from '../../protocol/index.ts';
import type { InboxService } from '../inbox/inbox-service.ts';
import { defineTool } from '../tools/tool.ts';
import type { ChatTurn } from './chat-turn.ts';

export function askHumanTool(inbox: Pick<InboxService, 'ask'>, turn: ChatTurn) {
  return defineTool({
    name: 'ask_human',
    description:
      "File a question in the developer's inbox, where every terminal shows it until someone answers. Use it for a " +
      'decision you cannot go on without when the developer may not be reading now; otherwise just ask in your reply. ' +
      'The answer comes back into this chat as a message of its own. End your reply after it.',
    parameters: z.object({
      question: z.string().trim().min(1).max(QUESTION_MAX).describe('The question, with what the developer needs to know to answer it'),
      options: z
        .array(z.string().trim().min(1).max(QUESTION_OPTION_MAX))
        .max(QUESTION_OPTIONS_MAX)
        .optional()
        .describe('Suggested answers, if there are a few obvious ones'),
    }),
    async execute({ question, options }) {
      const filed = await inbox.ask(
        { from: { chat: turn.session }, question, ...(options && options.length > 0 ? { options } : {}) },
        turn.cause,
      );
      return {
        output: `Filed as question ${filed.id} in the inbox. The answer will come into this chat as a message. End your reply now.`,
        summary: `ask_human: question ${filed.id}: ${firstLine(question)}`,
      };
    },
  });
}
