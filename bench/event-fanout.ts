/**
 * Event fan-out: 10 attached clients, the daemon emitting events for 10 s, at full speed and at
 * 5,000 events/s. Beside it, a bare `ws` broadcast of the same frames on the same machine: the
 * ceiling. Target: Ralph ≥ 50% of the ceiling; p99 ≤ 50 ms at 5,000 events/s.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { RalphClient } from '../protocol/client.ts';
import type { FanoutCommand, FanoutReply } from './fanout-server.ts';
import { percentile, printTable, type Row } from './table.ts';

const CLIENTS = 10;
const DURATION_MS = Number(process.env.BENCH_FANOUT_MS ?? 10_000);
const PACED_RATE = 5_000;

type Variant = { name: string; server: 'raw' | 'ralph'; client: 'raw' | 'ralph' };

interface Receiver {
  received: number;
  latencies: number[];
  close(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();

function record(receiver: Receiver, message: string | undefined): void {
  receiver.received++;
  if (message !== undefined) receiver.latencies.push(now() - Number(message));
}

async function rawReceiver(url: string, token: string): Promise<Receiver> {
  const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const receiver: Receiver = {
    received: 0,
    latencies: [],
    close: async () => socket.close(),
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  if (token) {
    // The daemon sends events only to initialized clients.
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1, client: { name: 'bench' } } }));
  }
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { method?: string; params?: { type?: string; data?: { message?: string } } };
    if (message.method === 'event' && message.params?.type === 'progress.report') record(receiver, message.params.data?.message);
  });
  return receiver;
}

async function ralphReceiver(url: string, token: string): Promise<Receiver> {
  const client = await RalphClient.connect({ endpoint: { url, token }, name: 'bench', reconnect: false });
  const receiver: Receiver = { received: 0, latencies: [], close: () => client.close() };
  client.on('event', (event) => {
    if (event.type === 'progress.report') record(receiver, event.data.message);
  });
  return receiver;
}

function request(child: ChildProcess, command: FanoutCommand): Promise<FanoutReply> {
  return new Promise((resolve) => {
    child.once('message', (reply: FanoutReply) => resolve(reply));
    child.send(command);
  });
}

async function measure(variant: Variant): Promise<Row[]> {
  const script = fileURLToPath(new URL('./fanout-server.ts', import.meta.url));
  const child = fork(script, [variant.server], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<FanoutReply>((resolve) => child.once('message', resolve));
  if (ready.kind !== 'ready') throw new Error('fan-out server did not start');
  const rows: Row[] = [];
  // Warm up (JIT, first connections) without clients; the figures come from the runs after it.
  await request(child, { cmd: 'emit', rate: 'max', durationMs: 1_000 });
  for (const rate of ['max', PACED_RATE] as const) {
    const receivers = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        variant.client === 'raw' ? rawReceiver(ready.url, ready.token) : ralphReceiver(ready.url, ready.token),
      ),
    );
    const started = performance.now();
    const emitted = await request(child, { cmd: 'emit', rate, durationMs: DURATION_MS });
    if (emitted.kind !== 'emitted') throw new Error('unexpected reply');
    // Let what is in flight arrive (bounded).
    const deadline = performance.now() + 5_000;
    while (receivers.some((r) => r.received < emitted.count) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const elapsed = (performance.now() - started) / 1000;
    const latencies = receivers.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const slowest = Math.min(...receivers.map((r) => r.received));
    rows.push({
      variant: variant.name,
      rate: rate === 'max' ? 'full speed' : `${rate.toLocaleString('en-US')}/s`,
      'emitted/s': Math.round(emitted.count / (emitted.wallMs / 1000)),
      'delivered/s per client': Math.round(slowest / elapsed),
      lost: emitted.count * CLIENTS - receivers.reduce((sum, r) => sum + r.received, 0),
      'p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
      'server CPU %': emitted.cpuPercent,
    });
    await Promise.all(receivers.map((r) => r.close()));
  }
  child.send({ cmd: 'stop' } satisfies FanoutCommand);
  await new Promise((resolve) => child.once('exit', resolve));
  return rows;
}

export async function run(): Promise<void> {
  const variants: Variant[] = [
    { name: 'raw ws broadcast (ceiling)', server: 'raw', client: 'raw' },
    { name: 'ralph daemon, raw ws clients', server: 'ralph', client: 'raw' },
    { name: 'ralph daemon, RalphClient', server: 'ralph', client: 'ralph' },
  ];
  const rows: Row[] = [];
  for (const variant of variants) rows.push(...(await measure(variant)));
  const ceiling = Number(rows.find((r) => r.variant === variants[0]?.name && r.rate === 'full speed')?.['delivered/s per client']);
  for (const row of rows) {
    if (row.rate === 'full speed') row['of ceiling'] = `${Math.round((Number(row['delivered/s per client']) / ceiling) * 100)}%`;
  }
  printTable(
    `Event fan-out: ${CLIENTS} clients, ${DURATION_MS / 1000} s per run (target: ≥ 50% of ceiling at full speed; p99 ≤ 50 ms at 5,000/s)`,
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
