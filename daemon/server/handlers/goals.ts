/** goal.* methods: thin mappings onto the GoalStore, which validates, writes and publishes the events. */
import type { GoalAction } from '../../../protocol/index.ts';
import type { DaemonServices, HandlerParams, HandlerTable, RequestContext } from '../context.ts';

type GoalMethod = 'goal.list' | 'goal.get' | 'goal.create' | 'goal.update' | 'goal.queue' | 'goal.pause' | 'goal.cancel' | 'goal.retry';

export function goalHandlers({ store }: DaemonServices): Pick<HandlerTable, GoalMethod> {
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
    'goal.create': async ({ title, spec, queue, links, agent, after, priority }, { cause }) => ({
      goal: await store.create({ title, spec, queue, links, agent, after, priority }, cause),
    }),
    'goal.update': async ({ id, title, spec, agent, after, priority }, { cause }) => ({
      goal: await store.update(id, { title, spec, agent, after, priority }, cause),
    }),
    'goal.queue': transitionTo('queue'),
    'goal.pause': transitionTo('pause'),
    'goal.cancel': transitionTo('cancel'),
    'goal.retry': transitionTo('retry'),
  };
}
