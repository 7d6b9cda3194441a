/**
 * A worker trusts its own machine's settings, not the queue's (daemon/queue/worker-floor.ts), on
 * real parts: a real daemon or pipeline, a private Redis, `ralph worker` processes, test/fake-openai
 * as the worker's own model server and a plain local HTTP server as an attacker's.
 *
 * - A daemon (anyone who writes turns) naming the attacker's URL as the provider: the worker's key
 *   goes only to the URL the worker was given, the goal is done there, and the key is in no Redis
 *   command, key or value and in none of the daemon's log lines or files.
 * - A turn that would drop the worker's floor (a command agent, an agent CLI skipping its
 *   permission checks, commands outside the sandbox) is refused per job: the goal is stuck with
 *   the reason, after one attempt, nothing run; a worker started with the opt-ins runs it.
 * - A turn's `secrets.passEnv` naming the worker's key: commands never get it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { defaultConfig } from '../../daemon/config/schema.ts';
import { resolveAgent } from '../../daemon/agent/external/registry.ts';
import { connectionOptions } from '../../daemon/queue/queue.ts';
import { floorRefusal, secretsOnWorker, workerBaseURL } from '../../daemon/queue/worker-floor.ts';
import { cliEnv, ralph } from '../helpers/cli.ts';
import { defer } from '../helpers/daemon.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { script } from '../pipeline/external-agent-helpers.ts';
import { startQueueDaemon, untilDone } from './queue-daemon.ts';
import { startQueue, twoIterationScenario } from './queue-helpers.ts';
import { scanKeys } from './redis-keys.ts';

const WORKER_KEY = 'sk-worker-own-key-7f3a9c21e5';
const DAEMON_KEY = 'sk-daemon-own-key-0b8d4e62aa';

/** A plain HTTP server that records every request (headers and body) and answers 500. */
async function startAttacker(): Promise<{ url: string; requests: string[]; close(): void }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body}`);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"nope"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests, close: () => server.close() };
}

/** Every value in the Redis as text: strings, hashes, lists, sets, sorted sets and streams. */
async function dumpRedis(redis: Redis): Promise<string> {
  const parts: string[] = [];
  for (const key of await scanKeys(redis, '*')) {
    const type = await redis.type(key);
    const value =
      type === 'string'
        ? await redis.get(key)
        : type === 'hash'
          ? await redis.hgetall(key)
          : type === 'list'
            ? await redis.lrange(key, 0, -1)
            : type === 'set'
              ? await redis.smembers(key)
              : type === 'zset'
                ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : null;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return parts.join('\n');
}

/** The text of every file under `dir`. */
async function filesUnder(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'utf8').catch(() => '')),
  );
  return texts.join('\n');
}

test("a daemon naming an attacker's URL as the provider: the worker's key goes only to its own --provider-url, and is nowhere in Redis nor in the daemon's log", async (t) => {
  const attacker = await startAttacker();
  defer(t, () => attacker.close());
  const queue = await startQueueDaemon(t, { config: {}, env: { OPENAI_BASE_URL: attacker.url, OPENAI_API_KEY: DAEMON_KEY } });
  queue.server.setScenario(twoIterationScenario);
  // Every command the Redis is sent from now on, transient values included.
  const redis = new Redis(connectionOptions(queue.redis.url));
  defer(t, () => redis.disconnect());
  const monitor = await redis.monitor();
  defer(t, () => monitor.disconnect());
  const commands: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
  // The worker has no OPENAI_BASE_URL of its own: only --provider-url says where its key goes.
  const worker = await queue.startWorker('w1', { OPENAI_API_KEY: WORKER_KEY, OPENAI_BASE_URL: undefined }, [
    '--provider-url',
    queue.server.url,
  ]);
  assert.ok(
    worker.stdout().includes(`its model calls go to ${new URL(queue.server.url).origin}; beyond its floor it allows nothing`),
    worker.stdout(),
  );
  const { goal } = await queue.client.request('goal.create', { title: 'Write a file', queue: true });
  const ended = await waitFor(
    async () => {
      const now = await queue.goal(goal.id);
      return now.state === 'done' || now.state === 'stuck' || attacker.requests.length > 0 ? now : undefined;
    },
    { message: `goal #${goal.id} to end` },
  );
  assert.deepEqual(
    attacker.requests.filter((request) => request.includes(WORKER_KEY)),
    [],
    "the attacker's server got no request carrying the worker's key",
  );
  assert.equal(ended.state, 'done', ended.attempts.at(-1)?.reason);
  const calls = queue.server.modelRequests();
  assert.ok(calls.length >= 2, `the goal ran on the worker's own server (${calls.length} model calls)`);
  assert.ok(
    calls.every((call) => call.headers.authorization === `Bearer ${WORKER_KEY}`),
    "every call there carries the worker's key",
  );
  assert.doesNotMatch(await dumpRedis(redis), new RegExp(WORKER_KEY), 'no Redis value holds the key');
  assert.deepEqual(
    commands.filter((command) => command.includes(WORKER_KEY)),
    [],
    'no Redis command ever carried it',
  );
  assert.ok(commands.length > 0, 'the monitor saw the run');
  assert.equal(
    queue.daemon.logs.find((line) => line.includes(WORKER_KEY)),
    undefined,
    "the daemon's log lines never hold it",
  );
  assert.doesNotMatch(await filesUnder(path.join(queue.repo, '.ralph')), new RegExp(WORKER_KEY), 'no daemon file (log, goal) holds it');
});

