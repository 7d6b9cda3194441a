/**
 * The goal model and its state machine. Pure: no I/O, no clock (callers pass `now`).
 *
 *   draft → queued → running → done | stuck
 *   running → paused → queued        stuck → queued (retry)
 *   running → waiting → queued       (an agent asked a person: `ask`; the answer: `answer`)
 *   queued → waiting                 (at start: its open question was filed just before the daemon died)
 *   running → queued (recover: the daemon died while the goal ran)
 *   done → queued (resolve: its branch conflicts with the target's; a conflict-resolution run, see `resolving`)
 *   any state that is not final → cancelled
 */
import { z } from 'zod';
import { boundedJson, GOAL_BOUNDS, GOAL_TITLE_MAX, LINKS_BOUNDS, maxUnits } from './limits.ts';
import { emptyUsage, Usage } from './usage.ts';

export const GOAL_STATES = ['draft', 'queued', 'running', 'paused', 'waiting', 'done', 'stuck', 'cancelled'] as const;
export const GoalState = z.enum(GOAL_STATES);
export type GoalState = z.infer<typeof GoalState>;

/**
 * States no one's action leaves: a done goal goes back to `queued` only by the daemon's `resolve`,
 * when its branch no longer lands cleanly (it is done again, or stuck, after the resolution).
 */
export const FINAL_STATES: readonly GoalState[] = ['done', 'cancelled'];

export const GOAL_ACTIONS = [
  'queue',
  'start',
  'complete',
  'fail',
  'pause',
  'ask',
  'answer',
  'retry',
  'cancel',
  'recover',
  'resolve',
] as const;
export const GoalAction = z.enum(GOAL_ACTIONS);
export type GoalAction = z.infer<typeof GoalAction>;

/** Every legal transition, and nothing else. `retry` is its own action so retry context can be carried. */
export const TRANSITIONS: Readonly<Record<GoalAction, { readonly from: readonly GoalState[]; readonly to: GoalState }>> = {
  queue: { from: ['draft', 'paused'], to: 'queued' },
  start: { from: ['queued'], to: 'running' },
  complete: { from: ['running'], to: 'done' },
  fail: { from: ['running'], to: 'stuck' },
  pause: { from: ['running'], to: 'paused' },
  /**
   * The agent asked a person (ask_human): its iteration ended, its worktree stays, the goal waits for the answer.
   * From `queued` only at the daemon's start: it was killed after filing the question, before the goal moved.
   */
  ask: { from: ['running', 'queued'], to: 'waiting' },
  /** The question was answered: the goal runs again, the answer in its next iteration's prompt. */
  answer: { from: ['waiting'], to: 'queued' },
  retry: { from: ['stuck'], to: 'queued' },
  cancel: { from: ['draft', 'queued', 'running', 'paused', 'waiting', 'stuck'], to: 'cancelled' },
  recover: { from: ['running'], to: 'queued' },
  /** A done goal's branch conflicts with the target's: it runs again to resolve that (`resolving` says what). */
  resolve: { from: ['done'], to: 'queued' },
};

export const IsoTime = z.iso.datetime({ offset: true });

export const Transition = z.object({
  action: GoalAction,
  from: GoalState,
  to: GoalState,
  at: IsoTime,
  note: z.string().optional(),
});
export type Transition = z.infer<typeof Transition>;

/** What the check command said after an iteration. */
export const CheckResult = z.object({
  command: z.string(),
  ok: z.boolean(),
  exitCode: z.int().nullable(),
  /** The end of its output (capped). */
  output: z.string(),
  durationMs: z.int().nonnegative(),
});
export type CheckResult = z.infer<typeof CheckResult>;

/** One iteration of the Ralph loop: a fresh context, one step, one check. */
export const Iteration = z.looseObject({
  number: z.int().positive(),
  startedAt: IsoTime,
  endedAt: IsoTime.optional(),
  /** The agent's own words on what it did; becomes a progress note. */
  summary: z.string(),
  /** The commit of the iteration's changes on the goal branch; null when it changed nothing. */
  commit: z.string().nullable(),
  check: CheckResult.nullable(),
  /** The agent called goal_done (done only when the check passes too). */
  doneClaimed: z.boolean(),
  usage: z.object({
    inputTokens: z.int().nonnegative(),
    cachedInputTokens: z.int().nonnegative(),
    outputTokens: z.int().nonnegative(),
    calls: z.int().nonnegative(),
    costUsd: z.number().nonnegative().nullable(),
  }),
});
export type Iteration = z.infer<typeof Iteration>;

