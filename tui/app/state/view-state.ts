/**
 * Everything the TUI draws, as one value changed only by the pure `reduce`. Protocol events,
 * snapshots, connection changes and UI actions all go through here, so what a frame shows is a
 * function of the actions received, in order.
 */
import type { ClientInfo, EventEnvelope, Goal, GoalState, InvalidGoal, RepoInfo, Snapshot } from '../../../protocol/index.ts';
import type { ConnectionStatus } from '../connection.ts';

export interface ViewState {
  connection: ConnectionStatus;
  /** The seq of the last event applied (or of the snapshot): events at or below it are already in. */
  lastSeq: number;
  /** The daemon run the seqs belong to. */
  epoch: string | null;
  repo: RepoInfo | null;
  goals: ReadonlyMap<number, Goal>;
  /** Goal files that no longer parse or validate; a goal is in `goals` or here, never both. */
  invalid: ReadonlyMap<number, InvalidGoal>;
  clients: readonly ClientInfo[];
  /** Distinct repo-relative paths the developer changed since the TUI started. */
  changedPaths: ReadonlySet<string>;
  /** Changes the daemon reported only as a count (a batch too large to list). */
  omittedChanges: number;
  /** The last thing that went wrong on the connection (a bad frame, a refused reconnect); cleared when it opens again. */
  connectionError: string | null;
  /** Why the daemon said it is stopping; null while it serves. */
  daemonStopping: string | null;
  /** The goal the keys act on; always one of `goals` (or null when there are none). */
  selectedId: number | null;
}

export type ViewAction =
  | { kind: 'event'; event: EventEnvelope }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'connection'; status: ConnectionStatus }
  | { kind: 'connection-error'; message: string }
  | { kind: 'select'; direction: 'next' | 'previous' };

/** The order groups appear in: what is happening now first, then what comes next, then history. */
export const PIPELINE_ORDER: readonly GoalState[] = ['running', 'queued', 'paused', 'stuck', 'draft', 'done', 'cancelled'];

export function initialViewState(snapshot: Snapshot, connection: ConnectionStatus): ViewState {
  const empty: ViewState = {
    connection,
    lastSeq: 0,
    epoch: null,
    repo: null,
    goals: new Map(),
    invalid: new Map(),
    clients: [],
    changedPaths: new Set(),
    omittedChanges: 0,
    connectionError: null,
    daemonStopping: null,
    selectedId: null,
  };
  return reduce(empty, { kind: 'snapshot', snapshot });
}

export function reduce(state: ViewState, action: ViewAction): ViewState {
  switch (action.kind) {
    case 'event':
      if (action.event.seq <= state.lastSeq) return state; // already applied (a resume overlap or a replay)
      return keepSelection(state, { ...applyEvent(state, action.event), lastSeq: action.event.seq });
    case 'snapshot':
      return keepSelection(state, applySnapshot(state, action.snapshot));
    case 'connection':
      if (action.status !== 'open') return { ...state, connection: action.status };
      // A connection that opens again serves again, whatever went wrong or the old daemon said before it went.
      return { ...state, connection: action.status, connectionError: null, daemonStopping: null };
    case 'connection-error':
      return { ...state, connectionError: action.message };
    case 'select':
      return moveSelection(state, action.direction === 'next' ? 1 : -1);
  }
}

/** Applies a run of actions in order (what a batched frame does). */
export function reduceAll(state: ViewState, actions: readonly ViewAction[]): ViewState {
  return actions.reduce(reduce, state);
}

function applySnapshot(state: ViewState, snapshot: Snapshot): ViewState {
  const goals = new Map(snapshot.goals.map((goal) => [goal.id, goal]));
  return {
    ...state,
    lastSeq: snapshot.seq,
    epoch: snapshot.daemon.epoch,
    repo: snapshot.repo,
    goals,
    // A goal is valid or invalid, never both (the daemon should not send both; if it does, the valid one wins).
    invalid: new Map(snapshot.invalid.filter((bad) => !goals.has(bad.id)).map((bad) => [bad.id, bad])),
    clients: snapshot.clients,
    daemonStopping: null,
    // Files changed since the TUI started: a new snapshot does not undo them.
  };
}

