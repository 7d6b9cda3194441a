/**
 * What a queue worker takes from the queue and what it never does. Anyone who can write to the
 * Redis can write a turn, so a turn may say what the goal is (its spec, notes, check, agent by
 * name: the agent acts on them inside this machine's floor) but never where the worker's model key
 * goes nor how far the floor drops:
 *
 * - The key goes only where this machine says: `ralph worker --provider-url`, else its own
 *   OPENAI_BASE_URL, else the provider's official endpoint. The turn's `baseURL` (the daemon's
 *   setting) is never used: honouring it when it equals the worker's own would add nothing, and any
 *   other value is exactly the theft this prevents. Agent CLIs read their endpoints and keys from
 *   this machine's environment too; what could redirect them from a turn (an executable, extra
 *   arguments, a command agent's variables) is a command the worker must allow.
 * - A turn that would run commands outside the floor is refused (the goal ends stuck with the
 *   reason) unless the worker was started with the opt-in that allows it: a command agent or an
 *   agent CLI's own executable or arguments (`--allow-commands`), an agent CLI skipping its
 *   permission checks (`--allow-all-permissions`), the command sandbox off (`--allow-sandbox-off`).
 * - The repository is the queue's too: an agent CLI loads none of its settings (Claude Code's
 *   `.claude/settings.json`, OpenCode's `opencode.json` …) unless the worker allows commands.
 * - `secrets.passEnv` hands a secret-looking variable of this machine to the goal's commands only
 *   when the worker names it too (`--pass-env`): otherwise a queue writer could hand the worker's
 *   key to a command that sends it anywhere.
 */
import { emptyUsage } from '../../protocol/index.ts';
import { AgentStartError } from '../agent/external/external-run.ts';
import type { RalphConfig } from '../config/schema.ts';
import { IterationError } from '../pipeline/iteration.ts';
import type { SecretsConfig } from '../secrets/daemon-secrets.ts';
import { COMMAND_BACKEND } from '../agent/external/command.ts';
import type { AgentChoice } from '../agent/external/registry.ts';

/** What the worker's own command line allows beyond the floor (all off by default). */
export interface WorkerFloor {
  /** Where the worker's key goes: wins over OPENAI_BASE_URL. */
  providerUrl?: string;
  allowCommands?: boolean;
  allowAllPermissions?: boolean;
  allowSandboxOff?: boolean;
  /** Variables `secrets.passEnv` may hand to commands on this machine. */
  passEnv?: readonly string[];
}

/** The worker's model endpoint: its own option, its own environment, else null (the provider's official endpoint). */
export function workerBaseURL(floor: WorkerFloor, env: NodeJS.ProcessEnv): string | null {
  return floor.providerUrl || env.OPENAI_BASE_URL?.trim() || null;
}

/** What the worker says as it starts: where its key goes (the origin: no credentials a URL may hold) and what it allows beyond its floor. */
export function describeFloor(floor: WorkerFloor, env: NodeJS.ProcessEnv): string {
  const url = workerBaseURL(floor, env);
  const allowed = [
    ...(floor.allowCommands ? ['--allow-commands'] : []),
    ...(floor.allowAllPermissions ? ['--allow-all-permissions'] : []),
    ...(floor.allowSandboxOff ? ['--allow-sandbox-off'] : []),
    ...(floor.passEnv?.length ? [`--pass-env ${floor.passEnv.join(',')}`] : []),
  ];
  const where = url ? (URL.parse(url)?.origin ?? 'its own provider URL') : 'OpenAI';
  return `its model calls go to ${where}; beyond its floor it allows ${allowed.length > 0 ? allowed.join(' ') : 'nothing'}`;
}

/** Why the worker refuses a turn's executor settings (`agent`: the agent the turn resolves to), or null when they stay inside its floor. */
export function floorRefusal(floor: WorkerFloor, executor: RalphConfig['executor'], agent: AgentChoice): string | null {
  const refused = (what: string, flag: string): string =>
    `this worker does not run ${what} from the queue: start it with ${flag} to allow it (README "Scale out")`;
  if (agent.kind === 'external') {
    const name = agent.backend.name;
    if (name === COMMAND_BACKEND) {
      if (!floor.allowCommands) return refused('a command agent (executor.agent: {command})', '--allow-commands');
    } else {
      if (agent.executable !== agent.backend.executable && !floor.allowCommands)
        return refused(`an executable of its own for ${name} (executor.agents.${name}.path)`, '--allow-commands');
      if (agent.extraArgs.length > 0 && !floor.allowCommands)
        return refused(`extra arguments for ${name} (executor.agents.${name}.args)`, '--allow-commands');
    }
    if (agent.permissions === 'all' && !floor.allowAllPermissions)
      return refused(`${name} without its permission checks (executor.agents.${name}.permissions: 'all')`, '--allow-all-permissions');
  }
  if (executor.commands.sandbox === 'off' && !floor.allowSandboxOff)
    return refused("commands outside the sandbox (executor.commands.sandbox: 'off')", '--allow-sandbox-off');
  return null;
}

/**
 * The turn's agent as this worker runs it: an agent CLI loads none of the repository's own settings
 * for it (backend.ts `untrustedRepository`: they could send the worker's key elsewhere or run hooks),
 * unless the worker allows commands, when the repository's settings apply as on the developer's machine.
 */
export function agentOnWorker(floor: WorkerFloor, agent: AgentChoice): AgentChoice {
  if (agent.kind !== 'external' || floor.allowCommands) return agent;
  return { ...agent, untrustedRepository: true };
}

/** A refused turn as the daemon takes it: an agent that cannot start here, so the goal is stuck with the reason, never tried again. */
export function refusedTurn(reason: string): IterationError {
  return new IterationError(reason, {
    stopped: false,
    spend: { usage: emptyUsage(), waitedMs: 0, durationMs: 0 },
    cause: new AgentStartError('failed', reason),
  });
}

/** The turn's secrets rules as this worker applies them: `passEnv` only where the worker names it too; and the names it kept back. */
export function secretsOnWorker(floor: WorkerFloor, config: SecretsConfig): { config: SecretsConfig; keptBack: string[] } {
  const allowed = new Set(floor.passEnv ?? []);
  const keptBack = config.passEnv.filter((name) => !allowed.has(name));
  return { config: { ...config, passEnv: config.passEnv.filter((name) => allowed.has(name)) }, keptBack };
}
