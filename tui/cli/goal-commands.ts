/** `ralph goal add | list | show | queue | cancel | retry | pause`. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BUILTIN_AGENTS,
  ErrorCode,
  GOAL_AFTER_MAX,
  GOAL_PRIORITY_MAX,
  GOAL_PRIORITY_MIN,
  GOAL_STATES,
  isAgentName,
  type Goal,
  type GoalState,
  type InvalidGoal,
} from '../../protocol/index.ts';
import { RpcRequestError, type RalphClient } from '../../protocol/client.ts';
import { blockersOf, describeBlocker } from '../../protocol/goal-order.ts';
import { parseGoalId, type CommandContext, type CommandHandler } from './commands.ts';
import { CliError, UsageError } from './errors.ts';
import { formatAgo, formatDateTime, formatTable, note, paint, print, printJson, truncate } from './output.ts';
import { withDaemon } from './session.ts';
import { cleanText, oneLine } from '../terminal-text.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The spec from --spec or --spec-file (`-` is stdin); undefined when neither is given (the daemon uses the template). */
async function readSpec(context: CommandContext): Promise<string | undefined> {
  const { spec, 'spec-file': specFile } = context.options;
  if (typeof spec === 'string' && typeof specFile === 'string') {
    throw new UsageError('give the spec with --spec or --spec-file, not both', 'goal add');
  }
  if (typeof spec === 'string') return spec;
  if (typeof specFile !== 'string') return undefined;
  if (specFile === '-') return readStdin();
  const file = path.resolve(specFile);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the spec file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`);
  }
}

/** --agent as given, when it is a name at all; whether the daemon knows it is asked once connected. */
function agentOption(context: CommandContext): string | undefined {
  const agent = context.options.agent;
  if (agent === undefined) return undefined;
  if (typeof agent !== 'string' || !isAgentName(agent)) {
    throw new UsageError(
      `--agent '${oneLine(String(agent))}' is no agent name (${BUILTIN_AGENTS.join(', ')}; see \`ralph agents\`)`,
      'goal add',
    );
  }
  return agent;
}

/**
 * Refuses an agent the daemon does not list (a typo would leave the goal stuck once it runs). The
 * built-in names need no asking; another name costs one `agents.list`.
 */
async function assertKnownAgent(client: RalphClient, agent: string): Promise<void> {
  if ((BUILTIN_AGENTS as readonly string[]).includes(agent)) return;
  const { agents } = await client.request('agents.list', {});
  const names = [...new Set([...BUILTIN_AGENTS, ...agents.map((known) => known.name)])];
  if (!names.includes(agent)) throw new UsageError(`unknown agent '${agent}' (agents: ${names.join(', ')})`, 'goal add');
}

/** --after as given: goal ids (`3`, `#3`) separated by commas, at most GOAL_AFTER_MAX; whether they exist is the daemon's to say. */
function afterOption(context: CommandContext, command = 'goal add'): number[] | undefined {
  const after = context.options.after;
  if (after === undefined) return undefined;
  if (command === 'goal edit' && String(after).trim() === 'none') return [];
  const ids = String(after)
    .split(',')
    .map((part) => part.trim());
  const parsed = ids.map((part) => (/^#?[1-9]\d{0,9}$/.test(part) ? Number(part.replace('#', '')) : null));
  if (ids.length === 0 || parsed.some((id) => id === null)) {
    throw new UsageError(`--after '${oneLine(String(after))}' is not a list of goal ids (like 3 or 3,5)`, command);
  }
  if (parsed.length > GOAL_AFTER_MAX) throw new UsageError(`--after names more than ${GOAL_AFTER_MAX} goals`, command);
  return parsed as number[];
}

/** --priority as given: an integer from GOAL_PRIORITY_MIN to GOAL_PRIORITY_MAX. */
function priorityOption(context: CommandContext, command = 'goal add'): number | undefined {
  const priority = context.options.priority;
  if (priority === undefined) return undefined;
  const text = String(priority).trim();
  const value = /^[+-]?\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= GOAL_PRIORITY_MIN && value <= GOAL_PRIORITY_MAX)) {
    throw new UsageError(
      `--priority '${oneLine(String(priority))}' is not an integer from ${GOAL_PRIORITY_MIN} to ${GOAL_PRIORITY_MAX}`,
      command,
    );
  }
  return value;
}

