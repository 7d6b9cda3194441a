/**
 * The emitting side of the fan-out benchmark, run in its own process so its CPU can be measured
 * apart from the clients'. `raw`: a bare `ws` broadcast (the ceiling). `ralph`: the real daemon,
 * publishing on its event bus. Driven over IPC by bench/event-fanout.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { Daemon } from '../daemon/daemon.ts';
import { EVENT_METHOD } from '../protocol/index.ts';

export type FanoutCommand = { cmd: 'emit'; rate: number | 'max'; durationMs: number } | { cmd: 'stop' };
export type FanoutReply =
  | { kind: 'ready'; url: string; token: string }
  | { kind: 'emitted'; count: number; cpuPercent: number; wallMs: number };

interface Emitter {
  url: string;
  token: string;
  emit(sentAt: number): void;
  /** Bytes queued to the slowest client: the emitter holds back instead of queueing without bound. */
  backlog(): number;
  close(): Promise<void>;
}

const send = (reply: FanoutReply) => process.send?.(reply);
const now = () => performance.timeOrigin + performance.now();

async function rawEmitter(): Promise<Emitter> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  let seq = 0;
  return {
    url: `ws://127.0.0.1:${address.port}`,
    token: '',
    emit(sentAt) {
      // The same envelope the daemon sends, so the frames are the same size.
      const frame = JSON.stringify({
        jsonrpc: '2.0',
        method: EVENT_METHOD,
        params: { seq: ++seq, time: new Date().toISOString(), type: 'progress.report', data: { token: 'bench', message: String(sentAt) } },
      });
      for (const client of wss.clients) client.send(frame);
    },
    backlog: () => Math.max(0, ...[...wss.clients].map((c: WebSocket) => c.bufferedAmount)),
    close: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

async function ralphEmitter(): Promise<Emitter> {
  const repo = await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-'));
  execFileSync('git', ['init', '-q', repo]);
  const daemon = await Daemon.start({ repoRoot: repo, repoWatch: false });
  return {
    url: daemon.url,
    token: daemon.token,
    emit(sentAt) {
      daemon.bus.publish('progress.report', { token: 'bench', message: String(sentAt) });
    },
    backlog: () => daemon.maxClientBacklog(),
    async close() {
      await daemon.stop('benchmark over');
      await rm(repo, { recursive: true, force: true });
    },
  };
}

async function emitFor(emitter: Emitter, rate: number | 'max', durationMs: number): Promise<number> {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) {
    if (rate === 'max') {
      // As fast as the clients take it: bounded backlog, otherwise emit in bursts.
      if (emitter.backlog() > 1 << 20) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      for (let i = 0; i < 50; i++, count++) emitter.emit(now());
      await new Promise((resolve) => setImmediate(resolve));
    } else {
      // Paced: catch up to where the schedule says we should be, then yield for a millisecond.
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (count < due) {
        emitter.emit(now());
        count++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  return count;
}

const emitter = process.argv[2] === 'raw' ? await rawEmitter() : await ralphEmitter();
send({ kind: 'ready', url: emitter.url, token: emitter.token });
process.on('message', async (command: FanoutCommand) => {
  if (command.cmd === 'stop') {
    await emitter.close();
    process.exit(0);
  }
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const count = await emitFor(emitter, command.rate, command.durationMs);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  send({ kind: 'emitted', count, wallMs, cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100 });
});
