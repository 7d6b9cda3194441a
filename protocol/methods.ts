/**
 * Every request a client may send, defined once with its params and result schemas.
 * Handlers on the daemon and the typed client both derive from `Methods`.
 *
 * Params are bounded twice over: every string a client sends has a maximum (UTF-16 code units, like
 * every limit in limits.ts), and the params as a whole arrive as the request's free-form `params`,
 * held to FREE_JSON_BOUNDS (jsonrpc.ts) before a method's schema reads them.
 */
import { z } from 'zod';
import { AgentName, Goal, GoalAfter, GoalId, GoalPriority, GoalState, InvalidGoal } from './goal.ts';
import {
  CHAT_TEXT_MAX,
  CLIENT_NAME_MAX,
  CLIENT_VERSION_MAX,
  GOAL_NOTE_MAX,
  GOAL_SPEC_MAX,
  GOAL_TITLE_MAX,
  maxUnits,
  NAME_MAX,
  RESEARCH_QUESTION_MAX,
  RESEARCH_QUESTIONS_MAX,
} from './limits.ts';
import { ClientInfo, ClientSettings, EventEnvelope, LogEntry } from './events.ts';
import { ChatMessage, ChatState, ModelInfo, ProviderSettings } from './chat.ts';
import { ProgressUnit, ResearchRun } from './research.ts';
import { ANSWER_MAX, InvalidQuestion, Question, QuestionId } from './inbox.ts';
import { LandingState } from './landing.ts';
import { PipelineStatus, SpendStatus } from './budget.ts';
import { QueueStatus } from './queue.ts';

function defineMethod<const M extends string, P extends z.ZodType, R extends z.ZodType>(method: M, params: P, result: R) {
  return { method, params, result };
}

export const RepoInfo = z.object({
  root: z.string(),
  name: z.string(),
  branch: z.string().nullable(),
});
export type RepoInfo = z.infer<typeof RepoInfo>;

export const DaemonInfo = z.object({
  version: z.string(),
  protocolVersion: z.int(),
  pid: z.int(),
  /** Changes every time a daemon starts: a `seq` means something only within one epoch. */
  epoch: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
});
export type DaemonInfo = z.infer<typeof DaemonInfo>;