/** One run of the goal from `start` to an end; a pause, a question or a recovery continues the same attempt. */
export const Attempt = z.looseObject({
  number: z.int().positive(),
  startedAt: IsoTime,
  endedAt: IsoTime.optional(),
  outcome: z.enum(['done', 'stuck', 'cancelled']).optional(),
  reason: z.string().optional(),
  /** Progress notes, one per iteration; carried into a retry as context. */
  notes: z.array(z.string()),
  /** Iteration records; their shape belongs to the executor. */
  iterations: z.array(z.looseObject({})),
});
export type Attempt = z.infer<typeof Attempt>;

export const GoalId = z.int().positive();

/** How many conflicting files a goal's `resolving` names (the prompt names as many; the rest are counted). */
export const RESOLVING_FILES_MAX = 200;

/**
 * A landing conflict the goal is resolving: its branch (`goalHead`) no longer rebases onto the
 * target (`branch` at `targetHead`) because both changed `files`. Set by `resolve`, cleared when the
 * run ends (done, stuck, cancelled).
 */
export const Resolving = z.object({
  files: z.array(z.string().max(4096)).max(RESOLVING_FILES_MAX),
  branch: z.string().max(1024),
  targetHead: z.string().regex(/^[0-9a-f]{40,64}$/),
  goalHead: z.string().regex(/^[0-9a-f]{40,64}$/),
});
export type Resolving = z.infer<typeof Resolving>;

/** How many goals one goal may come after (`after`): far more than a plan of work needs. */
export const GOAL_AFTER_MAX = 32;
/** A goal's priority runs from GOAL_PRIORITY_MIN to GOAL_PRIORITY_MAX; absent is 0; higher starts first. */
export const GOAL_PRIORITY_MIN = -100;
export const GOAL_PRIORITY_MAX = 100;
/** The goals a goal comes after: it starts only once each has landed (protocol/goal-order.ts says what holds it). */
export const GoalAfter = z.array(GoalId).max(GOAL_AFTER_MAX);
export const GoalPriority = z.int().min(GOAL_PRIORITY_MIN).max(GOAL_PRIORITY_MAX);

/**
 * The agent backends every Ralph knows: `ralph` (its own agent loop) and the agent CLIs it drives
 * headless. The config may define more names later (a `{ command: [...] }` backend), so a goal's
 * `agent` is any bounded lower-case name, not only one of these; whether the name means something
 * is the daemon's judgment: `goal.create` and `goal.update` refuse one its config has no backend
 * for, and one the config stops naming later leaves the goal stuck when it runs, saying so.
 */
export const BUILTIN_AGENTS = ['ralph', 'claude', 'codex', 'opencode', 'gemini'] as const;
export type BuiltinAgent = (typeof BUILTIN_AGENTS)[number];

/** An agent backend's name: a lower-case letter, then up to 31 lower-case letters, digits or dashes. */
export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const AgentName = z
  .string()
  .regex(AGENT_NAME_PATTERN, 'an agent name is a lower-case letter, then up to 31 lower-case letters, digits or dashes');
export type AgentName = z.infer<typeof AgentName>;

/** Whether `name` is an agent backend's name (one Ralph knows or one a config could define). */
export function isAgentName(name: string): boolean {
  return AGENT_NAME_PATTERN.test(name);
}

/** A goal cannot come after itself (a longer cycle needs the other goals: protocol/goal-order.ts finds it). */
function noSelfDependency(payload: z.core.ParsePayload<{ id: number; after?: number[] | undefined }>): void {
  if (payload.value.after?.includes(payload.value.id)) {
    payload.issues.push({ code: 'custom', message: 'a goal cannot come after itself', path: ['after'], input: payload.value.after });
  }
}

/**
 * A goal, as the daemon keeps it and its file holds it. Loose (a later version's fields survive a
 * save), so the whole goal is held to GOAL_BOUNDS: a file nested too deep or too large is an invalid
 * goal like any other.
 */
const GoalObject = boundedJson(
  z.looseObject({
    id: GoalId,
    title: maxUnits(z.string().trim().min(1), GOAL_TITLE_MAX),
    spec: z.string(),
    state: GoalState,
    createdAt: IsoTime,
    updatedAt: IsoTime,
    attempts: z.array(Attempt),
    usage: Usage,
    history: z.array(Transition).default([]),
    /** The goal's branch (`ralph/goal-<id>`) once it has run. */
    branch: z.string().optional(),
    /** Set when the goal's work was landed on the developer's branch. */
    landed: z.object({ commit: z.string(), branch: z.string(), at: IsoTime }).optional(),
    /** The agent backend that runs the goal's iterations (`claude`, `codex` …); absent: the config's `executor.agent`. */
    agent: AgentName.optional(),
    /** Where the goal came from (a research run, a chat session), when it came from one. */
    links: boundedJson(z.looseObject({ research: z.string().optional(), chat: z.string().optional() }), LINKS_BOUNDS).optional(),
    /** Goals this one comes after: it is not started before every one of them has landed, and then starts on top of them. */
    after: GoalAfter.optional(),
    /** Orders the queue before FIFO: higher starts first; absent is 0. */
    priority: GoalPriority.optional(),
    /** The landing conflict its current run resolves (a done goal sent back by `resolve`). */
    resolving: Resolving.optional(),
  }),
  GOAL_BOUNDS,
);
/** The goal with the rules across its fields (the same schema type: `.shape` and the inferred type are unchanged). */
export const Goal = GoalObject.check(noSelfDependency);
export type Goal = z.infer<typeof Goal>;

