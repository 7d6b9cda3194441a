/**
 * agents.list: every agent backend a goal may run with, as found on the daemon's machine, and the
 * config's choice for goals that name none. Ralph's own agent is always there (it needs only the
 * model provider); each agent CLI is looked for by the AgentDetector, which caches its answer.
 */
import type { AgentInfo, ProviderSettings } from '../../../protocol/index.ts';
import type { AgentBackend } from '../../agent/external/backend.ts';
import { COMMAND_BACKEND, commandBackend } from '../../agent/external/command.ts';
import { AGENT_BACKENDS } from '../../agent/external/registry.ts';
import type { ConfigService } from '../../config/config-service.ts';
import { EXTERNAL_AGENTS, type ExternalAgentName } from '../../config/schema.ts';
import { AgentDetector, type AgentDetectorOptions } from '../../agent/external/detect.ts';
import type { DaemonServices, HandlerTable } from '../context.ts';

/** What the handler needs to know about the config's agent settings (the config service supplies it). */
export interface AgentSettings {
  /** The agent CLIs Ralph knows (the registry's). */
  backends: () => readonly AgentBackend[];
  /** The config's path to a backend's executable, when it names one. */
  configuredPath: (name: string) => string | undefined;
  /** The backend a goal without its own `agent` runs with (the config's `executor.agent`). */
  defaultAgent: () => string;
}

/**
 * The settings as the config has them now (read on every request: a reloaded config applies at once):
 * every agent CLI of the registry, and the config's command when `executor.agent` is one. A command
 * is not asked for its version (it may ignore `--version` and start working).
 */
export function configAgentSettings(config: ConfigService): AgentSettings {
  const executor = () => config.config.executor;
  return {
    backends: () => {
      const named = Object.values(AGENT_BACKENDS);
      const agent = executor().agent;
      return typeof agent === 'object' ? [...named, { ...commandBackend(agent), versionArgs: [] }] : named;
    },
    configuredPath: (name) => (isExternalAgent(name) ? executor().agents[name]?.path : undefined),
    defaultAgent: () => {
      const agent = executor().agent;
      return typeof agent === 'object' ? COMMAND_BACKEND : agent;
    },
  };
}

function isExternalAgent(name: string): name is ExternalAgentName {
  return (EXTERNAL_AGENTS as readonly string[]).includes(name);
}

export function agentHandlers(
  services: Pick<DaemonServices, 'config' | 'info' | 'repo'>,
  settings: AgentSettings,
  detectorOptions: Partial<AgentDetectorOptions> = {},
): Pick<HandlerTable, 'agents.list'> {
  const detector = new AgentDetector({
    backends: settings.backends,
    configuredPath: settings.configuredPath,
    cwd: services.repo().root,
    ...detectorOptions,
  });
  return {
    'agents.list': async ({ refresh }) => {
      const found = await detector.detect({ refresh: refresh ?? false });
      const own = ralphAgent(services.info.version, services.config.providerSettings());
      return { agents: [own, ...found], default: settings.defaultAgent() };
    },
  };
}

/** Ralph's own agent: part of the daemon, so always installed; it authenticates with the model provider. */
export function ralphAgent(version: string, provider: ProviderSettings): AgentInfo {
  const where = provider.baseURL ?? 'OpenAI';
  return {
    name: 'ralph',
    displayName: 'Ralph',
    installed: true,
    version,
    path: null,
    auth: `the model provider: OPENAI_API_KEY ${provider.apiKeySet ? 'set' : 'not set'}, ${where}, model ${provider.model}`,
    install: null,
    problem: provider.configured ? null : 'no model provider: set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server',
  };
}
