/**
 * agents.list: every agent backend a goal may run with, as found on the daemon's machine, and the
 * config's choice for goals that name none. Ralph's own agent is always there (it needs only the
 * model provider); each agent CLI is looked for by the AgentDetector, which caches its answer.
 */
import type { AgentInfo, ProviderSettings } from '../../../protocol/index.ts';
import type { AgentBackend } from '../../agent/external/backend.ts';
import type { ConfigService } from '../../config/config-service.ts';
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
 * The settings as the config has them now (read on every request: a reloaded config applies at once).
 * The agent CLIs' registry and the config's `executor.agent` are not wired yet: only Ralph's own agent.
 */
export function configAgentSettings(_config: ConfigService): AgentSettings {
  return { backends: () => [], configuredPath: () => undefined, defaultAgent: () => 'ralph' };
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
