/**
 * Which agent runs a goal's iterations: Ralph's own (`ralph`), an agent CLI Ralph knows by name
 * (`claude`, `codex`, `opencode`, `gemini`: one adapter each in this folder), or the command the
 * config names (command.ts). The goal's `agent` field wins over the config's `executor.agent`.
 *
 * An adapter joins by one line in AGENT_BACKENDS below (and its import); nothing else here
 * changes. A name the config allows whose adapter is not there yet resolves to an error that says
 * so, and the goal is stuck with it.
 */
import type { ExternalAgentName, RalphConfig } from '../../config/schema.ts';
import type { AgentBackend, ExternalPermissions } from './backend.ts';
import { claudeBackend } from './claude.ts';
import { codexBackend } from './codex.ts';
import { commandBackend, COMMAND_BACKEND } from './command.ts';
import { geminiBackend } from './gemini.ts';
import { opencodeBackend } from './opencode.ts';

type ExecutorConfig = RalphConfig['executor'];

/** The agent CLIs Ralph has an adapter for, by their name in the config and on goals. */
export const AGENT_BACKENDS: Partial<Record<ExternalAgentName, AgentBackend>> = {
  claude: claudeBackend,
  codex: codexBackend,
  opencode: opencodeBackend,
  gemini: geminiBackend,
};

/** The agent that runs an iteration. */
export type AgentChoice =
  | { kind: 'ralph' }
  | {
      kind: 'external';
      backend: AgentBackend;
      /** The executable to run: the config's `path`, else the backend's own. */
      executable: string;
      model: string | null;
      permissions: ExternalPermissions;
      extraArgs: readonly string[];
      /** Set on a queue worker (unless it allows commands): the repository's own settings for the CLI are not loaded (backend.ts). */
      untrustedRepository?: boolean;
    };

/** The choice names no agent Ralph can run: the goal is stuck with this message. */
export class UnknownAgentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownAgentError';
  }
}

/**
 * The agent for a goal: its own `agent` field when it has one, else the config's `executor.agent`.
 * Throws UnknownAgentError for a name no backend answers to.
 */
export function resolveAgent(goalAgent: string | undefined, executor: ExecutorConfig): AgentChoice {
  const choice = goalAgent ?? executor.agent;
  if (choice === 'ralph') return { kind: 'ralph' };
  if (typeof choice === 'object') {
    return {
      kind: 'external',
      backend: commandBackend(choice),
      executable: choice.command[0]!,
      model: null,
      permissions: 'workspace',
      extraArgs: [],
    };
  }
  if (choice === COMMAND_BACKEND) {
    if (typeof executor.agent === 'object') return resolveAgent(undefined, executor);
    throw new UnknownAgentError('the goal asks for the agent "command", but executor.agent in ralph.config.ts names no command');
  }
  const backend = isExternalAgentName(choice) ? AGENT_BACKENDS[choice] : undefined;
  if (!backend) {
    throw new UnknownAgentError(`no agent backend is called "${choice}" (there are: ${knownAgentNames(executor).join(', ')})`);
  }
  const options = executor.agents[backend.name as ExternalAgentName];
  return {
    kind: 'external',
    backend,
    executable: options?.path ?? backend.executable,
    model: options?.model ?? null,
    permissions: options?.permissions ?? 'workspace',
    extraArgs: options?.args ?? [],
  };
}

/** The names a goal's `agent` may hold with this config: `ralph`, each adapter's, and `command` when executor.agent is one. */
export function knownAgentNames(executor: ExecutorConfig): string[] {
  return ['ralph', ...Object.keys(AGENT_BACKENDS), ...(typeof executor.agent === 'object' ? [COMMAND_BACKEND] : [])];
}

function isExternalAgentName(name: string): name is ExternalAgentName {
  return Object.hasOwn(AGENT_BACKENDS, name);
}
