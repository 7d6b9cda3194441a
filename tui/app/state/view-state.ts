/**
 * Everything the TUI draws, as one value changed only by the pure `reduce`. Protocol events,
 * snapshots, connection changes, pages read from the daemon and the keys' actions all go through
 * here, so what a frame shows is a function of the actions received, in order. Each concern has
 * its own reducer beside this file (chat, progress and research, the log, the terminal's own UI);
 * this one routes to them and keeps the goal pipeline.
 */
import type {
  ClientInfo,
  ClientSettings,
  EventData,
  EventEnvelope,
  Goal,
  GoalState,
  InvalidGoal,
  QueueStatus,
  RepoInfo,
  Snapshot,
  SpendStatus,
  LandingState,
} from '../../../protocol/index.ts';
import type { ConnectionStatus } from '../connection.ts';
import { chatFromSnapshot, reduceChat, userTexts, type ChatAction, type ChatView } from './chat-state.ts';
import { inboxFromSnapshot, reduceInbox, type InboxAction, type InboxView } from './inbox-state.ts';
import { emptyLog, reduceLog, type LogAction, type LogView } from './log-state.ts';
import { progressFromSnapshot, reduceProgress, type ProgressView } from './progress-state.ts';
import { initialUi, reduceUi, type UiAction, type UiState } from './ui-state.ts';

export type GoalWarning = EventData<'goal.warning'>;

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
  /** The goal pipeline: paused or not (and what holds it), which goals run now. */
  pipeline: Snapshot['pipeline'];
  /** Spend today and this month against the budget; null from a daemon that does not say. */
  spend: SpendStatus | null;
  /** The landing queue and each done goal's landability (empty from a daemon that does not say). */
  landing: LandingState;
  /** The queue goals run through on workers (`executor.backend: 'queue'`); null when goals run on the daemon's machine. */
  queue: QueueStatus | null;
  /** What ralph.config.ts says the TUI uses (key bindings, the chat's model, the iteration limit), live. */
  settings: ClientSettings;
  /** ralph.config.ts failed to load: the daemon runs on the last good one. */
  configError: string | null;
  /** The latest warning per goal (the developer edited a file the goal's branch also changed). */
  warnings: ReadonlyMap<number, GoalWarning>;
  chat: ChatView;
  progress: ProgressView;
  /** The questions agents asked: open ones, and those answered while this terminal watched. */
  inbox: InboxView;
  /** The log of the selected goal. */
  log: LogView;
  ui: UiState;
}

export type ViewAction =
  | { kind: 'event'; event: EventEnvelope }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'connection'; status: ConnectionStatus }
  | { kind: 'connection-error'; message: string }
  | { kind: 'select'; direction: 'next' | 'previous' }
  | { kind: 'select-goal'; id: number }
  | { kind: 'ui'; action: UiAction }
  | { kind: 'log'; action: LogAction }
  | { kind: 'chat'; action: ChatAction }
  | { kind: 'inbox'; action: InboxAction };

/** The order groups appear in: what is happening now first, then what comes next, then history. */
export const PIPELINE_ORDER: readonly GoalState[] = ['running', 'waiting', 'queued', 'paused', 'stuck', 'draft', 'done', 'cancelled'];

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
    pipeline: snapshot.pipeline,
    spend: snapshot.spend ?? null,
    landing: snapshot.landing ?? { queue: [], goals: [] },
    queue: snapshot.queue ?? null,
    settings: snapshot.settings,
    configError: null,
    warnings: new Map(),
    chat: chatFromSnapshot(snapshot.chat),
    progress: progressFromSnapshot(snapshot.progress),
    inbox: inboxFromSnapshot(snapshot.questions),
    log: emptyLog(null),
    // ↑ in the chat recalls the session's earlier messages too, not only those sent from here.
    ui: initialUi(userTexts(snapshot.chat.messages)),
  };
  return reduce(empty, { kind: 'snapshot', snapshot });
}

export function reduce(state: ViewState, action: ViewAction): ViewState {
  const next = reduceAction(state, action);
  return next === state ? state : followSelection(next);
}

function reduceAction(state: ViewState, action: ViewAction): ViewState {
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
    case 'select-goal':
      if (state.goals.has(action.id)) return state.selectedId === action.id ? state : { ...state, selectedId: action.id };
      // Not here yet (the answer came before its event): selected when it arrives.
      return { ...state, ui: reduceUi(state.ui, { kind: 'select-when-seen', id: action.id }) };
    case 'ui': {
      const ui = reduceUi(state.ui, action.action);
      return ui === state.ui ? state : { ...state, ui };
    }
    case 'log': {
      const log = reduceLog(state.log, action.action);
      return log === state.log ? state : { ...state, log };
    }
    case 'chat': {
      const chat = reduceChat(state.chat, action.action);
      return chat === state.chat ? state : { ...state, chat };
    }
    case 'inbox':
      return withInbox(state, action.action);
  }
}

