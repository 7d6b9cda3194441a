/**
 * `ralph` on PATH starts with the system's `node`. On one older than 22 (this machine's is 20) it
 * hands the command over to the Node 24 the package ships: the same output and exit code, nothing
 * on stderr, no npm. Run only where such an old Node is on PATH.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliEnv, killDaemon } from '../../test/helpers/cli.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { HANDED_OVER, MIN_NODE_MAJOR, packagedNode } from './find-node.js';

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