export const addGoal: CommandHandler = async (context) => {
  const title = context.options.title;
  if (typeof title !== 'string' || title.trim() === '') throw new UsageError('goal add needs --title T', 'goal add');
  const agent = agentOption(context);
  const after = afterOption(context);
  const priority = priorityOption(context);
  const spec = await readSpec(context);
  const queue = context.options.queue === true;
  const { goal } = await withDaemon(context, async (client) => {
    if (agent !== undefined) await assertKnownAgent(client, agent);
    return client
      .request('goal.create', {
        title,
        ...(spec === undefined ? {} : { spec }),
        ...(agent === undefined ? {} : { agent }),
        ...(queue ? { queue } : {}),
        ...(after === undefined ? {} : { after }),
        ...(priority === undefined ? {} : { priority }),
      })
      .catch(refusedValueIsUsage);
  });
  if (context.json) printJson(goal);
  else print(String(goal.id));
};

/** What the daemon refuses as a bad value (a goal --after names that does not exist, a cycle) is bad usage too (exit 2). */
function refusedValueIsUsage(error: unknown): never {
  if (error instanceof RpcRequestError && error.code === ErrorCode.InvalidParams) throw new UsageError(error.message);
  throw error;
}

/** `goal edit ID --after … --priority N`: prints the goal's after and priority as they are now. */
export const editGoal: CommandHandler = async (context) => {
  const id = parseGoalId(context.args[0]!, 'goal edit');
  const after = afterOption(context, 'goal edit');
  const priority = priorityOption(context, 'goal edit');
  if (after === undefined && priority === undefined) throw new UsageError('goal edit needs --after or --priority', 'goal edit');
  const { goal } = await withDaemon(context, (client) =>
    client
      .request('goal.update', {
        id,
        ...(after === undefined ? {} : { after }),
        ...(priority === undefined ? {} : { priority: priority === 0 ? null : priority }),
      })
      .catch(refusedValueIsUsage),
  );
  if (context.json) printJson(goal);
  else
    print(
      `goal #${goal.id}: after ${goal.after?.length ? goal.after.map((each) => `#${each}`).join(', ') : 'no goal'}, priority ${goal.priority ?? 0}`,
    );
};

/** The order groups appear in: what is moving first, what is over last. */
const STATE_ORDER: readonly GoalState[] = ['running', 'waiting', 'paused', 'queued', 'stuck', 'draft', 'done', 'cancelled'];

export const listGoals: CommandHandler = async (context) => {
  const { goals, invalid } = await withDaemon(context, (client) => client.request('goal.list', {}));
  if (context.json) {
    printJson(goals);
    for (const bad of invalid) note(`goal #${bad.id} is invalid: ${bad.error} (${bad.file})`);
    return;
  }
  if (goals.length === 0 && invalid.length === 0) {
    print('No goals yet. Add one with: ralph goal add --title T');
    return;
  }
  for (const line of goalTable(goals, invalid)) print(line);
};

/**
 * One aligned table, a blank line between state groups; invalid goal files last, with their error.
 * An AGENT column appears when some goal names its own agent (the others run with the config's: blank).
 */
export function goalTable(goals: readonly Goal[], invalid: readonly InvalidGoal[], now = Date.now()): string[] {
  const order = [...STATE_ORDER, ...GOAL_STATES.filter((state) => !STATE_ORDER.includes(state))];
  const withAgents = goals.some((goal) => goal.agent !== undefined);
  const agentCell = (cell: string) => (withAgents ? [cell] : []);
  const orderCells = goalOrderCells(goals);
  const rows: (string[] | null)[] = [['ID', 'STATE', ...agentCell('AGENT'), ...orderCells.header, 'TITLE', 'UPDATED']];
  for (const state of order) {
    const group = goals.filter((goal) => goal.state === state).sort((a, b) => a.id - b.id);
    if (group.length === 0) continue;
    rows.push(null);
    for (const goal of group) {
      rows.push([
        `#${goal.id}`,
        state,
        ...agentCell(goal.agent ?? ''),
        ...orderCells.of(goal),
        truncate(oneLine(goal.title), 60),
        formatAgo(goal.updatedAt, now),
      ]);
    }
  }
  if (invalid.length > 0) {
    rows.push(null);
    for (const bad of [...invalid].sort((a, b) => a.id - b.id))
      rows.push([`#${bad.id}`, 'invalid', ...agentCell(''), ...orderCells.header.map(() => ''), oneLine(`${bad.file}: ${bad.error}`), '']);
  }
  const [header, ...body] = formatTable(rows);
  return [paint('bold', header ?? ''), ...body];
}

/**
 * The PRI column (when some goal has a priority) and the AFTER column (when some goal comes after
 * others: `#3,#5`, and `waiting` while a queued goal is held by them).
 */