test('a turn that would drop the floor is refused per job, the goal stuck with the reason after one attempt; a worker started with the opt-in runs it', async (t) => {
  const dir = await makeTempDir(t, 'ralph-agent-');
  const ran = path.join(dir, 'ran');
  const agent = await script(
    dir,
    'agent.sh',
    ['cat > /dev/null', `touch ${ran}`, 'echo hello > hello.txt', 'echo "RALPH_GOAL_DONE: wrote hello.txt"'].join('\n'),
  );
  const queue = await startQueue(t, {
    executor: {
      agent: { command: [agent], output: 'text' },
      agents: { claude: { permissions: 'all', args: [] } },
      verify: 'test -f hello.txt',
      commands: { allow: [], deny: [], timeoutSeconds: 300, outputLimitBytes: 65_536, sandbox: 'off' },
    },
  });
  const first = await queue.startWorker('w1');
  const command = await queue.addGoal('Write hello');
  const refused = await queue.waitForState(command.id, ['stuck', 'done']);
  assert.equal(refused.state, 'stuck');
  assert.equal(refused.attempts.length, 1, 'one attempt, no retry loop');
  assert.match(
    refused.attempts.at(-1)?.reason ?? '',
    /this worker does not run a command agent \(executor\.agent: \{command\}\) from the queue: start it with --allow-commands/,
  );
  assert.equal(existsSync(ran), false, 'the command never ran');
  const log = await queue.logOf(command.id);
  assert.ok(
    log.some((entry) => entry.kind === 'decision' && /--allow-commands/.test(entry.text)),
    'the log says why',
  );

  // An agent CLI without its permission checks: refused before it is even looked for.
  const skipping = await queue.store.create({
    title: 'Write hello with claude',
    spec: '## Objective\n\nWrite hello\n',
    agent: 'claude',
    queue: true,
  });
  const stuck = await queue.waitForState(skipping.id, ['stuck', 'done']);
  assert.match(stuck.attempts.at(-1)?.reason ?? '', /claude without its permission checks .*--allow-all-permissions/);
  // Ralph's own agent, its commands outside the sandbox.
  const unsandboxed = await queue.store.create({
    title: 'Write hello',
    spec: '## Objective\n\nWrite hello\n',
    agent: 'ralph',
    queue: true,
  });
  const outside = await queue.waitForState(unsandboxed.id, ['stuck', 'done']);
  assert.match(outside.attempts.at(-1)?.reason ?? '', /commands outside the sandbox .*--allow-sandbox-off/);
  assert.equal(queue.server.modelRequests().length, 0, 'no model call either');
  assert.equal(first.stdout().includes('failed'), false, `the worker stays up: ${first.stdout()}`);

  // The same goal again on a worker that allows command agents outside the sandbox: done.
  first.signal('SIGINT');
  await first.done.catch(() => undefined);
  const second = await queue.startWorker('w2', ['--allow-commands', '--allow-sandbox-off']);
  assert.match(second.stdout(), /beyond its floor it allows --allow-commands --allow-sandbox-off\n/);
  await queue.store.transition(command.id, 'retry');
  const done = await queue.waitForState(command.id, ['done', 'stuck'], 20_000);
  assert.equal(done.state, 'done', done.attempts.at(-1)?.reason);
  assert.equal(existsSync(ran), true);
});