function applyEvent(state: ViewState, event: EventEnvelope): ViewState {
  switch (event.type) {
    case 'goal.created':
    case 'goal.updated':
      return withValidGoal(state, event.data.goal);
    case 'goal.removed':
      return { ...state, goals: without(state.goals, event.data.id), invalid: without(state.invalid, event.data.id) };
    case 'goal.invalid':
      return {
        ...state,
        goals: without(state.goals, event.data.id),
        invalid: new Map(state.invalid).set(event.data.id, event.data),
      };
    case 'clients.changed':
      return { ...state, clients: event.data.clients };
    case 'repo.changed': {
      const changedPaths = new Set(state.changedPaths);
      for (const path of event.data.paths) changedPaths.add(path);
      const repo = state.repo && { ...state.repo, branch: event.data.branch };
      return { ...state, changedPaths, omittedChanges: state.omittedChanges + event.data.omitted, repo };
    }
    case 'daemon.stopping':
      return { ...state, daemonStopping: event.data.reason };
    case 'log.appended':
    case 'progress.begin':
    case 'progress.report':
    case 'progress.end':
    case 'chat.message':
    case 'chat.delta':
    case 'chat.part':
    case 'chat.message.done':
    case 'chat.session':
    case 'provider.wait':
    case 'config.changed':
    case 'research.updated':
    case 'pipeline.changed':
    case 'goal.warning':
      return state; // not shown by this TUI yet; the seq still counts as applied
    default:
      return assertNever(event);
  }
}

function withValidGoal(state: ViewState, goal: Goal): ViewState {
  return { ...state, goals: new Map(state.goals).set(goal.id, goal), invalid: without(state.invalid, goal.id) };
}

function without<V>(map: ReadonlyMap<number, V>, id: number): ReadonlyMap<number, V> {
  if (!map.has(id)) return map;
  const copy = new Map(map);
  copy.delete(id);
  return copy;
}

function assertNever(value: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(value)}`);
}

// ---- selection -------------------------------------------------------------------------------

/**
 * After a change, the selection still names a goal that is there: the same goal when it is (even
 * if it moved to another group), else the goal that took its place in the list, else the one
 * before it; the first goal when nothing was selected.
 */
function keepSelection(before: ViewState, after: ViewState): ViewState {
  const selectedId = survivingSelection(before, after);
  return selectedId === after.selectedId ? after : { ...after, selectedId };
}

function survivingSelection(before: ViewState, after: ViewState): number | null {
  const previous = before.selectedId;
  if (previous !== null && after.goals.has(previous)) return previous;
  if (previous !== null) {
    const oldOrder = orderedGoalIds(before);
    const index = oldOrder.indexOf(previous);
    const candidates = [...oldOrder.slice(index + 1), ...oldOrder.slice(0, index).reverse()];
    const neighbour = candidates.find((id) => after.goals.has(id));
    if (neighbour !== undefined) return neighbour;
  }
  return orderedGoalIds(after)[0] ?? null;
}

function moveSelection(state: ViewState, step: 1 | -1): ViewState {
  const order = orderedGoalIds(state);
  if (order.length === 0) return state;
  const index = state.selectedId === null ? -1 : order.indexOf(state.selectedId);
  const next = index === -1 ? 0 : Math.min(order.length - 1, Math.max(0, index + step));
  const selectedId = order[next] ?? null;
  return selectedId === state.selectedId ? state : { ...state, selectedId };
}

// ---- selectors -------------------------------------------------------------------------------

export interface GoalGroup {
  state: GoalState;
  goals: Goal[];
}

/** Non-empty groups in pipeline order; ids ascending within a group (the queue order). */
export function goalGroups(state: ViewState): GoalGroup[] {
  const byState = new Map<GoalState, Goal[]>();
  for (const goal of state.goals.values()) {
    const group = byState.get(goal.state);
    if (group) group.push(goal);
    else byState.set(goal.state, [goal]);
  }
  return PIPELINE_ORDER.flatMap((goalState) => {
    const goals = byState.get(goalState);
    return goals ? [{ state: goalState, goals: goals.sort((a, b) => a.id - b.id) }] : [];
  });
}

/** Every goal id in the order the pipeline shows them: what next/previous walk through. */
export function orderedGoalIds(state: ViewState): number[] {
  return goalGroups(state).flatMap((group) => group.goals.map((goal) => goal.id));
}

export function invalidGoals(state: ViewState): InvalidGoal[] {
  return [...state.invalid.values()].sort((a, b) => a.id - b.id);
}

export function selectedGoal(state: ViewState): Goal | null {
  return state.selectedId === null ? null : (state.goals.get(state.selectedId) ?? null);
}

/** How many files the developer changed beside the editor since the TUI started. */
export function changedFileCount(state: ViewState): number {
  return state.changedPaths.size + state.omittedChanges;
}
