/**
 * `ralph goal land ID`: the daemon queues a done goal and answers once it has landed; a refusal comes
 * back as one line naming the reason and the files. `ralph land status`: the landing queue and each
 * done goal's landability.
 */
import { describeLandability, plural, type GoalLandability } from '../../protocol/index.ts';
import { oneLine } from '../terminal-text.ts';
import { parseGoalId, type CommandHandler } from './commands.ts';
import { formatTable, print, printJson, truncate } from './output.ts';
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

export const landStatusCommand: CommandHandler = async (context) => {
  const { state, goals } = await withDaemon(context, async (client) => ({
    state: await client.request('land.status', {}),
    goals: client.snapshot.goals,
  }));
  if (context.json) {
    printJson(state);
    return;
  }
  const titles = new Map(goals.map((goal) => [goal.id, goal.title]));
  const name = (id: number) => `#${id} ${truncate(oneLine(titles.get(id) ?? '(unknown goal)'), 50)}`;
  const landability = new Map(state.goals.map((entry) => [entry.goalId, entry]));
  const describe = (entry: GoalLandability | undefined) => (entry ? describeLandability(entry) : 'not looked at yet');
  const rows: string[][] = [['queue', state.queue.length === 0 ? 'empty' : plural(state.queue.length, 'goal')]];
  for (const [i, entry] of state.queue.entries()) {
    const where = entry.step === 'queued' ? `waiting (${describe(landability.get(entry.goalId))})` : `landing: ${entry.step}`;
    rows.push([`  ${i + 1}.`, `${name(entry.goalId)}  ${where}${entry.by === 'auto' ? ' · auto' : ''}`]);
  }
  const queued = new Set(state.queue.map((entry) => entry.goalId));
  const waiting = goals.filter((goal) => goal.state === 'done' && !goal.landed && !queued.has(goal.id));
  rows.push(['done, not queued', waiting.length === 0 ? 'none' : plural(waiting.length, 'goal')]);
  for (const goal of waiting) rows.push(['', `${name(goal.id)}  ${describe(landability.get(goal.id))}`]);
  for (const line of formatTable(rows)) print(line);
  // Why a goal is not landable, below the table: a failing check's lines do not fit in a cell.
  for (const entry of state.goals) {
    if (entry.status !== 'check-failing' || !entry.reason) continue;
    print(`\n#${entry.goalId}: ${entry.reason}`);
  }
};