/** A goal file that no longer parses or validates: shown with its error, never overwritten. */
export const InvalidGoal = z.object({
  id: GoalId,
  file: z.string(),
  error: z.string(),
});
export type InvalidGoal = z.infer<typeof InvalidGoal>;

export const SPEC_SECTIONS = ['Objective', 'Reference', 'Outcomes', 'Acceptance'] as const;

/** The spec skeleton: what, never how. */
export function specTemplate(): string {
  return SPEC_SECTIONS.map((section) => `## ${section}\n\n`).join('');
}

export function isFinal(state: GoalState): boolean {
  return FINAL_STATES.includes(state);
}

/** The actions allowed from a state, in a stable order. */
export function allowedActions(state: GoalState): GoalAction[] {
  return GOAL_ACTIONS.filter((action) => TRANSITIONS[action].from.includes(state));
}

export function canTransition(state: GoalState, action: GoalAction): boolean {
  return TRANSITIONS[action].from.includes(state);
}

export class InvalidTransitionError extends Error {
  readonly state: GoalState;
  readonly action: GoalAction;
  constructor(goalId: number, state: GoalState, action: GoalAction) {
    const from = TRANSITIONS[action].from.join(', ');
    super(`goal #${goalId} is ${state}: cannot ${action} (only from ${from})`);
    this.name = 'InvalidTransitionError';
    this.state = state;
    this.action = action;
  }
}

export interface NewGoal {
  id: number;
  title: string;
  spec?: string;
  now: Date;
  links?: Goal['links'];
  /** The agent backend for this goal; absent: the config's. */
  agent?: string;
  /** Goals it comes after (empty: none); whether they exist is the store's to check. */
  after?: number[];
  priority?: number;
}

export function createGoal({ id, title, spec, now, links, agent, after, priority }: NewGoal): Goal {
  const at = now.toISOString();
  const goal: Goal = {
    id,
    title: title.trim(),
    spec: spec ?? specTemplate(),
    state: 'draft',
    createdAt: at,
    updatedAt: at,
    attempts: [],
    usage: emptyUsage(),
    history: [],
  };
  if (agent !== undefined) goal.agent = agent;
  if (after !== undefined && after.length > 0) goal.after = after;
  if (priority !== undefined && priority !== 0) goal.priority = priority;
  if (links) goal.links = links;
  return Goal.parse(goal);
}

/**
 * Applies one action: validates it, records it in `history`, and keeps `attempts` in step
 * (`start` opens an attempt unless one is still open; complete/fail/cancel close it).
 * Returns a new goal; throws InvalidTransitionError for an illegal action.
 */
export function transition(goal: Goal, action: GoalAction, options: { now: Date; note?: string; resolving?: Resolving }): Goal {
  if (!canTransition(goal.state, action)) throw new InvalidTransitionError(goal.id, goal.state, action);
  if (action === 'resolve' && (!options.resolving || goal.landed)) {
    throw new InvalidTransitionError(goal.id, goal.state, action);
  }
  const at = options.now.toISOString();
  const to = TRANSITIONS[action].to;
  const record: Transition = { action, from: goal.state, to, at };
  if (options.note !== undefined) record.note = options.note;

  const attempts = goal.attempts.map((attempt) => ({ ...attempt }));
  const open = attempts.at(-1);
  const isOpen = open !== undefined && open.endedAt === undefined;
  if (action === 'start' && !isOpen) {
    attempts.push({ number: attempts.length + 1, startedAt: at, notes: [], iterations: [] });
  }
  if (isOpen && (action === 'complete' || action === 'fail' || action === 'cancel')) {
    open.endedAt = at;
    open.outcome = to === 'done' ? 'done' : to === 'stuck' ? 'stuck' : 'cancelled';
    if (options.note !== undefined) open.reason = options.note;
  }
  const { resolving: _resolved, ...rest } = goal;
  // The conflict goes with the goal into its run, and is over once the run ends.
  const resolving =
    action === 'resolve' ? options.resolving : to === 'done' || to === 'stuck' || to === 'cancelled' ? undefined : goal.resolving;
  return { ...rest, ...(resolving ? { resolving } : {}), state: to, updatedAt: at, attempts, history: [...goal.history, record] };
}
