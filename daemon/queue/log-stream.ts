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
 *
 * Every message is hostile until validated (wire.ts): one that is not what a worker writes becomes a
 * warning line carrying its stream id (so the cursor moves past it, and a restart does not warn
 * twice) and is skipped. An `end` is believed only once the daemon has ended the attempt.
 *
 * The stream goes once it is relayed: a follower that stops after the attempt is over deletes it
 * if its last entry is still the last one relayed (atomically: a worker's entry added meanwhile
 * keeps it for the next follower). A daemon killed in between leaves an ended stream, which
 * `dropRelayedStream` deletes at the next start once the log holds each of its lines.
 */
import type { Redis } from 'ioredis';
import type { EventData } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { GoalLog, NewLogEntry } from '../store/goal-log.ts';
import type { TurnResult } from './turns.ts';
import { describeRejected, parseStreamMessage, type StreamMessage, type WorkerEvent } from './wire.ts';

/** One message of a goal's stream (its JSON is the stream entry's `m` field; wire.ts validates it). */
export type { StreamMessage };

/** Stream entries read at a time. */
const READ_COUNT = 500;
/** How long one XREAD waits for new entries before the follower checks whether it should stop. */
const BLOCK_MS = 1000;
/**
 * Refused entries a follower writes a warning for; past it, one line says so and the rest are
 * skipped silently (a flood of junk must not fill the goal's log). A restarted follower may warn
 * for some of those again: it never writes a line for an entry it warned of.
 */
export const REFUSED_WARNINGS_MAX = 100;

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

  event<T extends WorkerEvent>(name: T, data: EventData<T>): Promise<void> {
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
  /**
   * Each valid turn answer and spend report, once the entries before it are in the log. A reason
   * returned (the message is not one the daemon asked for) is written as a warning: it is skipped.
   */
  onMessage?: (message: TurnResult) => string | undefined | Promise<string | undefined>;
  /** Whether the daemon has ended the attempt: an `end` before that is refused. Default: always. */
  attemptOver?: () => boolean;
}

/** The daemon's side: relays one goal's stream into its log and onto the bus until the `end` message or `stop`. */
export class LogStreamFollower {
  /** Resolves when the follower has stopped (the end message, or stop); rejects on an error it cannot get past. */
  readonly finished: Promise<void>;
  private readonly options: LogStreamFollowerOptions;
  private stopped = false;
  /** The last stream id relayed (into the log, for entries and warnings). */
  private cursor = '0';
  private ended = false;
  private refused = 0;
  private windDown: NodeJS.Timeout | undefined;

  constructor(options: LogStreamFollowerOptions) {
    this.options = options;
    this.finished = this.follow();
  }

  /** Whether the worker's end message was relayed. */
  get reachedEnd(): boolean {
    return this.ended;
  }

  /** Whether it has stopped following (the end relayed, or stopped): a goal that runs again needs another. */
  get over(): boolean {
    return this.stopped || this.ended;
  }

  /** Stops after the read in flight (at most a second). */
  stop(): Promise<void> {
    clearTimeout(this.windDown);
    this.windDown = undefined;
    this.stopped = true;
    return this.finished;
  }

  /** The attempt is over: follows on until the worker's `end` is relayed, or for `graceMs` at most. */
  stopAfter(graceMs: number): void {
    if (this.stopped || this.windDown) return;
    this.windDown = setTimeout(() => void this.stop(), graceMs);
    this.windDown.unref();
  }

  /** The goal runs again: a wind-down begun at the end of its last attempt is called off. */
  keepGoing(): void {
    clearTimeout(this.windDown);
    this.windDown = undefined;
  }

