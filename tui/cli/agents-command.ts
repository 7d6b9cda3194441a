/** `ralph agents`: the agent backends a goal may run with, as the daemon finds them, the default marked. */
import type { AgentInfo } from '../../protocol/index.ts';
import type { CommandHandler } from './commands.ts';
import { formatTable, paint, print, printJson } from './output.ts';
import { withDaemon } from './session.ts';
import { oneLine } from '../terminal-text.ts';

export const listAgents: CommandHandler = async (context) => {
  const refresh = context.options.refresh === true;
  const answer = await withDaemon(context, (client) => client.request('agents.list', refresh ? { refresh } : {}));
  if (context.json) {
    printJson(answer);
    return;
  }
  for (const line of agentTable(answer.agents, answer.default)) print(line);
};

const NONE = '—';

/**
 * One row per backend (`*` marks the default), then a line per backend that cannot run as found
 * (missing: how to install it). What the daemon says is printed through oneLine: a CLI's version
 * line is its own words.
 */
export function agentTable(agents: readonly AgentInfo[], defaultAgent: string): string[] {
  const rows = [
    ['', 'NAME', 'AGENT', 'INSTALLED', 'VERSION', 'AUTH'],
    ...agents.map((agent) => [
      agent.name === defaultAgent ? '*' : '',
      agent.name,
      oneLine(agent.displayName),
      agent.installed ? 'yes' : 'no',
      agent.version === null ? NONE : oneLine(agent.version),
      oneLine(agent.auth),
    ]),
  ];
  const [header, ...body] = formatTable(rows);
  const problems = agents.filter((agent) => agent.problem !== null).map((agent) => `${agent.name}: ${oneLine(agent.problem ?? '')}`);
  const known = agents.some((agent) => agent.name === defaultAgent);
  return [
    paint('bold', header ?? ''),
    ...body,
    '',
    known
      ? `* runs goals that name no agent (executor.agent in ralph.config.ts); a goal names its own with \`goal add --agent NAME\`.`
      : `Goals that name no agent run with '${oneLine(defaultAgent)}' (executor.agent in ralph.config.ts).`,
    ...(problems.length > 0 ? ['', ...problems] : []),
  ];
}
