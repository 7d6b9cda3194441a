/**
 * What the daemon and a worker say to each other about one attempt (queue.ts has the design).
 *
 * The attempt is a BullMQ job (its data: `GoalJobData`), held by one worker at a time. The daemon
 * keeps every decision: it asks for each iteration as a turn (the `turn` key: what the iteration's
 * prompt needs, as GoalRun made it), and the worker answers on the goal's stream with the
 * iteration's record or why it left none. The turn key, not a list, so a worker that takes over a
 * stalled job finds the turn its predecessor was running and runs it again, from the commit the
 * daemon pushed (the daemon's branch is the truth: it force-pushes it before every turn, so a
 * commit pushed by a worker that died before reporting it is gone, never duplicated).
 * Stop and bound requests go the other way on a pub/sub channel, and are also kept on the turn
 * key (`stop`), so a worker that picks the job up later sees them.
 */
import { emptyUsage, type Goal, type ModelInfo, type Question } from '../../protocol/index.ts';
import { AgentStartError } from '../agent/external/external-run.ts';
import type { RalphConfig } from '../config/schema.ts';
import type { SecretsConfig } from '../secrets/daemon-secrets.ts';
import { ProviderError, type ModelApi, type ReasoningEffort } from '../llm/types.ts';
import { ExternalAgentError } from '../pipeline/external-iteration.ts';
import { IterationError, type IterationInput, type IterationRecord, type IterationSpend } from '../pipeline/iteration.ts';
import { QUEUE_PREFIX } from './queue.ts';

/** The job: the attempt, and where its branch lives. Never a token or a key. */
export interface GoalJobData {
  queue: string;
  goalId: number;
  title: string;
  attempt: number;
  /** The git remote every worker fetches from and pushes to (a URL or a path, as the daemon's repository names it). */
  remote: string;
  /** `ralph/goal-<id>` on that remote. */
  branch: string;
}

/** One iteration the daemon asks for: IterationInput without what only the worker's machine has. */
export interface Turn {
  /** Counts every turn asked for of this goal (an iteration asked again after a failed call or a stop gets a new one). */
  seq: number;
  number: number;
  positionInAttempt: number;
  goal: Goal;
  notes: readonly string[];
  lastCheck: IterationInput['lastCheck'];
  retryContext: string | null;
  /** The landing conflict this turn resolves: the prompt's section on it, as the daemon wrote it (conflict-resolution.ts). */
  conflictContext?: string | null;
  /**
   * The worktree's uncommitted work as the daemon has it (a conflict resolution's merged change,
   * markers and all): a commit at `worktreeRefOf(goal)` on the remote, laid out uncommitted on the branch.
   */
  worktree?: string;
  /** The daemon's model table (built-in rows and the config's overrides: figures, no secret), so a worker sizes and prices calls alike. */
  models?: ModelInfo[];
  /** The config's rules on secrets (`secrets`: which variables commands still get or never get; names, no value), applied to the worker's own environment. */
  secrets?: SecretsConfig;
  answers: readonly Question[];
  canAsk: boolean;
  model: string;
  api: ModelApi;
  /** The daemon's provider URL, for reference only: a worker's key goes where its own machine says, never here (worker-floor.ts). */
  baseURL: string | null;
  reasoningEffort?: ReasoningEffort;
  executor: RalphConfig['executor'];
  /** The commit the daemon pushed as the goal's branch for this turn: a worker whose worktree is at it already fetches nothing. */
  base?: string;
  /** When the daemon asked for it (its clock, ms since the epoch): with the answer's `timing`, the queue's latency per iteration. */
  publishedAt?: number;
  /** The turn was stopped (pause, cancel, daemon stopping) or the attempt is over: run nothing. */
  stop?: string;
  /** The attempt is over: the worker ends the job. */
  end?: boolean;
}

/** A worker's answer to a turn, on the goal's stream. */
export type TurnResult =
  | { type: 'turn'; seq: number; record: IterationRecord; timing?: TurnTiming }
  | { type: 'turn'; seq: number; error: SerializedIterationError; timing?: TurnTiming }
  /** What the iteration has spent so far (the daemon's bounds and budget watch it). */
  | { type: 'spend'; seq: number; spend: { usage: IterationSpend['usage']; waitedMs: number } };

/**
 * When a worker went through a turn's steps (its clock, ms since the epoch; absent: not reached):
 * the turn's `publishedAt`, taken, the worktree set to the branch, the iteration run, its commit pushed.
 */
export interface TurnTiming {
  published?: number;
  taken: number;
  synced?: number;
  ran?: number;
  pushed?: number;
}

