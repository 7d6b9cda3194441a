/**
 * The guard with real processes: a Node process running commands outside the sandbox is killed
 * with -9, and what its commands left (their process group, and a process that left it by setsid)
 * dies at once, with nothing reaping the records.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defer } from '../../test/helpers/defer.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { processStartTime } from './process-records.ts';

const RUN_COMMAND = fileURLToPath(new URL('./run-command.ts', import.meta.url));

test('a process killed with -9 while its command runs: the guard kills the command’s group and what left it', async (t) => {
  const root = await makeTempDir(t);
  const script = [
    `import { CommandRunner } from ${JSON.stringify(RUN_COMMAND)};`,
    `const runner = new CommandRunner({ sandbox: 'off', record: { folder: ${JSON.stringify(path.join(root, 'processes'))}, what: 'a command' } });`,
    `await runner.run('sleep 1000 & echo $! > grouped.pid; setsid sleep 1000 & echo $! > escaped.pid; wait', { cwd: ${JSON.stringify(root)} });`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
  const pids = await waitFor(
    async () => {
      const read = await Promise.all(['grouped.pid', 'escaped.pid'].map((name) => readFile(path.join(root, name), 'utf8').catch(() => '')));
      return read.every((text) => /^\d+\n$/.test(text)) ? read.map(Number) : undefined;
    },
    { timeoutMs: 15_000, message: 'the command to start' },
  );
  defer(t, () => {
    for (const pid of pids) if (processStartTime(pid) !== null) process.kill(pid, 'SIGKILL');
  });
  child.kill('SIGKILL');
  await waitFor(() => pids.every((pid) => !livingProcess(pid)), { timeoutMs: 10_000, message: 'the guard to kill both sleeps' });
  // The record stays: the next start reaps it (and finds nothing left to kill).
  assert.equal((await readdir(path.join(root, 'processes'))).filter((name) => name.endsWith('.json')).length, 1);
});

/** Alive and not a zombie (a zombie runs nothing). */
function livingProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
