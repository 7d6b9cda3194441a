/**
 * goal.* methods: thin mappings onto the GoalStore, which validates, writes and publishes the events.
 * A goal's `agent` is checked here against the config as it is now (the store does not read the
 * config): a name no backend answers to would only leave the goal stuck once it runs.
 */
import type { GoalAction } from '../../../protocol/index.ts';
import { knownAgentNames } from '../../agent/external/registry.ts';
import type { ConfigService } from '../../config/config-service.ts';
import { InvalidInputError } from '../../errors.ts';
import type { DaemonServices, HandlerParams, HandlerTable, RequestContext } from '../context.ts';

type GoalMethod = 'goal.list' | 'goal.get' | 'goal.create' | 'goal.update' | 'goal.queue' | 'goal.pause' | 'goal.cancel' | 'goal.retry';

export function goalHandlers({ store, config }: DaemonServices): Pick<HandlerTable, GoalMethod> {
  // goal.queue / pause / cancel / retry share one shape: an id, an optional note, the goal as it is now.
  const transitionTo =
    (action: GoalAction) =>
    async ({ id, note }: HandlerParams<'goal.queue'>, { cause }: RequestContext) => ({
      goal: await store.transition(id, action, note === undefined ? {} : { note }, cause),
    });

  return {
    'goal.list': ({ state }) => ({
      goals: state ? store.list().filter((goal) => goal.state === state) : store.list(),
      invalid: store.invalid(),
    }),
    'goal.get': ({ id }) => ({ goal: store.require(id) }),
    'goal.create': async ({ title, spec, queue, links, agent, after, priority }, { cause }) => {
      if (agent !== undefined) assertKnownAgent(agent, config);
      return { goal: await store.create({ title, spec, queue, links, agent, after, priority }, cause) };
    },
    'goal.update': async ({ id, title, spec, agent, after, priority }, { cause }) => {
      // The agent the goal has already stands (a config reloaded since must not block editing its title);
      // a goal that is not there is the store's to say.
      const current = store.get(id);
      if (current && typeof agent === 'string' && agent !== current.agent) assertKnownAgent(agent, config);
      return { goal: await store.update(id, { title, spec, agent, after, priority }, cause) };
    },
    'goal.queue': transitionTo('queue'),
    'goal.pause': transitionTo('pause'),
    'goal.cancel': transitionTo('cancel'),
    'goal.retry': transitionTo('retry'),
  };
}

/** Refuses an agent name no backend answers to with this config, naming the ones that do. */
function assertKnownAgent(agent: string, config: ConfigService): void {
  const known = knownAgentNames(config.config.executor);
  if (!known.includes(agent)) {
    throw new InvalidInputError(`no agent backend is called "${agent}" (there are: ${known.join(', ')})`, { agents: known });
  }
}
