/**
 * Every event the daemon pushes, defined once with its schema. The union type and the
 * validation of incoming events derive from `Events`; add an event by adding a row.
 *
 * On the wire an event is the JSON-RPC notification `{"method": "event", "params": EventEnvelope}`.
 */
import { z } from 'zod';
import { Goal, GoalId, InvalidGoal, Transition } from './goal.ts';
import { RequestId } from './jsonrpc.ts';
import { boundedJson, FREE_JSON_BOUNDS, maxUnits } from './limits.ts';
import { ChatMessage, ChatPart, ProviderSettings } from './chat.ts';
import { ResearchRun } from './research.ts';
import { Question } from './inbox.ts';
import { LandingState } from './landing.ts';
import { PipelineStatus, SpendStatus } from './budget.ts';
import { QueueStatus } from './queue.ts';

export const EVENT_METHOD = 'event';

function defineEvent<const T extends string, D extends z.ZodType>(type: T, data: D) {
  return { type, data };
}

export const ClientInfo = z.object({
  id: z.string(),
  name: z.string(),
  connectedAt: z.iso.datetime({ offset: true }),
});
export type ClientInfo = z.infer<typeof ClientInfo>;

/** One line of a goal's log. Loose (kinds carry their own fields), so held to FREE_JSON_BOUNDS as a whole. */
export const LogEntry = boundedJson(
  z.looseObject({
    goalId: GoalId,
    /** Position of the entry in the goal's log, from 0: what `logs.read` pages by. */
    index: z.int().nonnegative(),
    time: z.iso.datetime({ offset: true }),
    kind: z.string().min(1),
    text: z.string(),
  }),
  FREE_JSON_BOUNDS,
);
export type LogEntry = z.infer<typeof LogEntry>;

/**
 * What clients take from ralph.config.ts (the environment's overrides applied): in the snapshot and
 * with every `config.changed`, so a reload reaches every attached terminal.
 */
export const ClientSettings = z.object({
  /** The chat's model: `chat.model`, else `model` (RALPH_MODEL overrides both). */
  chatModel: z.string(),
  /** `tui.keys`: action → key spec, as written (the TUI validates them: a bad one is a notice there). */
  tuiKeys: z.record(z.string(), z.string()),
  /** `executor.maxIterations`: loop iterations per attempt (the TUI shows "it k/max"). */
  maxIterations: z.int().positive(),
});
export type ClientSettings = z.infer<typeof ClientSettings>;

/** The name the TUI gives itself in `initialize`: the daemon tells attached terminals apart from scripts by it. */
export const TUI_CLIENT_NAME = 'tui';

/** What a notification is about: a goal done, stuck, waiting for an answer or landed, or a budget that stopped work. */
export const NOTIFICATION_KINDS = ['done', 'stuck', 'waiting', 'landed', 'budget'] as const;
export const NotificationKind = z.enum(NOTIFICATION_KINDS);
export type NotificationKind = z.infer<typeof NotificationKind>;

/** A notification's title and body at most, in UTF-16 units (the daemon clips them: a desktop notification is short). */
export const NOTIFICATION_TITLE_MAX = 200;
export const NOTIFICATION_BODY_MAX = 1000;

/** Something a person should hear about now, as the daemon raises it (daemon/notify/). */
export const Notification = z.object({
  kind: NotificationKind,
  goalId: GoalId.optional(),
  /** One line, such as `#3 done: Fix the parser` (the goal's title is untrusted: a terminal cleans it before writing it). */
  title: maxUnits(z.string(), NOTIFICATION_TITLE_MAX),
  body: maxUnits(z.string(), NOTIFICATION_BODY_MAX),
  /** The config's `notify.bell` and `notify.desktop`: whether an attached terminal rings, and shows a desktop notification. */
  bell: z.boolean(),
  desktop: z.boolean(),
});
export type Notification = z.infer<typeof Notification>;