function goalOrderCells(goals: readonly Goal[]): { header: string[]; of: (goal: Goal) => string[] } {
  const byId = new Map(goals.map((goal) => [goal.id, goal]));
  const withPriority = goals.some((goal) => goal.priority !== undefined);
  const withAfter = goals.some((goal) => (goal.after?.length ?? 0) > 0);
  return {
    header: [...(withPriority ? ['PRI'] : []), ...(withAfter ? ['AFTER'] : [])],
    of: (goal) => {
      const cells: string[] = [];
      if (withPriority) cells.push(goal.priority === undefined ? '' : String(goal.priority));
      if (withAfter) {
        const after = (goal.after ?? []).map((id) => `#${id}`).join(',');
        const held = goal.state === 'queued' && blockersOf(goal, (id) => byId.get(id)).length > 0;
        cells.push(held ? `${after} waiting` : after);
      }
      return cells;
    },
  };
}

export const showGoal: CommandHandler = async (context) => {
  const id = parseGoalId(context.args[0]!, 'goal show');
  const { goal, others } = await withDaemon(context, async (client) => {
    const { goal } = await client.request('goal.get', { id });
    // What holds a goal that comes after others is read from them.
    const others = goal.after?.length ? (await client.request('goal.list', {})).goals : [];
    return { goal, others };
  });
  if (context.json) printJson(goal);
  else for (const line of goalDetails(goal, others)) print(line);
};

function formatUsage(usage: Goal['usage']): string {
  if (usage.calls === 0) return 'none';
  const tokens = `${usage.inputTokens.toLocaleString('en')} in (${usage.cachedInputTokens.toLocaleString('en')} cached), ${usage.outputTokens.toLocaleString('en')} out`;
  const cost = usage.costUsd === null ? 'cost unknown' : `$${usage.costUsd.toFixed(4)}`;
  return `${usage.calls} calls, ${tokens}, ${cost}`;
}

/** The goal's facts, spec and history; `others` (the other goals) say what holds a goal that comes after them. */
export function goalDetails(goal: Goal, others: readonly Goal[] = []): string[] {
  const byId = new Map(others.map((other) => [other.id, other]));
  const after = (goal.after ?? []).map((id) => `#${id}`).join(', ');
  const waiting = after && goal.state === 'queued' ? blockersOf(goal, (id) => byId.get(id)).map(describeBlocker) : [];
  const facts = formatTable([
    ['state', goal.state],
    ['agent', goal.agent ?? 'the default (executor.agent in ralph.config.ts)'],
    ['priority', goal.priority === undefined ? '0 (the default)' : String(goal.priority)],
    ...(after ? [['after', `${after} (it starts once they have landed, on top of them)`]] : []),
    ...(waiting.length > 0 ? [['waiting', oneLine(waiting.join('; '))]] : []),
    ['created', formatDateTime(goal.createdAt)],
    ['updated', formatDateTime(goal.updatedAt)],
    ['attempts', String(goal.attempts.length)],
    ['usage', formatUsage(goal.usage)],
  ]);
  const history = goal.history.length
    ? formatTable(goal.history.map((step) => [formatDateTime(step.at), step.action, `${step.from} → ${step.to}`, oneLine(step.note ?? '')]))
    : ['(none)'];
  return [
    paint('bold', `#${goal.id} ${goal.title}`),
    ...facts,
    '',
    paint('bold', 'Spec'),
    cleanText(goal.spec).trimEnd() || '(empty)',
    '',
    paint('bold', 'History'),
    ...history,
  ];
}

const TRANSITION_METHODS = {
  queue: 'goal.queue',
  cancel: 'goal.cancel',
  retry: 'goal.retry',
  pause: 'goal.pause',
} as const;

/** `goal queue|cancel|retry|pause ID`: prints `goal #3: draft → queued`. */
export function transitionCommand(action: keyof typeof TRANSITION_METHODS): CommandHandler {
  return async (context) => {
    const id = parseGoalId(context.args[0]!, `goal ${action}`);
    const { goal } = await withDaemon(context, (client) => client.request(TRANSITION_METHODS[action], { id }));
    if (context.json) {
      printJson(goal);
      return;
    }
    // The goal as the transition left it; the executor may move it on, so read the step, not the state.
    const step = goal.history.findLast((entry) => entry.action === action);
    print(step ? `goal #${goal.id}: ${step.from} → ${step.to}` : `goal #${goal.id}: ${goal.state}`);
  };
}
