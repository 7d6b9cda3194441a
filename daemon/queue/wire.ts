/**
 * Everything read back from Redis, validated before it is acted on. Anyone who can write to the
 * Redis (a shared one, a compromised worker) can XADD to a goal's stream, set a turn key, publish
 * on a control channel or add a job, so none of it is believed as it comes:
 *
 * - the daemon parses each stream message (`parseStreamMessage`): a log entry with bounded text,
 *   a known kind and no control characters; a progress or wait event a worker may send (allow-list)
 *   of this goal only, with the protocol's data schema; a turn answer or spend report of a strict
 *   shape; `end`. Anything else is named in one warning line (`describeRejected`) and skipped;
 * - a worker parses the job (`parseJobData`: a queue name and a goal id that keep every path
 *   inside its folder, a remote git may fetch from, the goal's own branch), each turn
 *   (`parseTurn`) and each control message (`parseControl`) before using them.
 *
 * What a valid message says is still only as true as the Redis is trusted: a well-formed log line
 * is written as the worker's. Turn answers are checked further by the daemon (queue-executor.ts).
 */
import { z } from 'zod';
import {
  boundedJson,
  CheckResult,
  Events,
  type EventType,
  GOAL_BOUNDS,
  Goal,
  GoalId,
  Iteration,
  type JsonBounds,
  maxUnits,
  ModelInfo,
  Question,
  Usage,
} from '../../protocol/index.ts';
import { RalphConfigSchema } from '../config/schema.ts';
import { ModelApiSchema, ReasoningEffortSchema } from '../config/schema.ts';
import type { NewLogEntry } from '../store/goal-log.ts';
import { remoteBranchOf } from './queue.ts';
import type { Control, GoalJobData, SerializedIterationError, Turn, TurnResult } from './turns.ts';

/** A stream message's JSON at most (UTF-16 units): read no further than this before refusing it. */
export const STREAM_MESSAGE_MAX = 256 * 1024;
/** A relayed log entry's text at most; its other fields together (a command's output tail is 8000) at most RELAYED_ENTRY_BOUNDS. */
export const RELAYED_TEXT_MAX = 16_000;
const RELAYED_ENTRY_BOUNDS: JsonBounds = { maxDepth: 8, maxNodes: 2000, maxStringUnits: 64 * 1024 };
/** A worker's name as an entry carries it. */
export const WORKER_NAME_MAX = 100;
/** How much of a refused message a warning quotes (escaped). */
const EXCERPT_MAX = 80;

/** The kinds a worker's journal writes (journal.ts JournalKind). */
const JOURNAL_KINDS = ['model', 'tool', 'command', 'check', 'commit', 'note', 'decision', 'warning'] as const;

/** C0 and C1 controls and DEL but newline and tab: what could drive a terminal that shows the log. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A worker's log entry: what its journal writes (`worker`, `kind`, `text` and the kind's own fields). */
const RelayedLogEntry = boundedJson(
  z.looseObject({
    kind: z.enum(JOURNAL_KINDS),
    text: maxUnits(z.string(), RELAYED_TEXT_MAX),
    worker: maxUnits(z.string().min(1), WORKER_NAME_MAX).optional(),
  }),
  RELAYED_ENTRY_BOUNDS,
);

/** The events a worker sends (its journal's progress and provider waits), with the protocol's schemas. */
const WORKER_EVENTS = ['progress.begin', 'progress.report', 'progress.end', 'provider.wait'] as const satisfies readonly EventType[];
export type WorkerEvent = (typeof WORKER_EVENTS)[number];

const EVENT_BOUNDS: JsonBounds = { maxDepth: 4, maxNodes: 50, maxStringUnits: 4000 };

const Seq = z.int().positive();
const ShortText = (max: number) => maxUnits(z.string(), max);

const IterationSpend = z.strictObject({ usage: Usage, waitedMs: z.number().nonnegative(), durationMs: z.number().nonnegative() });

