/**
 * The protocol's size limits, and bounded JSON: the one schema helper that bounds the depth and
 * size of free-form values.
 *
 * String limits count UTF-16 code units, everywhere: what `string.length` and `.slice()` count
 * (an emoji is 2, `é` is 1), so a limit checked by a schema, by hand or by the bounds below means the
 * same thing. Not zod's `.max()` on a string, which in the zod this project uses counts code points
 * (an emoji is 1): a schema limits a string with `maxUnits` instead. Only the WebSocket message caps
 * count bytes (the daemon's `maxMessageBytes`, daemon/server/server.ts): they bound a frame as it
 * arrives, before it is text at all; and the resume buffer counts the bytes of the frames it keeps.
 *
 * Free-form values are those whose shape no schema fixes: the extra keys a loose object keeps,
 * `unknown` params and error data. Zod does not look inside them, so without a bound a peer (or
 * a goal file in a hostile repository) could hand the daemon a value nested 100,000 deep —
 * `JSON.stringify` then overflows the stack on every snapshot — or one too large to keep.
 */
import { z } from 'zod';

export const GOAL_TITLE_MAX = 200;
export const GOAL_SPEC_MAX = 200_000;
/** A note given with a goal action (queue, pause, cancel, retry). */
export const GOAL_NOTE_MAX = 2000;
export const CHAT_TEXT_MAX = 100_000;
export const RESEARCH_QUESTION_MAX = 4000;
export const RESEARCH_QUESTIONS_MAX = 16;
export const CLIENT_NAME_MAX = 100;
export const CLIENT_VERSION_MAX = 50;
export const REQUEST_ID_MAX = 128;
/** Names a client passes back to the daemon: chat sessions, message, research run and agent ids, epochs. */
export const NAME_MAX = 256;

/**
 * `schema` (a string schema), limited to `max` UTF-16 code units. Its JSON Schema (what a model's
 * tool is told) says `maxLength: max` all the same.
 */
export function maxUnits<T extends z.ZodString>(schema: T, max: number): T {
  return schema
    .check((payload) => {
      if (payload.value.length > max)
        payload.issues.push({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: payload.value });
    })
    .meta({ maxLength: max });
}

export interface JsonBounds {
  /** How deep arrays and objects may nest: `1` and `"x"` are 0 deep, `[]` and `{}` are 1 deep, `[[]]` 2. */
  maxDepth: number;
  /** How many values in all (every object, array, string, number, boolean and null, the value itself too). */
  maxNodes: number;
  /** UTF-16 code units in all strings and object keys together. */
  maxStringUnits: number;
}

/** Any free-form value: far beyond what a legitimate one needs, far below what could hurt. */
export const FREE_JSON_BOUNDS: JsonBounds = { maxDepth: 32, maxNodes: 100_000, maxStringUnits: 16 * 1024 * 1024 };

/**
 * A whole goal as its file holds it. Its own shape is 7 deep (goal → attempts → attempt → iterations
 * → iteration → check → field); the string units match the store's 16 MiB cap on a goal file.
 */
export const GOAL_BOUNDS: JsonBounds = { maxDepth: 32, maxNodes: 1_000_000, maxStringUnits: 16 * 1024 * 1024 };

/** A goal's `links` (a research run id, a chat session, and whatever a later version adds). */
export const LINKS_BOUNDS: JsonBounds = { maxDepth: 4, maxNodes: 100, maxStringUnits: 8 * 1024 };

/**
 * Why `value` exceeds the bounds, or null when it does not. Iterative (an explicit stack, never
 * recursion, so measuring cannot overflow either) and it stops at the first bound passed, so the
 * work is bounded by the bounds, not by the value.
 */
export function jsonBoundsViolation(value: unknown, bounds: JsonBounds): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let nodes = 0;
  let units = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (++nodes > bounds.maxNodes) return `more than ${bounds.maxNodes} values`;
    if (typeof current === 'string') {
      units += current.length;
      if (units > bounds.maxStringUnits) return `more than ${bounds.maxStringUnits} characters of text`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > bounds.maxDepth) return `nested deeper than ${bounds.maxDepth} levels`;
    if (Array.isArray(current)) {
      // Every value pushed is counted once popped: refused before pushing, a huge array costs nothing.
      if (nodes + stack.length + current.length > bounds.maxNodes) return `more than ${bounds.maxNodes} values`;
      for (let i = 0; i < current.length; i++) stack.push({ value: current[i], depth: depth + 1 });
      continue;
    }
    for (const key in current) {
      if (!Object.hasOwn(current, key)) continue;
      units += key.length;
      if (units > bounds.maxStringUnits) return `more than ${bounds.maxStringUnits} characters of text`;
      if (nodes + stack.length + 1 > bounds.maxNodes) return `more than ${bounds.maxNodes} values`;
      stack.push({ value: (current as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return null;
}

/**
 * `schema`, with the value it accepts also held to `bounds` (the same schema type: `.shape`,
 * `.extend` and the inferred types are unchanged). The bound is checked on the parsed value, after
 * `schema` itself: zod only descends as deep as a schema is written, so it needs no bound of its own.
 */
export function boundedJson<T extends z.ZodType>(schema: T, bounds: JsonBounds): T {
  return schema.check((payload) => {
    const problem = jsonBoundsViolation(payload.value, bounds);
    if (problem) payload.issues.push({ code: 'custom', message: problem, input: payload.value });
  });
}

/** A free-form value (any JSON) within FREE_JSON_BOUNDS. */
export const FreeJson = boundedJson(z.unknown(), FREE_JSON_BOUNDS);