test('the floor as a function: where the key goes, what is refused without its opt-in, which passEnv names a worker keeps back', () => {
  assert.equal(workerBaseURL({}, {}), null, "nothing set: the provider's official endpoint");
  assert.equal(workerBaseURL({}, { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }), 'http://127.0.0.1:1/v1');
  assert.equal(
    workerBaseURL({ providerUrl: 'http://127.0.0.1:2/v1' }, { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }),
    'http://127.0.0.1:2/v1',
  );

  const base = defaultConfig().executor;
  const refusal = (executor: typeof base, floor = {}, goalAgent?: string): string | null =>
    floorRefusal(floor, executor, resolveAgent(goalAgent, executor));
  assert.equal(refusal(base), null, "Ralph's own agent in the sandbox: inside the floor");
  const command = { ...base, agent: { command: ['./agent'], output: 'text' as const } };
  assert.match(refusal(command) ?? '', /--allow-commands/);
  assert.match(refusal(command, {}, 'command') ?? '', /--allow-commands/);
  assert.equal(refusal(command, { allowCommands: true }), null);
  const sandboxOff = { ...base, commands: { ...base.commands, sandbox: 'off' as const } };
  assert.match(refusal(sandboxOff) ?? '', /commands outside the sandbox .*--allow-sandbox-off/);
  assert.equal(refusal(sandboxOff, { allowSandboxOff: true }), null);
  const claude = (options: Record<string, unknown>) =>
    ({ ...base, agents: { claude: { permissions: 'workspace' as const, args: [], ...options } } }) as typeof base;
  assert.equal(refusal(claude({}), {}, 'claude'), null, 'an agent CLI by name, its own permission checks on');
  assert.match(refusal(claude({ permissions: 'all' }), {}, 'claude') ?? '', /--allow-all-permissions/);
  assert.equal(refusal(claude({ permissions: 'all' }), { allowAllPermissions: true }, 'claude'), null);
  assert.match(refusal(claude({ path: '/tmp/x' }), {}, 'claude') ?? '', /executor\.agents\.claude\.path.*--allow-commands/);
  assert.match(
    refusal(claude({ args: ['--dangerously-skip-permissions'] }), {}, 'claude') ?? '',
    /executor\.agents\.claude\.args.*--allow-commands/,
  );
  assert.equal(refusal(claude({ args: ['--verbose'] }), { allowCommands: true }, 'claude'), null);

  const secrets = { passEnv: ['OPENAI_API_KEY', 'NPM_TOKEN'], hideEnv: ['X'], readIgnoredFiles: false };
  assert.deepEqual(secretsOnWorker({}, secrets), { config: { ...secrets, passEnv: [] }, keptBack: ['OPENAI_API_KEY', 'NPM_TOKEN'] });
  assert.deepEqual(secretsOnWorker({ passEnv: ['NPM_TOKEN'] }, secrets), {
    config: { ...secrets, passEnv: ['NPM_TOKEN'] },
    keptBack: ['OPENAI_API_KEY'],
  });
});

test("a turn's secrets.passEnv does not hand the worker's key to commands unless the worker passes it", async (t) => {
  const queue = await startQueueDaemon(t, { config: { secrets: { passEnv: ['OPENAI_API_KEY'] } } });
  queue.server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? { toolCalls: [{ name: 'run_command', arguments: { command: 'echo "key=${OPENAI_API_KEY:-unset}" | rev' } }] }
      : { toolCalls: [{ name: 'goal_done', arguments: { summary: 'looked at the environment' } }] },
  );
  await queue.startWorker('w1', { OPENAI_API_KEY: WORKER_KEY });
  const { goal } = await queue.client.request('goal.create', { title: 'Read the environment', queue: true });
  await untilDone(queue, goal.id);
  const { entries } = await queue.client.request('logs.read', { id: goal.id });
  const lines = entries.map((entry) => JSON.stringify(entry));
  assert.ok(
    lines.some((line) => line.includes('tesnu=yek')),
    `the command did not get the key: ${lines.join('\n')}`,
  );
  assert.ok(!lines.some((line) => line.includes([...WORKER_KEY].reverse().join(''))), 'the reversed key is nowhere');
  assert.ok(
    entries.some(
      (entry) =>
        entry.kind === 'warning' && /this worker keeps OPENAI_API_KEY from commands \(ralph worker --pass-env passes it\)/.test(entry.text),
    ),
    'the log says the variable was kept back',
  );
});

test('`ralph worker --help` names each opt-in, and a --provider-url that is not http(s) is a usage error', async (t) => {
  const cwd = await makeTempDir(t, 'ralph-worker-cli-');
  const help = await ralph(['worker', '--help'], { cwd, env: cliEnv({ HOME: cwd }) });
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--provider-url URL', '--allow-commands', '--allow-all-permissions', '--allow-sandbox-off', '--pass-env'])
    assert.ok(help.stdout.includes(option), `${option} in: ${help.stdout}`);
  const bad = await ralph(['worker', '--queue', 'redis://127.0.0.1:1', '--provider-url', 'file:///etc/passwd'], {
    cwd,
    env: cliEnv({ HOME: cwd }),
  });
  assert.equal(bad.code, 2, bad.stdout);
  assert.match(bad.stderr, /--provider-url takes an http:\/\/ or https:\/\/ URL, not file:\/\/\/etc\/passwd/);
});
