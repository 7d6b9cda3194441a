import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { makeTempDir } from '../../../test/helpers/repo.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import { isGroupAlive } from '../../tools/process-group.ts';
import type { AgentBackend } from './backend.ts';
import { AgentDetector, findExecutable } from './detect.ts';

/** A backend described only by what detection reads (it never runs an iteration here). */
function backend(name: string, executable = name): AgentBackend {
  return {
    name,
    displayName: `${name} CLI`,
    executable,
    install: `npm install -g ${name}-cli`,
    auth: `${name.toUpperCase()}_API_KEY or \`${name} login\``,
    authEnv: [],
    versionArgs: ['--version'],
    invocation: () => ({ args: [] }),
    parser: () => (line) => [{ type: 'raw', line }],
  };
}

/** An executable shell script; every run appends a line to `<file>.runs`, so tests can count them. */
async function script(file: string, body: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\necho run >> '${file}.runs'\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

async function runs(file: string): Promise<number> {
  return (await readFile(`${file}.runs`, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

it('finds each CLI on PATH or at the configured path, with its version; a missing one says how to install it', async (t) => {
  const dir = await makeTempDir(t);
  const bin = path.join(dir, 'bin');
  await script(path.join(bin, 'alpha'), `printf '\\033[1m1.2.3\\033[0m (Alpha)\\nmore text\\n'`);
  await script(path.join(dir, 'tools', 'beta-dev'), `echo 'beta 0.9.0' >&2`);
  await writeFile(path.join(bin, 'gamma'), 'not executable');
  const detector = new AgentDetector({
    backends: () => [backend('alpha'), backend('beta'), backend('gamma'), backend('delta')],
    configuredPath: (name) => (name === 'beta' ? 'tools/beta-dev' : name === 'delta' ? '/nowhere/delta' : undefined),
    cwd: dir,
    env: { PATH: `relative/bin${path.delimiter}${bin}${path.delimiter}/usr/bin:/bin` },
  });
  const [alpha, beta, gamma, delta] = await detector.detect();

  assert.deepEqual(alpha, {
    name: 'alpha',
    displayName: 'alpha CLI',
    auth: 'ALPHA_API_KEY or `alpha login`',
    install: 'npm install -g alpha-cli',
    installed: true,
    version: '1.2.3 (Alpha)',
    path: path.join(bin, 'alpha'),
    problem: null,
  });
  assert.deepEqual([beta?.installed, beta?.version, beta?.path], [true, 'beta 0.9.0', path.join(dir, 'tools', 'beta-dev')]);
  assert.deepEqual([gamma?.installed, gamma?.version, gamma?.path], [false, null, null], 'a file that is not executable is no CLI');
  assert.equal(gamma?.problem, 'gamma is not installed (not on PATH): npm install -g gamma-cli');
  assert.equal(delta?.installed, false);
  assert.equal(delta?.problem, 'not found at /nowhere/delta (executor.agents.delta.path in ralph.config.ts)');
});

it('a version command that fails or hangs leaves the CLI installed without a version, and its process group is killed', async (t) => {
  const dir = await makeTempDir(t);
  const pidFile = path.join(dir, 'slow.pid');
  const failing = await script(path.join(dir, 'failing'), `echo 'error: unknown option --version' >&2\nexit 3`);
  // Hangs, with a child in the background that would keep the output open.
  const slow = await script(path.join(dir, 'slow'), `echo $$ > '${pidFile}'\nsleep 60 &\nsleep 60`);
  // Answers, but leaves a child behind.
  const leaver = await script(path.join(dir, 'leaver'), `echo $$ > '${pidFile}.leaver'\nsleep 60 &\necho 4.5.6`);
  const detector = new AgentDetector({
    backends: () => [backend('failing', failing), backend('slow', slow), backend('leaver', leaver)],
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    timeoutMs: 500,
  });
  const [failed, hung, left] = await detector.detect();
  assert.deepEqual([failed?.installed, failed?.version, failed?.path], [true, null, failing]);
  assert.equal(failed?.problem, `\`${failing} --version\` failed: error: unknown option --version`);
  assert.deepEqual([hung?.installed, hung?.version], [true, null]);
  assert.equal(hung?.problem, `\`${slow} --version\` did not answer within 0.5 s`);
  assert.deepEqual([left?.version, left?.problem], ['4.5.6', null]);

  for (const file of [pidFile, `${pidFile}.leaver`]) {
    const pgid = Number((await readFile(file, 'utf8')).trim());
    await waitFor(() => !isGroupAlive(pgid), { message: `the process group of ${path.basename(file)} is gone` });
  }
});

it('a backend without version arguments is found but never run (a command may ignore them and start working)', async (t) => {
  const dir = await makeTempDir(t);
  const agent = await script(path.join(dir, 'my-agent'), 'echo working');
  const detector = new AgentDetector({ backends: () => [{ ...backend('command', agent), versionArgs: [] }], cwd: dir, env: {} });
  const [found] = await detector.detect();
  assert.deepEqual([found?.installed, found?.version, found?.path, found?.problem], [true, null, agent, null]);
  assert.equal(await runs(agent), 0);
});

it('answers from its cache until it is stale, refreshed, or the backends or paths changed; concurrent asks share one look', async (t) => {
  const dir = await makeTempDir(t);
  const alpha = await script(path.join(dir, 'alpha'), 'echo 1.0.0');
  let now = 1_000_000;
  let configured: string | undefined;
  let backends = [backend('alpha', alpha)];
  const detector = new AgentDetector({
    backends: () => backends,
    configuredPath: (name) => (name === 'alpha' ? configured : undefined),
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    cacheMs: 10_000,
    now: () => now,
  });

  const [first, second] = await Promise.all([detector.detect(), detector.detect()]);
  assert.deepEqual(first, second);
  assert.equal(await runs(alpha), 1, 'two clients at once: one version command');
  now += 9_000;
  await detector.detect();
  assert.equal(await runs(alpha), 1, 'fresh: from the cache');
  await detector.detect({ refresh: true });
  assert.equal(await runs(alpha), 2, 'refresh looks again');
  now += 10_000;
  await detector.detect();
  assert.equal(await runs(alpha), 3, 'stale: looks again');
  configured = alpha;
  await detector.detect();
  assert.equal(await runs(alpha), 4, 'a configured path changed: looks again');
  backends = [backend('alpha', alpha), backend('beta')];
  assert.equal((await detector.detect()).length, 2, 'a changed list of backends is looked at at once');
  assert.equal(await runs(alpha), 5);
});

it('findExecutable: a bare name searches the absolute folders of PATH in order; a path is taken from the repository', async (t) => {
  const dir = await makeTempDir(t);
  const first = await script(path.join(dir, 'one', 'tool'), 'true');
  await script(path.join(dir, 'two', 'tool'), 'true');
  const env = { PATH: [path.join(dir, 'missing'), path.join(dir, 'one'), path.join(dir, 'two')].join(path.delimiter) };
  assert.equal(await findExecutable('tool', { cwd: dir, env }), first);
  assert.equal(await findExecutable('./one/tool', { cwd: dir, env: {} }), first);
  assert.equal(
    await findExecutable('tool', { cwd: path.join(dir, 'one'), env: { PATH: '.' } }),
    null,
    'a relative PATH entry is not searched',
  );
  assert.equal(await findExecutable('one', { cwd: dir, env: { PATH: dir } }), null, 'a folder is no executable');
});