/**
 * Reduces a run of actions in order (what a batched frame does). Consecutive lines of the log being
 * followed are applied as one `log.appended`: the same state as one by one, without copying the
 * log's window (up to LOG_BUFFER entries) once per line — under a flood, a frame holds a hundred.
 */
export function reduceAll(state: ViewState, actions: readonly ViewAction[]): ViewState {
  let next = state;
  for (let i = 0; i < actions.length; ) {
    const run = followedLogRun(next, actions, i);
    if (run.length > 1) {
      next = reduce(next, { kind: 'event', event: mergedAppend(run) });
      i += run.length;
    } else {
      next = reduce(next, actions[i]!);
      i += 1;
    }
  }
  return next;
}

type LogAppended = Extract<EventEnvelope, { type: 'log.appended' }>;

/**
 * The `log.appended` events from actions[from] on that can be applied together: new (each seq above
 * the last), of one goal, their entries in rising index order, into a log that is followed (or not
 * the one shown). Appending them at once then gives what appending them one by one does: the
 * window's newest LOG_BUFFER entries, up to the first gap. (A log scrolled back stops taking lines
 * when its window fills, one line at a time: those go one by one.)
 */
function followedLogRun(state: ViewState, actions: readonly ViewAction[], from: number): LogAppended[] {
  const run: LogAppended[] = [];
  let lastSeq = state.lastSeq;
  let lastIndex = -1;
  for (let i = from; i < actions.length; i++) {
    const action = actions[i]!;
    if (action.kind !== 'event' || action.event.type !== 'log.appended' || action.event.seq <= lastSeq) break;
    const { goalId, entries } = action.event.data;
    if (goalId !== (run[0]?.data.goalId ?? goalId) || (goalId === state.log.goalId && !state.log.follow)) break;
    let rising = true;
    for (const entry of entries) {
      rising &&= entry.index > lastIndex;
      lastIndex = entry.index;
    }
    if (!rising) break;
    run.push(action.event);
    lastSeq = action.event.seq;
  }
  return run;
}

/** One event holding the lines of a run (the last one's seq: the run is applied up to there). */
function mergedAppend(run: readonly LogAppended[]): LogAppended {
  const last = run[run.length - 1]!;
  return { ...last, data: { goalId: last.data.goalId, entries: run.flatMap((event) => event.data.entries) } };
}

/** The log pane shows the selected goal's log: when the selection moves, it opens that one. */
function followSelection(state: ViewState): ViewState {
  if (state.log.goalId === state.selectedId) return state;
  return { ...state, log: reduceLog(state.log, { kind: 'open', goalId: state.selectedId }) };
}

function applySnapshot(state: ViewState, snapshot: Snapshot): ViewState {
  const goals = new Map(snapshot.goals.map((goal) => [goal.id, goal]));
  const sameSession = snapshot.chat.session === state.chat.session;
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
    pipeline: snapshot.pipeline,
    spend: snapshot.spend ?? null,
    landing: snapshot.landing ?? { queue: [], goals: [] },
    queue: snapshot.queue ?? null,
    settings: snapshot.settings,
    warnings: new Map([...state.warnings].filter(([id]) => goals.has(id))),
    chat: chatFromSnapshot(snapshot.chat, state.chat),
    progress: progressFromSnapshot(snapshot.progress, state.progress),
    inbox: inboxFromSnapshot(snapshot.questions, state.inbox),
    // The daemon may have restarted: its log is read afresh (what this terminal held may be stale).
    log: reduceLog(state.log, { kind: 'reload' }),
    // A different session (another terminal ran /new meanwhile) is viewed from its end.
    ui: sameSession ? state.ui : { ...state.ui, chatScroll: 0 },
    // Files changed since the TUI started: a new snapshot does not undo them.
  };
}

