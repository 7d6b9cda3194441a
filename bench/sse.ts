/**
 * Server-sent events parsing alone: daemon/llm/sse.ts against `eventsource-parser` (the maintained
 * npm parser), on the same bytes cut into the same reads, with no network and no JSON parsing.
 *
 * Streams: a Chat Completions answer of many small `data:` events (a realistic delta chunk each),
 * read as a fast server delivers it (64 KB reads, many events each) and as a slow one does (one
 * event, or less, a read); and a stream of large events (200 KB of data each, as a big tool call's
 * arguments or a Responses `completed` event are), read in 16 KB pieces. Each side decodes the bytes
 * itself (sse.ts takes bytes; eventsource-parser takes text, so a streaming TextDecoder feeds it).
 * Runs of the two sides alternate; the table gives the median run.
 */
import { performance } from 'node:perf_hooks';
import { createParser } from 'eventsource-parser';
import { type ServerSentEvent, SseParser } from '../daemon/llm/sse.ts';
import { percentile, printTable, type Row } from './table.ts';

const RUNS = Number(process.env.BENCH_SSE_RUNS ?? 15);
const encoder = new TextEncoder();

interface Stream {
  name: string;
  reads: Uint8Array[];
  bytes: number;
  events: number;
}

/** `text` encoded and cut into reads of `readSize` bytes (cuts fall anywhere: inside lines, inside characters). */
function streamOf(name: string, text: string, events: number, readSize: number): Stream {
  const bytes = encoder.encode(text);
  const reads: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += readSize) reads.push(bytes.subarray(at, at + readSize));
  return { name, reads, bytes: bytes.length, events };
}

function chatDeltas(count: number): string {
  const words = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dög', ' — ', ' naïve', ' café', ' 😀', '\\n'];
  let text = '';
  for (let index = 0; index < count; index++) {
    const chunk = {
      id: 'chatcmpl-Bx7rQ2mN4kT9vW1yZ3aC5eG8',
      object: 'chat.completion.chunk',
      created: 1_780_000_000,
      model: 'gpt-5.4-2026-08-01',
      system_fingerprint: 'fp_3a5b7c9d1e',
      choices: [{ index: 0, delta: { content: words[index % words.length] }, logprobs: null, finish_reason: null }],
    };
    text += `data: ${JSON.stringify(chunk)}\n\n`;
  }
  return `${text}data: [DONE]\n\n`;
}

function largeEvents(count: number, size: number): string {
  let text = '';
  const filler = 'lorem ipsum dolor sit amet, “quoted” — ünïcödé '.repeat(Math.ceil(size / 48)).slice(0, size);
  for (let index = 0; index < count; index++) text += `event: response.completed\ndata: {"n":${index},"text":"${filler}"}\n\n`;
  return text;
}

/** Parses every read of `stream` with sse.ts; returns the events' total data length (so nothing is optimised away). */
function withSse(stream: Stream): number {
  const parser = new SseParser();
  let total = 0;
  let count = 0;
  const events: ServerSentEvent[] = [];
  for (const read of stream.reads) {
    parser.push(read, events);
    for (const event of events) total += event.data.length;
    count += events.length;
    events.length = 0;
  }
  if (count !== stream.events) throw new Error(`sse.ts read ${count} events of ${stream.events}`);
  return total;
}

function withEventsourceParser(stream: Stream): number {
  const decoder = new TextDecoder();
  let total = 0;
  let count = 0;
  const parser = createParser({
    onEvent(event) {
      total += event.data.length;
      count++;
    },
  });
  for (const read of stream.reads) parser.feed(decoder.decode(read, { stream: true }));
  if (count !== stream.events) throw new Error(`eventsource-parser read ${count} events of ${stream.events}`);
  return total;
}

export async function run(): Promise<void> {
  const chat = chatDeltas(20_000);
  const eventSize = chat.length / 20_001;
  const streams = [
    streamOf('chat deltas, 64 KB reads', chat, 20_001, 64 * 1024),
    streamOf('chat deltas, one event a read', chat, 20_001, Math.round(eventSize)),
    streamOf('chat deltas, 100-byte reads', chat, 20_001, 100),
    streamOf('200 KB events, 16 KB reads', largeEvents(100, 200_000), 100, 16 * 1024),
  ];
  const sides = [
    { name: 'sse.ts', parse: withSse },
    { name: 'eventsource-parser', parse: withEventsourceParser },
  ];
  const rows: Row[] = [];
  for (const stream of streams) {
    const times = sides.map(() => [] as number[]);
    for (let runIndex = 0; runIndex < RUNS + 2; runIndex++) {
      const results = new Set<number>();
      for (let turn = 0; turn < sides.length; turn++) {
        const sideIndex = (runIndex + turn) % sides.length;
        const start = performance.now();
        results.add(sides[sideIndex]!.parse(stream));
        if (runIndex >= 2) times[sideIndex]!.push(performance.now() - start); // two warm-up runs
      }
      if (results.size !== 1) throw new Error(`the parsers read different data (${stream.name})`);
    }
    const medians = times.map((samples) =>
      percentile(
        [...samples].sort((a, b) => a - b),
        50,
      ),
    );
    sides.forEach((side, index) => {
      const ms = medians[index]!;
      rows.push({
        stream: stream.name,
        parser: side.name,
        'MB/s': stream.bytes / 1e6 / (ms / 1000),
        'k events/s': stream.events / ms,
        'median ms': ms,
        'time vs sse.ts': ms / medians[0]!,
      });
    });
  }
  printTable(`Server-sent events parsing: ${RUNS} runs per side, alternating; median run`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
