/** goal.* methods: thin mappings onto the GoalStore, which validates, writes and publishes the events. */
import { ErrorCode, RpcError, type GoalAction, type InvalidGoal } from '../../../protocol/index.ts';
import type { DaemonServices, HandlerParams, HandlerTable, RequestContext } from '../context.ts';

type GoalMethod = 'goal.list' | 'goal.get' | 'goal.create' | 'goal.update' | 'goal.queue' | 'goal.pause' | 'goal.cancel' | 'goal.retry';

/** The error for a goal that is missing, or whose file is there but invalid (then the reason is more useful). */
export function goalMissing(id: number, invalid: InvalidGoal | undefined): RpcError {
  if (invalid) return new RpcError(ErrorCode.Conflict, `goal #${id}'s file is invalid: ${invalid.error}; fix or delete ${invalid.file}`);
  return new RpcError(ErrorCode.NotFound, `goal #${id} does not exist`);
}

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
    'goal.get': ({ id }) => {
      const goal = store.get(id);
      if (!goal)
        throw goalMissing(
          id,
          store.invalid().find((entry) => entry.id === id),
        );
      return { goal };
    },
    'goal.create': async ({ title, spec, queue, links }, { cause }) => ({
      goal: await store.create({ title, spec, queue, links }, cause),
    }),
    'goal.update': async ({ id, title, spec }, { cause }) => ({ goal: await store.update(id, { title, spec }, cause) }),
    'goal.queue': transitionTo('queue'),
    'goal.pause': transitionTo('pause'),
    'goal.cancel': transitionTo('cancel'),
    'goal.retry': transitionTo('retry'),
  };
}
