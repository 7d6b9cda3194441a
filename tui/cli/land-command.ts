/** `ralph goal land ID`: the daemon lands a done goal; a refusal comes back as one line naming the reason and the files. */
import { plural } from '../../protocol/index.ts';
import { parseGoalId, type CommandHandler } from './commands.ts';
import { print, printJson } from './output.ts';
import { withDaemon } from './session.ts';

/**
 * The check runs before the commit and may take as long as the config allows (up to a day), so the
 * answer is awaited that long; a lost connection still ends the command at once.
 */
const LAND_ANSWER_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export const landGoalCommand: CommandHandler = async (context) => {
  const id = parseGoalId(context.args[0]!, 'goal land');
  const result = await withDaemon(context, (client) => client.request('goal.land', { id }, { timeoutMs: LAND_ANSWER_TIMEOUT_MS }));
  if (context.json) {
    printJson(result);
    return;
  }
  const files = plural(result.files.length, 'file');
  print(`goal #${id} landed as ${result.commit.slice(0, 7)} on ${result.goal.landed?.branch ?? 'the current branch'} (${files})`);
};
