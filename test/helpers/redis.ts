/**
 * A private Redis for tests: `redis-server` on a free 127.0.0.1 port with its own temp folder, no
 * snapshots (append-only only when a test asks), stopped (or killed -9) by the test. A machine
 * without `redis-server` fails the test saying how to install it (`.ci/run` does): nothing skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one is set). */
  url: string;
  dir: string;
  /** Starts it again on the same port and folder (after stop or kill). */
  start(): Promise<void>;
  /** Stops it cleanly (SHUTDOWN NOSAVE by signal); resolves once the process is gone. */
  stop(): Promise<void>;
  /** kill -9: nothing flushed but what append-only already wrote. */
  kill(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

export interface TestRedisOptions {
  /** Keep an append-only file, so a stop and start keeps the data. Default false. */
  appendOnly?: boolean;
  /** `requirepass`: the URL carries it. */
  password?: string;
}

/** A port free on 127.0.0.1 right now (the OS picks it; redis-server has no `--port 0`). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error('redis-server is not installed: the queue tests need it (apt-get install redis-server; .ci/run installs it)');
  }
  return path;
}

export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const binary = redisServerPath();
  const dir = await mkdtemp(join(tmpdir(), 'ralph-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];

  const start = async (): Promise<void> => {
    output = '';
    const spawned = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    spawned.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port, options.password))) {
      if (spawned.exitCode !== null || Date.now() > deadline) {
        spawned.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on port ${port}:\n${output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    dispose: async () => {
      await end('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a Redis answers PING on the port (authenticating first when a password is given). */
async function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(`${password ? command('AUTH', password) : ''}${command('PING')}`));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('+PONG')) done(true);
      else if (answer.includes('-')) done(false);
    });
  });
}

/** A command in Redis's wire format (any bytes in an argument, spaces included). */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}