function applyEvent(state: ViewState, event: EventEnvelope): ViewState {
  switch (event.type) {
    case 'goal.created': {
      const next = withValidGoal(state, event.data.goal);
      if (state.ui.selectWhenSeen !== event.data.goal.id) return next;
      return { ...next, selectedId: event.data.goal.id, ui: reduceUi(next.ui, { kind: 'select-when-seen', id: null }) };
    }
    case 'goal.updated':
      return withValidGoal(state, event.data.goal);
    case 'goal.removed':
      return {
        ...state,
        goals: without(state.goals, event.data.id),
        invalid: without(state.invalid, event.data.id),
        warnings: without(state.warnings, event.data.id),
      };
    case 'goal.invalid':
      return {
        ...state,
        goals: without(state.goals, event.data.id),
        invalid: new Map(state.invalid).set(event.data.id, event.data),
      };
    case 'goal.warning':
      return { ...state, warnings: new Map(state.warnings).set(event.data.goalId, event.data) };
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
    case 'question.asked':
      return withInbox(state, { kind: 'asked', question: event.data.question });
    case 'question.answered':
    case 'question.withdrawn':
      return withInbox(state, { kind: 'closed', question: event.data.question });
    case 'notification':
      return state; // nothing to draw: the terminal alerts (run.tsx), the goal's own event shows its state
    case 'pipeline.changed':
      return { ...state, pipeline: event.data };
    case 'spend.changed':
      return { ...state, spend: event.data };
    case 'landing.changed':
      return { ...state, landing: event.data };
    case 'queue.changed':
      return { ...state, queue: event.data };
    case 'budget.warning':
      return {
        ...state,
        spend: event.data.spend,
        ui: reduceUi(state.ui, { kind: 'notice', notice: { tone: 'info', text: event.data.message } }),
      };
    case 'config.changed':
      return {
        ...state,
        settings: event.data.settings,
        configError: event.data.error,
        chat: reduceChat(state.chat, { kind: 'provider', provider: event.data.provider }),
      };
    case 'log.appended':
      return withLog(state, { kind: 'appended', goalId: event.data.goalId, entries: event.data.entries });
    case 'progress.begin':
      return withProgress(state, reduceProgress(state.progress, { kind: 'begin', data: event.data, time: event.time }));
    case 'progress.report':
      return withProgress(state, reduceProgress(state.progress, { kind: 'report', data: event.data }));
    case 'progress.end':
      return withProgress(state, reduceProgress(state.progress, { kind: 'end', data: event.data }));
    case 'research.updated':
      return withProgress(state, reduceProgress(state.progress, { kind: 'research', run: event.data.run }));
    case 'chat.message':
      return withChat(state, { kind: 'message', message: event.data.message });
    case 'chat.delta':
      return withChat(state, { kind: 'delta', ...event.data });
    case 'chat.part':
      return withChat(state, { kind: 'part', ...event.data });
    case 'chat.message.done':
      return withChat(state, { kind: 'done', message: event.data.message });
    case 'chat.session': {
      const next = withChat(state, { kind: 'session', session: event.data.session });
      return next === state ? state : { ...next, ui: { ...next.ui, chatScroll: 0 } };
    }
    case 'provider.wait': {
      const { scope, reason, seconds, attempt } = event.data;
      // Waits of the chat's turn are shown in the chat; a goal's waits are in its log.
      return scope.session === undefined
        ? state
        : withChat(state, { kind: 'wait', session: scope.session, wait: { reason, seconds, attempt } });
    }
    default:
      return assertNever(event);
  }
}

function withValidGoal(state: ViewState, goal: Goal): ViewState {
  const warnings = goal.state === 'done' || goal.state === 'cancelled' ? without(state.warnings, goal.id) : state.warnings;
  return { ...state, goals: new Map(state.goals).set(goal.id, goal), invalid: without(state.invalid, goal.id), warnings };
}

function withInbox(state: ViewState, action: InboxAction): ViewState {
  const inbox = reduceInbox(state.inbox, action);
  return inbox === state.inbox ? state : { ...state, inbox };
}

function withChat(state: ViewState, action: ChatAction): ViewState {
  const chat = reduceChat(state.chat, action);
  return chat === state.chat ? state : { ...state, chat };
}

function withLog(state: ViewState, action: LogAction): ViewState {
  const log = reduceLog(state.log, action);
  return log === state.log ? state : { ...state, log };
}

function withProgress(state: ViewState, progress: ProgressView): ViewState {
  return progress === state.progress ? state : { ...state, progress };
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
  // The change itself selected a goal (one this terminal just created): that one.
  if (after.selectedId !== before.selectedId && after.selectedId !== null && after.goals.has(after.selectedId)) return after.selectedId;
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

/** The worker that runs a remote goal now, as the daemon names it (untrusted text: cleaned where it is drawn); null for a goal run here, or not running. */
export function workerOf(state: ViewState, goal: Goal): string | null {
  if (goal.state !== 'running') return null;
  return state.queue?.workers.find((entry) => entry.goalId === goal.id)?.worker ?? null;
}

/** How many files the developer changed beside the editor since the TUI started. */
export function changedFileCount(state: ViewState): number {
  return state.changedPaths.size + state.omittedChanges;
}

/** The draft goal the chat agent proposed in the current session (the newest), while it is still a draft. */
export function proposedDraft(state: ViewState): Goal | null {
  let found: Goal | null = null;
  for (const goal of state.goals.values()) {
    if (goal.state === 'draft' && goal.links?.chat === state.chat.session && (!found || goal.id > found.id)) found = goal;
  }
  return found;
}
