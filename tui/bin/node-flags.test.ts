import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';
import { promisify } from 'node:util';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { mayOpenTui } from './node-flags.js';

const execFileAsync = promisify(execFile);

test('the bin guesses the TUI from arguments without a command word', () => {
  for (const args of [[], ['--repo', 'some/dir'], ['--repo=some/dir'], ['--json']]) assert.equal(mayOpenTui(args), true, args.join(' '));
  for (const args of [['goal', 'list'], ['--repo', 'x', 'goal', 'list'], ['--help'], ['-h'], ['daemon', 'start']]) {
    assert.equal(mayOpenTui(args), false, args.join(' '));
  }
});

/** A script that relaunches itself with --max-semi-space-size=3, then prints what it runs with. */
async function relaunchingScript(t: test.TestContext): Promise<string> {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'relaunch.mjs');
  const moduleUrl = new URL('./node-flags.js', import.meta.url).href;
  await writeFile(
    file,
    [
      `const { relaunchWithNodeFlags } = await import(${JSON.stringify(moduleUrl)});`,
      `relaunchWithNodeFlags(['--max-semi-space-size=3']);`,
      `console.log(JSON.stringify({ execArgv: process.execArgv, args: process.argv.slice(2) }));`,
    ].join('\n'),
  );
  return file;
}

interface Seen {
  execArgv: string[];
  args: string[];
}

test('a relaunch gives Node the flags once, in the same process, keeping its arguments', async (t) => {
  const script = await relaunchingScript(t);
  const { stdout } = await execFileAsync(process.execPath, [script, 'one', 'two']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'the output of one process: the first was replaced, not joined');
  const seen = JSON.parse(lines[0]!) as Seen;
  assert.deepEqual(seen.execArgv, ['--max-semi-space-size=3']);
  assert.deepEqual(seen.args, ['one', 'two']);
});

test('no relaunch when the flag is given already, whatever its value', async (t) => {
  const script = await relaunchingScript(t);
  const viaArgs = JSON.parse((await execFileAsync(process.execPath, ['--max-semi-space-size=8', script])).stdout) as Seen;
  assert.deepEqual(viaArgs.execArgv, ['--max-semi-space-size=8']);
  const viaEnv = JSON.parse(
    (await execFileAsync(process.execPath, [script], { env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=8' } })).stdout,
  ) as Seen;
  assert.deepEqual(viaEnv.execArgv, [], 'NODE_OPTIONS counts as given');
});
