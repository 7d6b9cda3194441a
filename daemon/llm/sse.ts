/**
 * Server-sent events (the WHATWG "event stream" format) read from a streamed model answer. The
 * provider parses the body itself rather than through the `openai` SDK's stream: the SDK's parser
 * copies whatever is left of a network read for every event in it, so a burst of deltas (a fast
 * server, a read of 64 KB) costs time quadratic in their number. This one does a constant amount
 * of work per byte, whatever the reads look like:
 *
 * - bytes are decoded once per read, keeping a UTF-8 character cut between reads whole;
 * - lines end with LF, CRLF or a lone CR, also when a CRLF is cut between reads;
 * - a line spanning many reads is kept in pieces and joined once, when it ends;
 * - `data:` lines accumulate (joined by LF), `event:` names the event, `:` starts a comment,
 *   other fields (`id`, `retry`) are ignored, a blank line dispatches an event that has data;
 * - an event the stream ends in the middle of is dropped, as the format says (a cut stream then
 *   reads as an incomplete answer, never as a truncated event).
 *
 * Kept over `eventsource-parser` (the maintained npm parser, as linear) because it is as fast or
 * faster on every stream `bench/sse.ts` reads (two runs on a busy 2-core machine, its time ÷ this
 * one's): 20,000 Chat Completions deltas in 64 KB reads 1.38–1.44 (this one 2.7–3.5 M events/s),
 * one event a read 1.06–1.08, 100-byte reads 0.95–1.00; 200 KB events in 16 KB reads 1.03–1.22.
 * It also takes bytes as they come (the library wants text the caller has decoded).
 */

export interface ServerSentEvent {
  /** The `event:` field; null when the event has none (Chat Completions names no events). */
  event: string | null;
  /** The `data:` lines, joined by LF. */
  data: string;
}

const LF = 10;
const CR = 13;
const SPACE = 32;

/** Bytes in, whole events out; feed it every read of one stream, in order. */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** The start of a line whose end has not arrived yet, in pieces: joined once, when it ends. */
  private readonly partialLine: string[] = [];
  /** The text read so far ended with a CR: an LF at the start of the next read ends nothing more. */
  private afterCR = false;
  private eventName: string | null = null;
  private readonly dataLines: string[] = [];

  /** Reads `bytes`, pushing the events they complete onto `out`. */
  push(bytes: Uint8Array, out: ServerSentEvent[]): void {
    this.pushText(this.decoder.decode(bytes, { stream: true }), out);
  }

  private pushText(text: string, out: ServerSentEvent[]): void {
    // Empty when a read held only the start of a character; a pending CR still waits for its LF.
    if (text.length === 0) return;
    let start = 0;
    if (this.afterCR) {
      this.afterCR = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // The next LF and CR at or after `start`, each searched again only once passed: one scan of the text each.
    let nextLF = text.indexOf('\n', start);
    let nextCR = text.indexOf('\r', start);
    while (start < text.length) {
      if (nextLF !== -1 && nextLF < start) nextLF = text.indexOf('\n', start);
      if (nextCR !== -1 && nextCR < start) nextCR = text.indexOf('\r', start);
      const end = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (end === -1) break;
      let line = text.slice(start, end);
      if (this.partialLine.length > 0) {
        this.partialLine.push(line);
        line = this.partialLine.join('');
        this.partialLine.length = 0;
      }
      this.readLine(line, out);
      start = end + 1;
      if (text.charCodeAt(end) === CR) {
        if (start === text.length) this.afterCR = true;
        else if (text.charCodeAt(start) === LF) start++;
      }
    }
    if (start < text.length) this.partialLine.push(start === 0 ? text : text.slice(start));
  }

  private readLine(line: string, out: ServerSentEvent[]): void {
    if (line.length === 0) {
      // A blank line ends the event; one without data is not dispatched.
      if (this.dataLines.length > 0) {
        out.push({ event: this.eventName, data: this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join('\n') });
        this.dataLines.length = 0;
      }
      this.eventName = null;
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // A comment (servers send them to keep the connection alive).
    const field = colon === -1 ? line : line.slice(0, colon);
    // The value follows the colon, less one space if there is one; a line with no colon is a field with an empty value.
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
  }
}

/**
 * The events of a streamed body, one batch per network read (possibly empty: a read that
 * completes no event still shows the server is alive). An error of the body (the connection cut,
 * the request aborted) reaches the caller; leaving the loop early cancels the body, which closes
 * the request.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent[], void, undefined> {
  const parser = new SseParser();
  const reader = body.getReader();
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        return;
      }
      const events: ServerSentEvent[] = [];
      parser.push(value, events);
      yield events;
    }
  } finally {
    // Cancelling a body that already failed rejects again; that failure has been reported (or the caller left).
    if (!ended) reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