const PROVIDER_ERROR_KINDS = ['not-configured', 'auth', 'rate-limit', 'server', 'network', 'bad-request', 'stream-cut', 'aborted'] as const;
const EXTERNAL_ERROR_KINDS = ['auth', 'quota', 'rate-limit'] as const;
const RetryAfter = z.number().nonnegative().optional();

const SerializedError = z.strictObject({
  message: ShortText(4000),
  stopped: z.boolean(),
  spend: IterationSpend,
  cause: z
    .discriminatedUnion('name', [
      z.strictObject({
        name: z.literal('ProviderError'),
        kind: z.enum(PROVIDER_ERROR_KINDS),
        message: ShortText(4000),
        retryAfterSeconds: RetryAfter,
        quota: z.boolean(),
        status: z.int().optional(),
      }),
      z.strictObject({
        name: z.literal('ExternalAgentError'),
        kind: z.enum(EXTERNAL_ERROR_KINDS),
        message: ShortText(4000),
        retryAfterSeconds: RetryAfter,
      }),
      z.strictObject({ name: z.literal('AgentStartError'), kind: z.enum(['missing', 'failed']), message: ShortText(4000) }),
      z.strictObject({ name: z.literal('Error'), message: ShortText(4000) }),
    ])
    .optional(),
}) satisfies z.ZodType<SerializedIterationError>;

/** An iteration's record as a worker reports it: the protocol's Iteration and what runIteration adds, bounded as a goal file is. */
const IterationRecordSchema = boundedJson(
  Iteration.extend({
    agent: ShortText(100),
    model: ShortText(200),
    durationMs: z.number().nonnegative(),
    waitedMs: z.number().nonnegative(),
    stopReason: z.enum(['answered', 'stopped-by-tool', 'max-steps', 'cut', 'bound', 'timed-out']),
    interrupted: ShortText(4000).optional(),
    asked: z.strictObject({ question: ShortText(4000), options: z.array(ShortText(500)).max(20).optional() }).optional(),
  }),
  { maxDepth: 16, maxNodes: 10_000, maxStringUnits: 256 * 1024 },
);

/** When the worker went through the turn's steps (turns.ts TurnTiming): figures for the benchmark, nothing decided on them. */
const Ms = z.number().nonnegative();
const TurnTiming = z
  .strictObject({ published: Ms.optional(), taken: Ms, synced: Ms.optional(), ran: Ms.optional(), pushed: Ms.optional() })
  .optional();

const TurnResultSchema = z.union([
  z.strictObject({ type: z.literal('turn'), seq: Seq, record: IterationRecordSchema, timing: TurnTiming }),
  z.strictObject({ type: z.literal('turn'), seq: Seq, error: SerializedError, timing: TurnTiming }),
  z.strictObject({
    type: z.literal('spend'),
    seq: Seq,
    spend: z.strictObject({ usage: Usage, waitedMs: z.number().nonnegative() }),
  }),
]);

/** One message of a goal's stream, as the daemon acts on it. */
export type StreamMessage =
  | { type: 'log'; entry: NewLogEntry }
  | { type: 'event'; name: WorkerEvent; data: unknown }
  /** The attempt's worker is done with the stream (whatever the outcome). */
  | { type: 'end' }
  /** A turn's answer or spend (turns.ts). */
  | TurnResult;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A stream entry's `m` field as the daemon may act on it, or why not. `goalId`: the stream's goal (events of another are refused). */
