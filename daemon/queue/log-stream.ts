/**
 * A remote goal's live log: the worker XADDs every log entry and progress event, in order, to the
 * goal's Redis stream; the daemon follows the stream and writes each entry to the goal's log
 * (`.ralph/logs/<id>.jsonl`, broadcast as `log.appended` like a local run's) and publishes each
 * progress event on its bus, with the worker's name.
 *
 * The log file is the cursor. Every relayed entry carries the stream id it came from (`streamId`);
 * a follower starts after the last one the log holds. An entry is in the log before the follower
 * reads past it, so a daemon killed at any point neither loses an entry (the next one starts at the
 * last written) nor writes one twice (the last written is the cursor). Progress events are not
 * kept: those after the last written entry may be shown again after a restart, which is harmless.
 */
import type { Redis } from 'ioredis';
import type { EventData, EventType } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { GoalLog, NewLogEntry } from '../store/goal-log.ts';
import type { TurnResult } from './turns.ts';

/** One message of a goal's stream (its JSON is the stream entry's `m` field). */
export type StreamMessage =
  | { type: 'log'; entry: NewLogEntry }
  | { type: 'event'; name: EventType; data: unknown }
  /** The attempt's worker is done with the stream (whatever the outcome): the follower stops. */
  | { type: 'end' }
  /** A turn's answer or spend (turns.ts): handed to the follower's `onMessage`. */
  | TurnResult;

/** Stream entries read at a time. */
const READ_COUNT = 500;
/** How long one XREAD waits for new entries before the follower checks whether it should stop. */
const BLOCK_MS = 1000;

/** The worker's side: appends messages to one goal's stream, in the order they are written. */
export class LogStreamWriter {
  private readonly redis: Redis;
  private readonly key: string;
  /** Writes are chained so they reach Redis in order even when a caller does not wait. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(redis: Redis, key: string) {
    this.redis = redis;
    this.key = key;
  }

  /** Appends a log entry; resolves once Redis holds it. */
  log(entry: NewLogEntry): Promise<void> {
    return this.add({ type: 'log', entry });
  }

  event<T extends EventType>(name: T, data: EventData<T>): Promise<void> {
    return this.add({ type: 'event', name, data });
  }

  end(): Promise<void> {
    return this.add({ type: 'end' });
  }

  message(message: TurnResult): Promise<void> {
    return this.add(message);
  }

  /** Appends a turn's answer and marks the turn answered, in one transaction: both or neither. */
  answer(message: TurnResult, answeredKey: string, number: number): Promise<void> {
    return this.add(message, (json) => this.redis.multi().xadd(this.key, '*', 'm', json).set(answeredKey, String(number)).exec());
  }

  private add(
    message: StreamMessage,
    write = (json: string): Promise<unknown> => this.redis.xadd(this.key, '*', 'm', json),
  ): Promise<void> {
    const json = JSON.stringify(message);
    const added = this.last.then(() => write(json));
    this.last = added.catch(() => undefined);
    return added.then(() => undefined);
  }
}

export interface LogStreamFollowerOptions {
  /** A connection of the follower's own: XREAD BLOCK holds it. */
  redis: Redis;
  key: string;
  goalId: number;
  log: GoalLog;
  bus: EventBus;
  /** The worker's name, on every relayed entry that does not carry its own. */
  worker: string;
  /** Each turn answer and spend report, once the entries before it are in the log. */
  onMessage?: (message: TurnResult) => void;
}

/** The daemon's side: relays one goal's stream into its log and onto the bus until the `end` message or `stop`. */
export class LogStreamFollower {
  /** Resolves when the follower has stopped (the end message, or stop); rejects on an error it cannot get past. */
  readonly finished: Promise<void>;
  private readonly options: LogStreamFollowerOptions;
  private stopped = false;
  /** The last stream id relayed (into the log, for entries). */
  private cursor = '0';
  private ended = false;

  constructor(options: LogStreamFollowerOptions) {
    this.options = options;
    this.finished = this.follow();
  }

  /** Whether the worker's end message was relayed. */
  get reachedEnd(): boolean {
    return this.ended;
  }

  /** Stops after the read in flight (at most a second). */
  stop(): Promise<void> {
    this.stopped = true;
    return this.finished;
  }

  private async follow(): Promise<void> {
    this.cursor = await lastRelayedId(this.options.log, this.options.goalId);
    while (!this.stopped && !this.ended) {
      const batch = await this.read();
      for (const [id, fields] of batch) await this.relay(id, fields);
    }
  }

  /** The next entries after the cursor; none after BLOCK_MS, or while Redis cannot be reached (it retries by itself). */
  private async read(): Promise<[string, string[]][]> {
    const { redis, key } = this.options;
    try {
      const result = await redis.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', key, this.cursor);
      return result?.[0]?.[1] ?? [];
    } catch {
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 200));
      return [];
    }
  }

  private async relay(id: string, fields: string[]): Promise<void> {
    const { log, bus, goalId, worker } = this.options;
    const json = fields[fields.indexOf('m') + 1];
    let message: StreamMessage | null = null;
    try {
      message = json === undefined ? null : (JSON.parse(json) as StreamMessage);
    } catch {
      message = null;
    }
    if (message?.type === 'log') {
      // The name the worker gave its entry, else the follower's; the stream id is the relay's.
      await log.append(goalId, { worker, ...message.entry, streamId: id });
    } else if (message?.type === 'event') {
      // The worker wrote it with the protocol's types (LogStreamWriter.event); the bus redacts it.
      bus.publish(message.name, message.data as EventData<typeof message.name>);
    } else if (message?.type === 'end') {
      this.ended = true;
    } else if (message?.type === 'turn' || message?.type === 'spend') {
      this.options.onMessage?.(message);
    }
    this.cursor = id;
  }
}

/** Entries looked at per page when searching the log backwards for the last relayed one. */
const SCAN_PAGE = 200;

/** The stream id of the last relayed entry in a goal's log, or `0` (the stream's start) when it holds none. */
export async function lastRelayedId(log: GoalLog, goalId: number): Promise<string> {
  let end = (await log.read(goalId, { tail: 1 })).total;
  while (end > 0) {
    const from = Math.max(0, end - SCAN_PAGE);
    const page = await log.read(goalId, { from, limit: end - from });
    for (let i = page.entries.length - 1; i >= 0; i--) {
      const streamId = page.entries[i]?.streamId;
      if (typeof streamId === 'string') return streamId;
    }
    end = from;
  }
  return '0';
}
