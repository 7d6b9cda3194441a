/**
 * Wording the daemon and its clients share: text and errors on one line, durations in seconds, a
 * model call's wait. Here once, so a log line, an RPC error, the TUI and the command line say
 * things the same way.
 */
// Light on purpose (no zod, types only from the schemas): the command line loads it before anything else.
import type { EventData } from './events.ts';

/** C0 and C1 controls (ESC, CSI, BEL, CR, newlines, tabs…) and DEL. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` cut to at most `max` UTF-16 code units, never between the two halves of a surrogate pair. */
export function clipUnits(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Text on one line: controls (line breaks among them) become spaces, then runs of spaces one. */
export function oneLine(text: string): string {
  return text.replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
}

/** Text up to its first line break (all of it when it has none). */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** What was thrown, as text: an Error's message, anything else as it prints. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What was thrown, for a log line or a one-line answer: its message's first line (the rest is
 * detail, a stack or a command's output), trimmed, at most `max` UTF-16 units; never empty.
 */
export function errorLine(error: unknown, max = 500): string {
  return clipUnits(firstLine(messageOf(error)).trim(), max) || 'unknown error';
}

/** "1 goal", "3 goals", "2 replies" (with the plural given). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A duration for people: tenths below ten seconds ("0.2 s", "9.5 s"), whole seconds from there ("12 s", "300 s"). */
export function formatSeconds(seconds: number): string {
  return seconds < 10 ? `${Number(seconds.toFixed(1))} s` : `${Math.round(seconds)} s`;
}

/** A size for people: "812 B", "64 KiB", "2.5 MiB" (a tenth where it is not whole). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [size, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${Number(size.toFixed(1))} ${unit}`;
}

/** Why a model call waits before its next try (`provider.wait`), in words. */
export const WAIT_REASONS: Readonly<Record<EventData<'provider.wait'>['reason'], string>> = {
  'rate-limit': 'rate limited',
  'server-error': 'the server had an error',
  'stream-restart': 'restarting the stream',
};

/** A model call's wait, for people: "waiting 2.5 s: rate limited". */
export function describeWait(wait: Pick<EventData<'provider.wait'>, 'seconds' | 'reason'>): string {
  return `waiting ${formatSeconds(wait.seconds)}: ${WAIT_REASONS[wait.reason]}`;
}
