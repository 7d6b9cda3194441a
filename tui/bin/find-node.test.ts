/**
 * `ralph` on PATH starts the Node 24 the package ships from its shell launcher, never the system's
 * `node`. Run by a `node` older than 22 (this machine's is 20), the command hands over to the same
 * Node: the same output and exit code, nothing on stderr, no npm (run only where such an old Node
 * is on PATH).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliEnv, killDaemon } from '../../test/helpers/cli.ts';
import { makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { HANDED_OVER, MIN_NODE_MAJOR, packagedNode } from './find-node.js';
import { TUI_NODE_FLAGS } from './node-flags.js';

const RALPH = fileURLToPath(new URL('./ralph.js', import.meta.url));

/** A `node` on PATH older than Ralph needs, or null. */
function oldNodeOnPath(): string | null {
  let paths: string[];
  try {
    paths = execFileSync('which', ['-a', 'node'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return null;
  }
  for (const node of paths) {
    const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(version.split('.')[0]) < MIN_NODE_MAJOR) return node;
  }
  return null;
}

const oldNode = oldNodeOnPath();
const skip =
  oldNode === null
    ? `no Node older than ${MIN_NODE_MAJOR} on PATH`
    : packagedNode() === null
      ? 'the packaged Node is not installed'
      : false;

function run(node: string, args: string[], env: NodeJS.ProcessEnv = cliEnv()) {
  return spawnSync(node, [RALPH, ...args], { encoding: 'utf8', env, timeout: 30_000 });
}

test('on an old Node the command runs in the packaged Node: same output, same exit codes, nothing on stderr', { skip }, async (t) => {
  const node = oldNode!;
  const help = run(node, ['--help']);
  assert.equal(help.stderr, '');
  assert.equal(help.status, 0);
  assert.equal(help.stdout, run(process.execPath, ['--help']).stdout);

  const bad = run(node, ['frobnicate']);
  assert.equal(bad.status, 2, 'bad usage keeps its exit code through the hand-over');
  assert.match(bad.stderr, /^ralph: unknown command 'frobnicate'/);

  const repo = await makeTempRepo(undefined);
  t.after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });
  const env = cliEnv({ RALPH_PIPELINE: 'paused' });
  const added = run(node, ['goal', 'add', '--title', 'From an old Node', '--repo', repo], env);
  assert.equal(added.stderr, '');
  assert.equal(added.stdout, '1\n');
  const listed = JSON.parse(run(node, ['goal', 'list', '--json', '--repo', repo], env).stdout) as { title: string }[];
  assert.deepEqual(
    listed.map((goal) => goal.title),
    ['From an old Node'],
  );
});

test('a command already handed over never hands over again: it says what to do', { skip }, () => {
  const refused = run(oldNode!, ['--help'], cliEnv({ [HANDED_OVER]: '1' }));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^ralph: needs Node\.js 22 or newer \(this is v\d+/);
});

test('on PATH the command starts the packaged Node itself: the node on PATH is never run', {
  skip: packagedNode() === null && 'the packaged Node is not installed',
}, async (t) => {
  // As npm link installs it: a symlink named ralph in a folder on PATH. First on PATH, a `node`
  // that leaves a mark and fails: the command must not need it.
  const dir = await makeTempDir(t);
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await symlink(RALPH, path.join(bin, 'ralph'));
  const mark = path.join(dir, 'system-node-ran');
  await writeFile(path.join(bin, 'node'), `#!/bin/sh\ntouch '${mark}'\nexit 99\n`);
  await chmod(path.join(bin, 'node'), 0o755);
  const env = cliEnv({ PATH: `${bin}${path.delimiter}${process.env.PATH}` });
  const onPath = (args: string[]) => spawnSync('ralph', args, { encoding: 'utf8', env, timeout: 30_000 });

  const help = onPath(['--help']);
  assert.equal(help.stderr, '');
  assert.equal(help.status, 0);
  assert.equal(help.stdout, spawnSync(process.execPath, [RALPH, '--help'], { encoding: 'utf8', env: cliEnv() }).stdout);
  const bad = onPath(['frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^ralph: unknown command 'frobnicate'/);
  // The bare command takes the TUI's path through the launcher (its heap flags): without a terminal it says so.
  const tui = onPath([]);
  assert.equal(tui.status, 1);
  assert.match(tui.stderr, /^ralph: the TUI needs an interactive terminal/);
  assert.equal(existsSync(mark), false, 'the node on PATH was started');
});

test("the launcher gives the bare command the TUI's heap flags (node-flags.js)", () => {
  const launch = /exec "\$n" (.+) "\$r" "\$@"/.exec(readFileSync(RALPH, 'utf8'));
  assert.equal(launch?.[1], TUI_NODE_FLAGS.join(' '));
});
