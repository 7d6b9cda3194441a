/**
 * Real protocol objects for the TUI's tests: goals made and moved by the protocol's own state
 * machine, events and snapshots validated by the protocol's schemas.
 */
import {
  createGoal,
  EventEnvelope,
  Snapshot,
  transition,
  type ClientInfo,
  type ClientSettings,
  type EventData,
  type EventType,
  type Goal,
  type GoalAction,
  type GoalState,
} from '../../../protocol/index.ts';

const NOW = new Date('2025-01-02T03:04:05.000Z');

/** The actions that take a new draft to each state. */
const PATH_TO: Record<GoalState, GoalAction[]> = {
  draft: [],
  queued: ['queue'],
  running: ['queue', 'start'],
  paused: ['queue', 'start', 'pause'],
  waiting: ['queue', 'start', 'ask'],
  stuck: ['queue', 'start', 'fail'],
  done: ['queue', 'start', 'complete'],
  cancelled: ['cancel'],
};

export function makeGoal(id: number, state: GoalState = 'draft', title = `Goal number ${id}`): Goal {
  return PATH_TO[state].reduce((goal, action) => transition(goal, action, { now: NOW }), createGoal({ id, title, now: NOW }));
}

export function makeClient(id: string, name = 'tui'): ClientInfo {
  return { id, name, connectedAt: NOW.toISOString() };
}

export interface SnapshotParts {
  seq?: number;
  goals?: Goal[];
  invalid?: Snapshot['invalid'];
  clients?: ClientInfo[];
  repoName?: string;
  branch?: string | null;
  epoch?: string;
  chat?: Snapshot['chat'];
  /** Settings from ralph.config.ts; each one not given has its default. */
  settings?: Partial<ClientSettings>;
}

/** The settings of a repository without a config file. */
export const DEFAULT_SETTINGS: ClientSettings = { chatModel: 'gpt-5.4-mini', tuiKeys: {}, maxIterations: 50 };

export function makeSnapshot(parts: SnapshotParts = {}): Snapshot {
  const name = parts.repoName ?? 'demo-repo';
  return Snapshot.parse({
    seq: parts.seq ?? 0,
    repo: { root: `/work/${name}`, name, branch: parts.branch === undefined ? 'main' : parts.branch },
    daemon: { version: '0.1.0', protocolVersion: 1, pid: 4242, epoch: parts.epoch ?? 'epoch-1', startedAt: NOW.toISOString() },
    goals: parts.goals ?? [],
    invalid: parts.invalid ?? [],
    clients: parts.clients ?? [makeClient('c1')],
    // The TUI does not draw the chat yet: an empty session by default.
    chat: parts.chat ?? { session: '2025-01-02-1', messages: [], queued: 0, providerConfigured: false },
    progress: [],
    pipeline: { paused: false, running: [] },
    settings: { ...DEFAULT_SETTINGS, ...parts.settings },
  });
}

/** An event as the daemon would push it, checked against the protocol's schema. */
export function makeEvent<T extends EventType>(seq: number, type: T, data: EventData<T>): EventEnvelope {
  return EventEnvelope.parse({ seq, time: NOW.toISOString(), type, data });
}