/** Daemon → worker, on the goal's control channel. */
export type Control = { type: 'stop'; reason: string } | { type: 'bound'; reason: string };

/** Where the daemon puts a turn's uncommitted work on the remote (`Turn.worktree`): outside refs/heads, no branch of anyone's. */
export function worktreeRefOf(goalId: number): string {
  return `refs/ralph/worktree/goal-${goalId}`;
}

export function turnKey(queue: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queue}:turn:${goalId}`;
}

/** The `seq` of the last turn a worker answered (set with the answer, in one transaction). */
export function answeredKey(queue: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queue}:answered:${goalId}`;
}

/** The goal's turn counter (`seq`). */
export function turnSeqKey(queue: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queue}:turnseq:${goalId}`;
}

/** Which resume of an attempt its current job is (queue.ts: the job id's `r`). */
export function resumeKey(queue: string, goalId: number, attempt: number): string {
  return `${QUEUE_PREFIX}:${queue}:resume:${goalId}:${attempt}`;
}

/** Daemon → worker: a new turn is on the turn key, or the attempt's end (the worker looks at once instead of at its next poll). */
export function turnChannel(queue: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queue}:turns:${goalId}`;
}

export function controlChannel(queue: string, goalId: number): string {
  return `${QUEUE_PREFIX}:${queue}:control:${goalId}`;
}

/** The set of queue names that have ever had a job: workers serve each of them. */
export const QUEUES_KEY = `${QUEUE_PREFIX}:queues`;

/** A queue name added to QUEUES_KEY is announced here: workers serve it at once, not at their next look. */
export const QUEUES_CHANNEL = `${QUEUE_PREFIX}:queues:new`;

export interface SerializedIterationError {
  message: string;
  stopped: boolean;
  spend: IterationSpend;
  cause?:
    | { name: 'ProviderError'; kind: ProviderError['kind']; message: string; retryAfterSeconds?: number; quota: boolean; status?: number }
    | { name: 'ExternalAgentError'; kind: ExternalAgentError['kind']; message: string; retryAfterSeconds?: number }
    | { name: 'AgentStartError'; kind: AgentStartError['kind']; message: string }
    | { name: 'Error'; message: string };
}

/** An iteration that left no record, as the worker sends it (GoalRun decides on its cause). */
export function serializeIterationError(error: unknown): SerializedIterationError {
  if (!(error instanceof IterationError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { message, stopped: false, spend: { usage: emptyUsage(), waitedMs: 0, durationMs: 0 }, cause: { name: 'Error', message } };
  }
  const cause = error.cause;
  const base = { message: error.message, stopped: error.stopped, spend: error.spend };
  if (cause instanceof ProviderError) {
    return {
      ...base,
      cause: {
        name: 'ProviderError',
        kind: cause.kind,
        message: cause.message,
        quota: cause.quota,
        ...(cause.retryAfterSeconds !== undefined ? { retryAfterSeconds: cause.retryAfterSeconds } : {}),
        ...(cause.status !== undefined ? { status: cause.status } : {}),
      },
    };
  }
  if (cause instanceof ExternalAgentError) {
    return {
      ...base,
      cause: {
        name: 'ExternalAgentError',
        kind: cause.kind,
        message: cause.message,
        ...(cause.retryAfterSeconds !== undefined ? { retryAfterSeconds: cause.retryAfterSeconds } : {}),
      },
    };
  }
  if (cause instanceof AgentStartError) return { ...base, cause: { name: 'AgentStartError', kind: cause.kind, message: cause.message } };
  if (cause instanceof Error) return { ...base, cause: { name: 'Error', message: cause.message } };
  return base;
}

/** The worker's error as GoalRun knows it: the same classes, so retry, hold and stuck decide alike. */
export function deserializeIterationError(error: SerializedIterationError): IterationError {
  const cause = error.cause;
  let revived: Error | undefined;
  if (cause?.name === 'ProviderError') {
    revived = new ProviderError(cause.kind, cause.message, {
      quota: cause.quota,
      ...(cause.retryAfterSeconds !== undefined ? { retryAfterSeconds: cause.retryAfterSeconds } : {}),
      ...(cause.status !== undefined ? { status: cause.status } : {}),
    });
  } else if (cause?.name === 'ExternalAgentError') {
    revived = new ExternalAgentError(cause.kind, cause.message, cause.retryAfterSeconds);
  } else if (cause?.name === 'AgentStartError') {
    revived = new AgentStartError(cause.kind, cause.message);
  } else if (cause) {
    revived = new Error(cause.message);
  }
  return new IterationError(error.message, { stopped: error.stopped, spend: error.spend, ...(revived ? { cause: revived } : {}) });
}