/** Everything a client needs to draw the current state; `seq` is the last event it includes. */
export const Snapshot = z.object({
  seq: z.int().nonnegative(),
  repo: RepoInfo,
  daemon: DaemonInfo,
  goals: z.array(Goal),
  invalid: z.array(InvalidGoal),
  clients: z.array(ClientInfo),
  chat: ChatState,
  /** Long work in progress now (research agents, goal iterations): a terminal attached late draws the same bars. */
  progress: z.array(ProgressUnit),
  pipeline: PipelineStatus,
  /** Spend today and this month against the config's budget (`spend.changed` brings changes). */
  spend: SpendStatus.optional(),
  /** What the config says clients use (key bindings, the chat's model, the iteration limit); `config.changed` brings changes. */
  settings: ClientSettings,
  /** The open questions, oldest first: a terminal attached late shows the same inbox. */
  questions: z.array(Question).default([]),
  /** The landing queue and each done goal's landability (`landing.changed` brings changes). */
  landing: LandingState.optional(),
  /** The queue goals run through on workers, with `executor.backend: 'queue'` only (`queue.changed` brings changes). */
  queue: QueueStatus.optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** One agent backend that can run a goal's iterations, as `agents.list` finds it on this machine. */
export const AgentInfo = z.object({
  /** Its name in the config, a goal's `agent` and `--agent`: `ralph`, `claude`, `codex` … */
  name: z.string(),
  /** Its name for people: `Claude Code`. */
  displayName: z.string(),
  /** Whether its executable was found (Ralph's own agent is always there). */
  installed: z.boolean(),
  /** The first line its version command printed; null when it is missing or did not say. */
  version: z.string().nullable(),
  /** The executable found (on PATH or the config's path to it); null when missing, and for Ralph's own agent. */
  path: z.string().nullable(),
  /** How it authenticates, in one line. */
  auth: z.string(),
  /** How to install it; null for Ralph's own agent. */
  install: z.string().nullable(),
  /** Why it is not usable as found (not installed, its version command failed), in one line; null when it is. */
  problem: z.string().nullable(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

export const Capability = z.enum(['goals', 'logs', 'repo-watch', 'chat', 'research', 'executor']);
export type Capability = z.infer<typeof Capability>;

const Empty = z.object({}).default({});
const ById = z.object({ id: GoalId });
const Transitioned = z.object({ id: GoalId, note: maxUnits(z.string(), GOAL_NOTE_MAX).optional() });
/** A name the daemon gave out (a chat session, a message, a research run or agent) and a client passes back. */
const Name = maxUnits(z.string(), NAME_MAX);
const OneGoal = z.object({ goal: Goal });

export const Methods = {
  /** The first exchange. With `resumeFrom`, the daemon answers with the events missed since then, or a snapshot when they are no longer kept. */
  initialize: defineMethod(
    'initialize',
    z.object({
      protocolVersion: z.int(),
      client: z.object({
        name: maxUnits(z.string().min(1), CLIENT_NAME_MAX),
        version: maxUnits(z.string(), CLIENT_VERSION_MAX).optional(),
      }),
      resumeFrom: z.object({ epoch: Name, seq: z.int().nonnegative() }).optional(),
    }),
    z.object({
      protocolVersion: z.int(),
      daemon: DaemonInfo,
      capabilities: z.array(Capability),
      clientId: z.string(),
      sync: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('snapshot'), snapshot: Snapshot }),
        z.object({ kind: z.literal('resume'), events: z.array(EventEnvelope) }),
      ]),
    }),
  ),
  'daemon.status': defineMethod(
    'daemon.status',
    Empty,
    z.object({
      daemon: DaemonInfo,
      url: z.string(),
      repo: RepoInfo,
      clients: z.array(ClientInfo),
      goals: z.record(GoalState, z.int().nonnegative()),
      invalidGoals: z.int().nonnegative(),
      seq: z.int().nonnegative(),
      pipeline: PipelineStatus.optional(),
      spend: SpendStatus.optional(),
      /** The queue goals run through on workers (`executor.backend: 'queue'`): its URL, password hidden, whether it answers, the running goals' workers. */
      queue: QueueStatus.optional(),
    }),
  ),
  'daemon.shutdown': defineMethod('daemon.shutdown', Empty, z.object({ stopping: z.literal(true) })),
  'goal.list': defineMethod(
    'goal.list',
    z.object({ state: GoalState.optional() }).default({}),
    z.object({ goals: z.array(Goal), invalid: z.array(InvalidGoal) }),
  ),
  'goal.get': defineMethod('goal.get', ById, OneGoal),
  'goal.create': defineMethod(
    'goal.create',
    z.object({
      title: maxUnits(z.string().trim().min(1), GOAL_TITLE_MAX),
      spec: maxUnits(z.string(), GOAL_SPEC_MAX).optional(),
      queue: z.boolean().optional(),
      links: Goal.shape.links,
      /** The agent backend that runs it; absent: the config's `executor.agent`. */
      agent: AgentName.optional(),
      /** Goals it comes after (started once each has landed): each must exist and not be cancelled. */
      after: GoalAfter.optional(),
      /** Higher starts first (-100 … 100); absent: 0. */
      priority: GoalPriority.optional(),
    }),
    OneGoal,
  ),
  /** Edits a goal's title, spec, agent backend, `after` or priority; refused while it runs or once it is final. */
  'goal.update': defineMethod(
    'goal.update',
    z.object({
      id: GoalId,
      title: maxUnits(z.string().trim().min(1), GOAL_TITLE_MAX).optional(),
      spec: maxUnits(z.string(), GOAL_SPEC_MAX).optional(),
      /** Another agent backend; null: none of its own again (the config's `executor.agent`). */
      agent: AgentName.nullable().optional(),
      /** The goals it comes after, instead of those it has ([]: none); a cycle is refused. */
      after: GoalAfter.optional(),
      /** Another priority; null: the default (0) again. */
      priority: GoalPriority.nullable().optional(),
    }),
    OneGoal,
  ),
  'goal.queue': defineMethod('goal.queue', Transitioned, OneGoal),
  'goal.pause': defineMethod('goal.pause', Transitioned, OneGoal),
  'goal.cancel': defineMethod('goal.cancel', Transitioned, OneGoal),
  'goal.retry': defineMethod('goal.retry', Transitioned, OneGoal),
  /**
   * A page of a goal's log: entries with index ≥ `from` (default 0), at most `limit`; or, with `tail`,
   * the last `tail` entries (they start at `next − entries.length`, and `next` is then `total`: reading
   * on from `next` continues where the tail ends).
   */
  'logs.read': defineMethod(
    'logs.read',
    z
      .object({
        id: GoalId,
        from: z.int().nonnegative().optional(),
        limit: z.int().positive().max(10_000).optional(),
        tail: z.int().positive().max(10_000).optional(),
      })
      .refine((params) => params.tail === undefined || (params.from === undefined && params.limit === undefined), {
        message: 'tail reads the last entries: it cannot be combined with from or limit',
        path: ['tail'],
      }),
    z.object({ entries: z.array(LogEntry), next: z.int().nonnegative(), total: z.int().nonnegative() }),
  ),
  /** Sends a message to the shared chat; the reply streams to every client as chat.* events. */
  'chat.send': defineMethod(
    'chat.send',
    z.object({ text: maxUnits(z.string().trim().min(1), CHAT_TEXT_MAX), session: Name.optional() }),
    z.object({
      session: z.string(),
      userMessageId: z.string(),
      replyMessageId: z.string(),
      /** How many turns are ahead of this one. */
      position: z.int().nonnegative(),
    }),
  ),
  'chat.history': defineMethod(
    'chat.history',
    z.object({ session: Name.optional(), before: Name.optional(), limit: z.int().positive().max(1000).optional() }).default({}),
    z.object({ session: z.string(), messages: z.array(ChatMessage), more: z.boolean() }),
  ),
  /** Starts a new session and makes it current for every client. */
  'chat.new': defineMethod('chat.new', Empty, z.object({ session: z.string() })),
  /**
   * Interrupts the turn streaming now (Esc in the TUI); queued turns go on. With `messageId`, only that
   * reply's turn, streaming or still queued (Ctrl+C in `ralph chat` must not stop another client's turn).
   */
  'chat.interrupt': defineMethod(
    'chat.interrupt',
    z.object({ session: Name.optional(), messageId: Name.optional() }).default({}),
    z.object({ interrupted: z.boolean() }),
  ),
  /** Starts a research run: one agent per question, in parallel; progress comes as progress.* events. */
  'research.start': defineMethod(
    'research.start',
    z.object({
      questions: z
        .array(maxUnits(z.string().trim().min(1), RESEARCH_QUESTION_MAX))
        .min(1)
        .max(RESEARCH_QUESTIONS_MAX),
      session: Name.optional(),
      /** Write the consolidated report with one model call once the agents have ended (default true); the chat agent writes its own. */
      consolidate: z.boolean().optional(),
    }),
    z.object({ run: ResearchRun }),
  ),
  /** Cancels a whole run, or one agent of it. */
  'research.cancel': defineMethod('research.cancel', z.object({ runId: Name, agentId: Name.optional() }), z.object({ run: ResearchRun })),
  'research.get': defineMethod('research.get', z.object({ runId: Name }), z.object({ run: ResearchRun })),
  'research.list': defineMethod(
    'research.list',
    z.object({ limit: z.int().positive().max(200).optional() }).default({}),
    z.object({ runs: z.array(ResearchRun) }),
  ),
  /**
   * Lands a done goal: it joins the landing queue and, at its turn, is rebased onto the current
   * branch, checked, and made one commit `Goal #<id>: <title>`; answered once it has landed (or was refused).
   */
  'goal.land': defineMethod('goal.land', ById, z.object({ goal: Goal, commit: z.string(), files: z.array(z.string()) })),
  /** The landing queue, in order, and each done goal's landability. */
  'land.status': defineMethod('land.status', Empty, LandingState),
  'pipeline.pause': defineMethod('pipeline.pause', Empty, z.object({ paused: z.boolean() })),
  'pipeline.resume': defineMethod('pipeline.resume', Empty, z.object({ paused: z.boolean() })),
  'models.list': defineMethod('models.list', Empty, z.object({ models: z.array(ModelInfo), provider: ProviderSettings })),
  /**
   * The agent backends, each as found on the daemon's machine (installed, version, how it
   * authenticates), and the one a goal without its own `agent` runs with (the config's
   * `executor.agent`). Looking costs a version command per CLI, so answers are cached a few seconds;
   * `refresh` looks again now.
   */
  'agents.list': defineMethod(
    'agents.list',
    z.object({ refresh: z.boolean().optional() }).default({}),
    z.object({ agents: z.array(AgentInfo), default: z.string() }),
  ),
  /** The questions agents asked, oldest first: the open ones, or with `all` the answered ones too; and question files that are not read. */
  'inbox.list': defineMethod(
    'inbox.list',
    z.object({ all: z.boolean().optional() }).default({}),
    z.object({ questions: z.array(Question), invalid: z.array(InvalidQuestion) }),
  ),
  /** Answers a question; the first answer wins (a second is a Conflict error saying who answered it and when). */
  'inbox.answer': defineMethod(
    'inbox.answer',
    z.object({ id: QuestionId, text: maxUnits(z.string().trim().min(1), ANSWER_MAX) }),
    z.object({ question: Question }),
  ),
} as const;

export type MethodName = keyof typeof Methods;
export const METHOD_NAMES = Object.keys(Methods) as MethodName[];
export type ParamsOf<M extends MethodName> = z.input<(typeof Methods)[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<(typeof Methods)[M]['result']>;
