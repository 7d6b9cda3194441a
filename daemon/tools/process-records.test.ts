/**
 * Process records with real processes: what a command runner records while its commands run, and
 * what reaping the records kills (a recorded group only while its leader is the process recorded;
 * what carries the marker in any case) and leaves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { defer } from '../../test/helpers/defer.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { isGroupAlive, signalGroup } from './process-group.ts';
import { processStartTime, reapRecordedProcesses } from './process-records.ts';
import { COMMAND_MARKER_VARIABLE, CommandRunner } from './run-command.ts';

/** A `sleep 1000` leading a process group of its own, killed after the test. */
async function sleeper(t: TestContext): Promise<number> {
  const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const pid = child.pid!;
  defer(t, () => void signalGroup(pid, 'SIGKILL'));
  return pid;
}

async function recordFiles(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [] as string[])).filter((name) => name !== '.gitignore');
}

test('a runner records its marker and each group while its commands may run, and removes the record when they are over', async (t) => {
  const root = await makeTempDir(t);
  const folder = path.join(root, 'processes');
  const runner = new CommandRunner({ sandbox: 'off', record: { folder, owner: 'goal #7', what: 'its check' } });
  defer(t, () => runner.killAll());
  await runner.run('sleep 1000 & echo $! > sleep.pid', { cwd: root });
  const [name, ...others] = await recordFiles(folder);
  assert.deepEqual(others, [], 'one record for the runner');
  const [header, group] = (await readFile(path.join(folder, name!), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(header!.owner, 'goal #7');
  assert.equal(header!.markerVariable, COMMAND_MARKER_VARIABLE);
  assert.equal(typeof header!.marker, 'string');
  assert.equal(group!.pid, runner.trackedGroups[0], 'the group that is still running (its background sleep)');
  // Its leader, the shell, is gone already: what is left is found by the marker (the start time was read at the spawn).
  assert.match(String(group!.startTime), /^\d+$/);
  assert.equal(await readFile(path.join(folder, '.gitignore'), 'utf8'), '*\n', 'the folder ignores itself in git');

  await runner.killAll();
  assert.deepEqual(await recordFiles(folder), [], 'nothing runs: no record');
});

test('reaping kills what a runner that was never stopped left (its group, and what left the group by setsid), logs it, and removes the record', async (t) => {
  const root = await makeTempDir(t);
  const folder = path.join(root, 'processes');
  // A runner whose daemon "died": killAll is never called (but after the test).
  const runner = new CommandRunner({ sandbox: 'off', record: { folder, owner: 'goal #3', what: "its agent's commands" } });
  defer(t, () => runner.killAll());
  await runner.run('sleep 1000 & echo $! > grouped.pid; setsid sleep 1000 & echo $! > escaped.pid', { cwd: root });
  const grouped = Number(await readFile(path.join(root, 'grouped.pid'), 'utf8'));
  const escaped = Number(await readFile(path.join(root, 'escaped.pid'), 'utf8'));
  const pgid = runner.trackedGroups[0]!;
  assert.ok(isGroupAlive(pgid));

  const logs: string[] = [];
  assert.equal(await reapRecordedProcesses(folder, (line) => logs.push(line)), 1);
  await waitFor(() => !isGroupAlive(pgid) && processStartTime(grouped) === null && processStartTime(escaped) === null, {
    message: 'the group and the escaped process to be gone',
  });
  assert.deepEqual(logs, ["goal #3: killed its agent's commands a stopped daemon or worker left running"]);
  assert.deepEqual(await recordFiles(folder), []);
});

test('a recorded pid whose process is not the one recorded (another start time) is not killed; the record goes all the same', async (t) => {
  const folder = await makeTempDir(t);
  const recycled = await sleeper(t);
  const recorded = await sleeper(t);
  const header = {
    what: 'a command',
    markerVariable: COMMAND_MARKER_VARIABLE,
    marker: 'gone-long-ago',
    startedAt: new Date().toISOString(),
  };
  await writeFile(
    path.join(folder, 'commands-a.json'),
    [header, { pid: recycled, startTime: '1' }, { pid: recorded, startTime: processStartTime(recorded) }, '{"pid": 12'] // the last line torn
      .map((line) => (typeof line === 'string' ? line : JSON.stringify(line)))
      .join('\n'),
  );
  // As an older Ralph wrote an agent's record: one line, its group at the top level.
  const legacy = await sleeper(t);
  await writeFile(
    path.join(folder, '4.json'),
    JSON.stringify({ goalId: 4, marker: 'm', pid: legacy, startTime: processStartTime(legacy) }),
  );

  assert.equal(await reapRecordedProcesses(folder, () => {}), 2);
  await waitFor(() => !isGroupAlive(recorded) && !isGroupAlive(legacy), { message: 'the recorded groups to be gone' });
  assert.ok(isGroupAlive(recycled), 'the process now holding a recorded pid lives');
  assert.deepEqual(await recordFiles(folder), []);
});

test('a command stopped while its record is being written never starts (an aborted signal fires no later abort)', async (t) => {
  const root = await makeTempDir(t);
  const runner = new CommandRunner({
    sandbox: 'off',
    record: { folder: path.join(root, 'processes'), owner: 'goal #5', what: 'a command' },
  });
  const controller = new AbortController();
  const running = runner.run('echo started > started.txt; exec sleep 1000', { cwd: root, signal: controller.signal });
  controller.abort(); // while the first command's record is awaited
  const result = await running;
  assert.equal(result.outcome, 'cancelled');
  assert.deepEqual(runner.trackedGroups, [], 'no process group was started');
  assert.deepEqual(await readdir(root).then((names) => names.filter((name) => name === 'started.txt')), []);
  await runner.killAll();
});

test('a command on its way to the spawn when killAll runs (its record being written) never starts', async (t) => {
  const root = await makeTempDir(t);
  const runner = new CommandRunner({
    sandbox: 'off',
    record: { folder: path.join(root, 'processes'), owner: 'goal #6', what: 'a command' },
  });
  defer(t, () => runner.killAll());
  const running = runner.run('echo started > started.txt; exec sleep 1000', { cwd: root });
  await runner.killAll(); // while the first command's record is awaited
  const result = await running;
  assert.equal(result.outcome, 'cancelled');
  assert.deepEqual(runner.trackedGroups, [], 'no process group was started');
  assert.deepEqual(await readdir(root).then((names) => names.filter((name) => name === 'started.txt')), []);
});

test('a hostile record (the repository’s .ralph is anyone’s) kills nothing but Ralph’s own: no foreign marker variable, no marker that is not Ralph’s, its words cleaned in the log', async (t) => {
  const folder = path.join(await makeTempDir(t), 'processes');
  await mkdir(folder, { recursive: true });
  // A process of the person's, carrying a variable a hostile record names.
  const victim = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore', env: { ...process.env, VICTIM_MARK: 'yes' } });
  defer(t, () => {
    if (isGroupAlive(victim.pid!)) signalGroup(victim.pid!, 'SIGKILL');
  });
  await writeFile(
    path.join(folder, 'foreign-variable.json'),
    `${JSON.stringify({ what: 'x\u001b]52;c;aGk=\u0007y'.repeat(50), markerVariable: 'VICTIM_MARK', marker: 'yes' })}\n`,
  );
  await writeFile(
    path.join(folder, 'not-a-marker.json'),
    `${JSON.stringify({ markerVariable: COMMAND_MARKER_VARIABLE, marker: 'yes' })}\n`,
  );
  const logged: string[] = [];
  assert.equal(await reapRecordedProcesses(folder, (line) => logged.push(line)), 2);
  assert.ok(isGroupAlive(victim.pid!), 'the person’s process lives');
  for (const line of logged) assert.ok(!/[\u0000-\u001f]/.test(line) && line.length < 300, line);
  assert.deepEqual(await recordFiles(folder), [], 'the records go');
});
