/**
 * Tools for the fuzz tests: a seeded random source (a failing run is replayed with its seed), raw
 * TCP exchanges with the daemon's HTTP server, and a byte-exact record of the goal files.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';

export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast and good enough to generate inputs; the same seed gives the same run. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { seed, next, int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p };
}

/** The seed for this run: RALPH_FUZZ_SEED replays one; otherwise a new one, printed so a failure can be replayed. */
export function fuzzRandom(t: TestContext): Random {
  const fromEnv = process.env.RALPH_FUZZ_SEED;
  const seed = fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 32);
  t.diagnostic(`fuzz seed ${seed} (replay with RALPH_FUZZ_SEED=${seed})`);
  return seededRandom(seed);
}

/** Every file under `dir` with its exact bytes (relative path → content). */
export async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.set(path.relative(dir, full), await readFile(full));
    }
  };
  await walk(dir);
  return files;
}

/** Asserts the files under `dir` are exactly those recorded: same names, same bytes. */
export async function assertFilesUnchanged(dir: string, before: Map<string, Buffer>, what: string): Promise<void> {
  const after = await filesUnder(dir);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), `${what}: the same files`);
  for (const [name, bytes] of before) assert.ok(after.get(name)!.equals(bytes), `${what}: ${name} is byte-identical`);
}

export interface RawHttpAnswer {
  /** The status of the first response line, or null when the server closed (or went quiet) without one. */
  status: number | null;
  /** Everything received (up to the first response's head). */
  head: string;
}

/**
 * Writes `bytes` to the server on a fresh TCP connection and reads the first response's status.
 * With `halfClose`, the writing side is ended after the bytes (an incomplete request then ends).
 */
export function rawHttp(port: number, bytes: string | Buffer, { halfClose = false, timeoutMs = 5000 } = {}): Promise<RawHttpAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(received);
      resolve({ status: match ? Number(match[1]) : null, head: received.split('\r\n\r\n')[0] ?? '' });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) finish();
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
  });
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