export function parseStreamMessage(json: string | undefined, goalId: number): Parsed<StreamMessage> {
  if (json === undefined) return { ok: false, reason: 'no message field' };
  if (json.length > STREAM_MESSAGE_MAX) return { ok: false, reason: `longer than ${STREAM_MESSAGE_MAX} characters` };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not an object' };
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'log': {
      const entry = RelayedLogEntry.safeParse(message.entry);
      if (!entry.success) return { ok: false, reason: `a log entry ${issueOf(entry.error)}` };
      return { ok: true, value: { type: 'log', entry: withoutControls(entry.data) as NewLogEntry } };
    }
    case 'event': {
      const name = message.name;
      if (!WORKER_EVENTS.includes(name as WorkerEvent))
        return { ok: false, reason: `an event a worker does not send (${excerpt(String(name))})` };
      const event = name as WorkerEvent;
      const data = boundedJson(Events[event].data, EVENT_BOUNDS).safeParse(message.data);
      if (!data.success) return { ok: false, reason: `a ${event} event ${issueOf(data.error)}` };
      if (!ofGoal(event, data.data, goalId)) return { ok: false, reason: `a ${event} event of another goal` };
      return { ok: true, value: { type: 'event', name: event, data: withoutControls(data.data) } };
    }
    case 'end':
      return Object.keys(message).length === 1
        ? { ok: true, value: { type: 'end' } }
        : { ok: false, reason: 'an end message with more in it' };
    case 'turn':
    case 'spend': {
      const result = TurnResultSchema.safeParse(message);
      if (!result.success)
        return { ok: false, reason: `a turn ${message.type === 'spend' ? 'spend report' : 'answer'} ${issueOf(result.error)}` };
      return { ok: true, value: result.data as TurnResult };
    }
    default:
      return { ok: false, reason: `an unknown message type (${excerpt(String(message.type))})` };
  }
}

/** Progress of an iteration of this goal (its token `goal:<id>:…`), a wait of this goal's. */
function ofGoal(event: WorkerEvent, data: unknown, goalId: number): boolean {
  if (event === 'provider.wait') return (data as { scope: { goalId?: number } }).scope.goalId === goalId;
  return (data as { token: string }).token.startsWith(`goal:${goalId}:`);
}

/** The warning line for a refused stream entry: its id, why, and a short escaped excerpt of it. */
export function describeRejected(streamId: string, reason: string, raw: string | undefined): string {
  const quoted = raw === undefined ? '' : `: ${excerpt(raw)}`;
  return `stream entry ${excerpt(streamId)} skipped: ${reason}${quoted}`;
}

/** At most EXCERPT_MAX characters of untrusted text, every control and non-ASCII character escaped (JSON style). */
export function excerpt(text: string): string {
  const head = text.slice(0, EXCERPT_MAX);
  const escaped = JSON.stringify(head)
    .slice(1, -1)
    .replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > EXCERPT_MAX ? `${escaped}… (${text.length} characters)` : escaped;
}

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'of the wrong shape';
  const where = issue.path.length > 0 ? ` at ${excerpt(issue.path.join('.'))}` : '';
  return `of the wrong shape${where}: ${excerpt(issue.message)}`;
}

/** Every string in a JSON value with its control characters (but newline and tab) removed. */
function withoutControls(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(CONTROLS, '');
  if (Array.isArray(value)) return value.map(withoutControls);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replace(CONTROLS, ''), withoutControls(inner)]));
  }
  return value;
}

/** A Ralph queue's name (queue.ts queueNameOf): a path segment that stays one. */
const QUEUE_NAME = /^ralph-[0-9a-f]{12}$/;

/**
 * A remote git may fetch from for a worker: an absolute path, a URL of a transport that runs no
 * command of the job's choosing (ssh, git, http(s), file), or scp-like `user@host:path`; never an
 * option (`-…`), a transport helper (`ext::…`) or text with controls.
 */