  private async follow(): Promise<void> {
    this.cursor = await lastRelayedId(this.options.log, this.options.goalId);
    while (!this.stopped && !this.ended) {
      const batch = await this.read();
      for (const [id, fields] of batch) {
        if (this.ended) break;
        await this.relay(id, fields);
      }
    }
    clearTimeout(this.windDown);
    // Everything the stream holds is relayed and the attempt is over: it goes (kept if a worker added to it meanwhile).
    if (this.ended || this.options.attemptOver?.() === true) {
      await dropStreamAt(this.options.redis, this.options.key, this.cursor).catch(() => undefined);
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
    // Fields come in pairs; only a field name counts, never a value that happens to read `m`.
    const at = fields.findIndex((field, index) => index % 2 === 0 && field === 'm');
    const json = at >= 0 ? fields[at + 1] : undefined;
    const parsed = parseStreamMessage(json, goalId);
    if (!parsed.ok) return this.refuse(id, parsed.reason, json);
    const message = parsed.value;
    if (message.type === 'log') {
      // The name the worker gave its entry, else the follower's; the stream id is the relay's.
      await log.append(goalId, { worker, ...message.entry, streamId: id });
    } else if (message.type === 'event') {
      // Validated against the protocol's schema for a worker's event of this goal; the bus redacts it.
      bus.publish(message.name, message.data as EventData<typeof message.name>);
    } else if (message.type === 'end') {
      if (this.options.attemptOver?.() === false) return this.refuse(id, 'an end while the attempt goes on', json);
      this.ended = true;
    } else {
      const refused = await this.options.onMessage?.(message);
      if (refused) return this.refuse(id, refused, json);
    }
    this.cursor = id;
  }

  /** A message that is not what a worker writes: one warning line, with its stream id (the cursor), and it is skipped. */
  private async refuse(id: string, reason: string, json: string | undefined): Promise<void> {
    this.refused++;
    if (this.refused <= REFUSED_WARNINGS_MAX) {
      await this.options.log.append(this.options.goalId, {
        kind: 'warning',
        text: describeRejected(id, reason, json),
        streamId: id,
        refused: true,
      });
    } else if (this.refused === REFUSED_WARNINGS_MAX + 1) {
      await this.options.log.append(this.options.goalId, {
        kind: 'warning',
        text: `stream entry ${id} skipped, and the ones refused after it with no warning: more than ${REFUSED_WARNINGS_MAX} refused`,
        streamId: id,
        refused: true,
      });
    }
    this.cursor = id;
  }
}

/** Deletes a goal's stream if its last entry is `lastId` (nothing after what was relayed), in one step on the server. */
const DROP_IF_LAST = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last and last[1] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

async function dropStreamAt(redis: Redis, key: string, lastId: string): Promise<boolean> {
  if (lastId === '0') return false;
  return Number(await redis.eval(DROP_IF_LAST, 1, key, lastId)) === 1;
}

/**
 * A stream a daemon killed before deleting it: deleted when its last message is the worker's
 * `end` and the goal's log holds every line before it. True when it went.
 */
export async function dropRelayedStream(redis: Redis, key: string, log: GoalLog, goalId: number): Promise<boolean> {
  const tail = (await redis.xrevrange(key, '+', '-', 'COUNT', READ_COUNT)) as [string, string[]][];
  const [last] = tail;
  if (!last) return false;
  const isEnd = (entry: [string, string[]]): boolean => {
    const parsed = parseStreamMessage(entry[1][entry[1].indexOf('m') + 1], goalId);
    return parsed.ok && parsed.value.type === 'end';
  };
  if (!isEnd(last)) return false;
  const relayed = await lastRelayedId(log, goalId);
  // The last line before the end (within the page read; further back is before it) must be in the log.
  const lastLine = tail.find(([, fields]) => {
    const parsed = parseStreamMessage(fields[fields.indexOf('m') + 1], goalId);
    return !parsed.ok || parsed.value.type === 'log';
  });
  if (lastLine && compareStreamIds(lastLine[0], relayed) > 0) return false;
  return dropStreamAt(redis, key, last[0]);
}

/** Orders two stream ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
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
