/**
 * Chat delta latency: the time from a streamed delta leaving the model server (fake-openai's
 * `onDeltaWritten` hook, in this process) to the `chat.delta` carrying its text reaching a
 * RalphClient attached to the daemon (also in this process, so both times come from one clock).
 * The daemon may merge deltas that arrive together into one event, so a delta counts as arrived
 * when the text received so far covers it. The daemon runs as its own process, as it does in use,
 * with its provider pointed at the fake server. Deltas stream at full speed (the whole reply
 * written at once) and paced (1 ms apart), over both APIs. Target: p99 ≤ 20 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RalphClient } from '../protocol/client.ts';
import { readDaemonFile, type EventEnvelope } from '../protocol/index.ts';
import { splitIntoDeltas, startFakeOpenAI, type FakeOpenAIServer } from '../test/fake-openai/index.ts';
import { makeTempRepo } from '../test/helpers/repo.ts';
import { daemonProcess } from '../tui/connection/daemon.ts';
import { percentile, printTable, type Row } from './table.ts';

/** Turns per run; each streams REPLY_DELTAS. */
const TURNS = Number(process.env.BENCH_CHAT_TURNS ?? 8);
/** Every reply: 40 lines, 560 word-sized deltas. */
const REPLY_DELTAS = splitIntoDeltas(
  Array.from({ length: 40 }, (_, index) => `Line ${index + 1} of the long stream: the quick brown fox jumps over the dog.`).join('\n'),
);
/** Where each delta ends in the reply's text. */
const DELTA_ENDS: number[] = [];
for (const delta of REPLY_DELTAS) DELTA_ENDS.push((DELTA_ENDS.at(-1) ?? 0) + delta.length);
const PACED_DELAY_MS = 1;
const STARTUP_TIMEOUT_MS = 20_000;
const TURN_TIMEOUT_MS = 60_000;

const now = () => performance.timeOrigin + performance.now();

/** When each delta left the server: `requestIndex:deltaIndex` → time. */
type WriteTimes = Map<string, number>;

interface Measured {
  latencies: number[];
  /** Deltas written that no received text covered, or received text beyond the reply (should be none). */
  unmatched: number;
  /** `chat.delta` events the client received. */
  events: number;
}

async function startDaemon(repo: string, server: FakeOpenAIServer, api: 'chat' | 'responses'): Promise<ChildProcess> {
  const { command, args, env } = daemonProcess(repo, 'foreground');
  const provider = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'bench-key', RALPH_API: api, RALPH_MODEL: 'gpt-5.4-mini' };
  const child = spawn(command, args, { cwd: repo, env: { ...env, ...provider }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const file = await readDaemonFile(repo).catch(() => null);
    if (file?.pid === child.pid) return child;
    if (child.exitCode !== null) throw new Error(`the daemon exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the daemon did not start within ${STARTUP_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends one message and waits for its reply to end, timing each of its deltas. */
async function timedTurn(client: RalphClient, server: FakeOpenAIServer, written: WriteTimes, measured: Measured | null): Promise<void> {
  const requestIndex = server.requests.length;
  const received: { at: number; chars: number }[] = [];
  let replyId: string | undefined;
  const early: { id: string; at: number; chars: number }[] = [];
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const listener = (event: EventEnvelope) => {
    if (event.type === 'chat.delta') {
      const at = now();
      const chars = event.data.delta.length;
      if (replyId === undefined) early.push({ id: event.data.messageId, at, chars });
      else if (event.data.messageId === replyId) received.push({ at, chars });
    } else if (event.type === 'chat.message.done' && event.data.message.id === replyId) {
      finish();
    }
  };
  client.on('event', listener);
  try {
    const sent = await client.request('chat.send', { text: 'stream please' });
    replyId = sent.replyMessageId;
    received.unshift(...early.filter((delta) => delta.id === replyId));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ended,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('a turn did not end in time')), TURN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  } finally {
    client.off('event', listener);
  }
  if (!measured) return;
  measured.events += received.length;
  // Each written delta arrived with the first event whose text, added to what came before, covers it.
  let covered = 0;
  let deltaIndex = 0;
  for (const { at, chars } of received) {
    covered += chars;
    for (; deltaIndex < DELTA_ENDS.length && DELTA_ENDS[deltaIndex]! <= covered; deltaIndex++) {
      const sentAt = written.get(`${requestIndex}:${deltaIndex}`);
      if (sentAt === undefined) measured.unmatched++;
      else measured.latencies.push(at - sentAt);
    }
  }
  measured.unmatched += DELTA_ENDS.length - deltaIndex + (covered === DELTA_ENDS.at(-1) ? 0 : 1);
}

async function measure(api: 'chat' | 'responses'): Promise<Row[]> {
  const written: WriteTimes = new Map();
  const server = await startFakeOpenAI({
    scenario: () => ({ deltas: REPLY_DELTAS }),
    onDeltaWritten: (record, deltaIndex, at) => written.set(`${record.index}:${deltaIndex}`, at),
  });
  const repo = await makeTempRepo(undefined);
  let daemon: ChildProcess | undefined;
  let client: RalphClient | undefined;
  try {
    daemon = await startDaemon(repo, server, api);
    const file = await readDaemonFile(repo);
    if (!file) throw new Error('no daemon.json');
    client = await RalphClient.connect({ endpoint: { url: file.url, token: file.token }, name: 'bench', reconnect: false });
    // Warm up: JIT, the provider's first connection.
    await timedTurn(client, server, written, null);
    const rows: Row[] = [];
    for (const delayMs of [0, PACED_DELAY_MS]) {
      server.deltaDelayMs = delayMs;
      const measured: Measured = { latencies: [], unmatched: 0, events: 0 };
      for (let turn = 0; turn < TURNS; turn++) await timedTurn(client, server, written, measured);
      const sorted = measured.latencies.sort((a, b) => a - b);
      rows.push({
        api,
        written: delayMs === 0 ? 'all at once' : `${delayMs} ms apart`,
        deltas: sorted.length,
        'client events': measured.events,
        unmatched: measured.unmatched,
        'p50 ms': percentile(sorted, 50),
        'p99 ms': percentile(sorted, 99),
        'max ms': sorted.at(-1) ?? NaN,
      });
    }
    return rows;
  } finally {
    await client?.close();
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await once(daemon, 'exit');
    }
    await server.close();
    await rm(repo, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const api of ['chat', 'responses'] as const) rows.push(...(await measure(api)));
  printTable(`Chat delta latency: model server → daemon → attached client, ${TURNS} turns per row (target: p99 ≤ 20 ms)`, rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