export const Events = {
  'goal.created': defineEvent('goal.created', z.object({ goal: Goal })),
  /** The whole goal as it is now, with the transition that caused the change where there was one. */
  'goal.updated': defineEvent(
    'goal.updated',
    z.object({ goal: Goal, transition: Transition.optional(), source: z.enum(['daemon', 'file']) }),
  ),
  'goal.removed': defineEvent('goal.removed', z.object({ id: GoalId })),
  'goal.invalid': defineEvent('goal.invalid', InvalidGoal),
  'clients.changed': defineEvent('clients.changed', z.object({ clients: z.array(ClientInfo) })),
  /** Files the developer changed beside the editor, batched and debounced. Paths are repo-relative. */
  'repo.changed': defineEvent(
    'repo.changed',
    z.object({ paths: z.array(z.string()), omitted: z.int().nonnegative(), branch: z.string().nullable() }),
  ),
  'log.appended': defineEvent('log.appended', z.object({ goalId: GoalId, entries: z.array(LogEntry) })),
  /** Long work: begin / report / end, one token per unit (a research agent, a goal iteration). */
  'progress.begin': defineEvent(
    'progress.begin',
    z.object({
      token: z.string(),
      kind: z.string(),
      title: z.string(),
      total: z.int().positive().optional(),
      /** The unit this one belongs to (a research agent's run token). */
      parent: z.string().optional(),
    }),
  ),
  /** Only what changed; a client keeps the rest from earlier reports. */
  'progress.report': defineEvent(
    'progress.report',
    z.object({
      token: z.string(),
      message: z.string().optional(),
      done: z.int().nonnegative().optional(),
      total: z.int().positive().optional(),
      tokens: z.int().nonnegative().optional(),
      costUsd: z.number().nonnegative().nullable().optional(),
    }),
  ),
  'progress.end': defineEvent(
    'progress.end',
    z.object({ token: z.string(), outcome: z.enum(['done', 'failed', 'cancelled']), message: z.string().optional() }),
  ),
  /** A new message in a chat session: a user's, or a reply that is queued or starting. */
  'chat.message': defineEvent('chat.message', z.object({ message: ChatMessage })),
  /** Text appended to a text part of a message (the part is created by its first delta). */
  'chat.delta': defineEvent('chat.delta', z.object({ session: z.string(), messageId: z.string(), partId: z.string(), delta: z.string() })),
  /** A part added or changed (a tool call starting or ending). */
  'chat.part': defineEvent('chat.part', z.object({ session: z.string(), messageId: z.string(), part: ChatPart })),
  /** A message in its final form (status done, error or interrupted), with usage and cost. */
  'chat.message.done': defineEvent('chat.message.done', z.object({ message: ChatMessage })),
  /** Another session became the current one (`/new`). */
  'chat.session': defineEvent('chat.session', z.object({ session: z.string() })),
  /** A model call is waiting before its next try: "waiting 20 s: rate limited". */
  'provider.wait': defineEvent(
    'provider.wait',
    z.object({
      scope: z.object({ session: z.string().optional(), goalId: GoalId.optional(), agent: z.string().optional() }),
      reason: z.enum(['rate-limit', 'server-error', 'stream-restart']),
      seconds: z.number().nonnegative(),
      attempt: z.int().positive(),
    }),
  ),
  /** ralph.config.ts was reloaded (or failed to): the provider and client settings now in force, and the file's error if it has one. */
  'config.changed': defineEvent(
    'config.changed',
    z.object({ provider: ProviderSettings, settings: ClientSettings, error: z.string().nullable() }),
  ),
  /** A research run started, an agent of it ended, or the run ended (with the consolidated report). */
  'research.updated': defineEvent('research.updated', z.object({ run: ResearchRun })),
  /** The pipeline was paused or resumed (by a person, or held by the budget or the provider's limits), or the set of running goals changed. */
  'pipeline.changed': defineEvent('pipeline.changed', PipelineStatus),
  /** What was spent today and this month changed (after each model call, and when a day or month begins). */
  'spend.changed': defineEvent('spend.changed', SpendStatus),
  /** A spend limit is 80 % used: said once per period to every client. */
  'budget.warning': defineEvent('budget.warning', z.object({ message: z.string(), spend: SpendStatus })),
  /**
   * Something the developer should know about a goal now: `conflict`, they edited a file the goal's
   * branch also changed; `land-refused`, an automatic landing was refused (the goal stays done).
   */
  'goal.warning': defineEvent(
    'goal.warning',
    z.object({ goalId: GoalId, kind: z.enum(['conflict', 'land-refused']), message: z.string(), paths: z.array(z.string()) }),
  ),
  /** The landing queue or a done goal's landability changed (queued, a landing's step, landed, refused, rebased and checked in the background). */
  'landing.changed': defineEvent('landing.changed', LandingState),
  /**
   * The queue goals run through on workers (`executor.backend: 'queue'`) stopped or started answering,
   * or a running remote goal's worker changed (another took over): the whole status as it is now.
   */
  'queue.changed': defineEvent('queue.changed', QueueStatus),
  /** An agent asked a person something: the question is in the inbox until someone answers it. */
  'question.asked': defineEvent('question.asked', z.object({ question: Question })),
  /** A question was answered (the first answer; later ones are refused). */
  'question.answered': defineEvent('question.answered', z.object({ question: Question })),
  /** A question was withdrawn unanswered: its asker no longer waits (its goal was cancelled). */
  'question.withdrawn': defineEvent('question.withdrawn', z.object({ question: Question })),
  /** A goal became done, stuck or waiting, or landed, or a budget stopped work: every attached terminal alerts its user. */
  notification: defineEvent('notification', Notification),
  'daemon.stopping': defineEvent('daemon.stopping', z.object({ reason: z.string() })),
} as const;

export type EventType = keyof typeof Events;
export const EVENT_TYPES = Object.keys(Events) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof Events)[T]['data']>;

/** The union of every event, discriminated by `type`. */
export type RalphEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/** What travels: the event plus its place in the daemon's single ordered stream. */
export type EventEnvelope = RalphEvent & {
  seq: number;
  time: string;
  /** The request that caused the event, when one did (ids are per connection, so with the client id). */
  cause?: { client: string; request: RequestId };
};

const EnvelopeHead = z.object({
  seq: z.int().nonnegative(),
  time: z.iso.datetime({ offset: true }),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  // Not bounded here: the event's own schema, whose free-form parts are bounded, validates it next.
  data: z.unknown(),
  cause: z.object({ client: z.string(), request: RequestId }).optional(),
});

/** Validates an incoming envelope: its head, then its data against that event's schema. */
export const EventEnvelope = EnvelopeHead.transform((head, ctx) => {
  const parsed = Events[head.type].data.safeParse(head.data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['data', ...issue.path] });
    return z.NEVER;
  }
  return { ...head, data: parsed.data } as EventEnvelope;
});