export function remoteProblem(remote: string): string | null {
  if (remote.length === 0 || remote.length > 2000) return 'a remote of no or too many characters';
  if (/[\u0000-\u001f\u007f]/.test(remote)) return 'a remote with control characters';
  if (remote.startsWith('-')) return 'a remote that reads as an option';
  if (remote.includes('::')) return 'a remote naming a transport helper';
  if (remote.startsWith('/')) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase();
  if (scheme)
    return ['ssh', 'git', 'http', 'https', 'file', 'git+ssh', 'ssh+git'].includes(scheme) ? null : `a remote of the ${scheme} transport`;
  if (/^[\w.-]+@[\w.-]+:[^/]/.test(remote) || /^[\w.-]+@[\w.-]+:\//.test(remote)) return null;
  return 'a remote that is neither an absolute path, a URL nor user@host:path';
}

const JobDataSchema = z.strictObject({
  queue: z.string().regex(QUEUE_NAME),
  goalId: GoalId,
  title: ShortText(1000),
  attempt: z.int().positive(),
  remote: z.string(),
  branch: z.string(),
});

/** Whether `name` is a Ralph queue's name: a Redis set anyone can add to names no other queue to a worker. */
export function isQueueName(name: string): boolean {
  return QUEUE_NAME.test(name);
}

/** A job's data as a worker may use it (a queue name and goal id that keep its paths in its folder, a safe remote, the goal's branch). */
export function parseJobData(data: unknown): Parsed<GoalJobData> {
  const parsed = JobDataSchema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: `the job's data is ${issueOf(parsed.error)}` };
  const job = parsed.data;
  const problem = remoteProblem(job.remote);
  if (problem) return { ok: false, reason: `the job names ${problem}` };
  if (job.branch !== remoteBranchOf(job.goalId)) return { ok: false, reason: `the job's branch is not ${remoteBranchOf(job.goalId)}` };
  return { ok: true, value: job };
}

const TurnSchema = boundedJson(
  z.strictObject({
    seq: Seq,
    number: z.int().positive(),
    positionInAttempt: z.int().positive(),
    goal: Goal,
    notes: z.array(z.string()),
    lastCheck: z.strictObject({ iteration: z.int().positive(), check: CheckResult }).nullable(),
    retryContext: z.string().nullable(),
    conflictContext: z.string().nullable().optional(),
    worktree: z
      .string()
      .regex(/^[0-9a-f]{40,64}$/)
      .optional(),
    models: z.array(ModelInfo).optional(),
    secrets: z
      .strictObject({ passEnv: z.array(ShortText(200)), hideEnv: z.array(ShortText(200)), readIgnoredFiles: z.boolean() })
      .optional(),
    answers: z.array(Question),
    canAsk: z.boolean(),
    model: ShortText(200),
    api: ModelApiSchema,
    baseURL: z.url({ protocol: /^https?$/ }).nullable(),
    reasoningEffort: ReasoningEffortSchema.optional(),
    executor: z.unknown(),
    base: z
      .string()
      .regex(/^[0-9a-f]{40,64}$/)
      .optional(),
    publishedAt: z.number().nonnegative().optional(),
    stop: ShortText(4000).optional(),
    end: z.boolean().optional(),
  }),
  GOAL_BOUNDS,
);

/**
 * A turn key's value: the attempt's end (`{end: true}`), or a turn of this goal; null when it is
 * not one (a worker waits on, the daemon asks afresh). The executor settings are the config's schema's.
 */
export function parseTurn(json: string | null, goalId: number): Parsed<Turn | { end: true }> | null {
  if (json === null) return null;
  let value: unknown;
  try {
    value = json.length > GOAL_BOUNDS.maxStringUnits ? undefined : JSON.parse(json);
  } catch {
    return { ok: false, reason: 'the turn is not JSON' };
  }
  if (typeof value === 'object' && value !== null && (value as { end?: unknown }).end === true) return { ok: true, value: { end: true } };
  const parsed = TurnSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `the turn is ${issueOf(parsed.error)}` };
  if (parsed.data.goal.id !== goalId) return { ok: false, reason: `the turn is of goal #${parsed.data.goal.id}, not #${goalId}` };
  const config = RalphConfigSchema.safeParse({ executor: parsed.data.executor });
  if (!config.success) return { ok: false, reason: `the turn's executor settings are ${issueOf(config.error)}` };
  return { ok: true, value: { ...parsed.data, executor: config.data.executor } as Turn };
}

const ControlSchema = z.strictObject({ type: z.enum(['stop', 'bound']), reason: ShortText(1000) });

/** A control channel's message, or null when it is not one (ignored). */
export function parseControl(json: string): Control | null {
  if (json.length > 4000) return null;
  try {
    const parsed = ControlSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A control message as the subscriber parsed it, or null when it is not one (ignored). */
export function asControl(value: unknown): Control | null {
  const parsed = ControlSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
