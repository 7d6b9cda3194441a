/**
 * run_command with real processes. "Gone" means no living process is left in the command's
 * process group (isGroupAlive: process.kill(-pgid, 0), with zombies not counted, since in some
 * containers init collects orphaned zombies only every few seconds).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { CommandPolicy } from './command-policy.ts';
import { isGroupAlive } from './process-group.ts';
import { CommandRunner, commandEnvironment, runCommandTool, type CommandRunnerOptions } from './run-command.ts';
import { formatBytes } from '../../protocol/index.ts';
import { runTool } from './tool.ts';
import { defer } from '../../test/helpers/defer.ts';

/** What cancelling promises: a cancelled command's whole process group is gone within 2 s. */
const KILL_CONTRACT_MS = 2000;

/** The plain process-group runner (the sandbox has its own tests: sandbox.test.ts). */
function newRunner(t: TestContext, options: CommandRunnerOptions = {}): CommandRunner {
  const runner = new CommandRunner({ sandbox: 'off', ...options });
  defer(t, () => runner.killAll());
  return runner;
}

/** The one process group the runner started (its id is the shell's pid). */
function onlyGroup(runner: CommandRunner): number {
  assert.equal(runner.trackedGroups.length, 1);
  return runner.trackedGroups[0]!;
}

test('a command runs in the workspace; output (stdout and stderr in order) and exit code come back', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const result = await runner.run('pwd; echo out; echo err >&2; echo out again; exit 3', { cwd: root });
  assert.equal(result.outcome, 'exited');
  assert.equal(result.exitCode, 3);
  assert.equal(result.signal, null);
  assert.equal(result.output, `${root}\nout\nerr\nout again\n`);
  assert.equal(result.omittedBytes, 0);
  assert.ok(result.durationMs >= 0);
});

test('stdin is closed: a command that reads input gets end-of-file at once', async (t) => {
  const root = await makeTempDir(t);
  const result = await newRunner(t).run('cat; echo "read: done"', { cwd: root });
  assert.equal(result.output, 'read: done\n');
});

test('a command told to wait (startWhen) starts once it resolves, stdin closed, its timeout counted from then', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t, { timeoutMs: 1000 });
  let go!: () => void;
  const gate = new Promise<void>((resolve) => (go = resolve));
  const running = runner.run('cat written.txt; cat; echo "stdin: end"; exit 4', { cwd: root, startWhen: gate });
  const pgid = onlyGroup(runner);
  // Waiting longer than its timeout: the wait is not its run.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await writeFile(path.join(root, 'written.txt'), 'written before the go\n');
  go();
  const result = await running;
  assert.equal(result.outcome, 'exited');
  assert.equal(result.exitCode, 4);
  assert.equal(result.output, 'written before the go\nstdin: end\n');
  assert.equal(isGroupAlive(pgid), false);
});

test('a command whose startWhen rejects never runs: it comes back cancelled, its process group gone', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const result = await runner.run('touch ran.txt', { cwd: root, startWhen: Promise.reject(new Error('the commit failed')) });
  assert.equal(result.outcome, 'cancelled');
  assert.equal(existsSync(path.join(root, 'ran.txt')), false);
  assert.deepEqual(runner.trackedGroups.filter(isGroupAlive), []);
});

test('the output cap keeps the head and the tail and says how much was cut', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t, { outputLimitBytes: 2048 });
  const result = await runner.run('seq 1 100000', { cwd: root });
  const full = Array.from({ length: 100000 }, (_, index) => `${index + 1}\n`).join('');
  assert.equal(result.outputBytes, full.length);
  const [head, note, tail] = result.output.split(/^(….*…)\n/m);
  assert.equal(note, `… [${formatBytes(result.omittedBytes)} cut from the middle: the output was ${formatBytes(full.length)}] …`);
  // Whole lines on both sides of the cut, and nothing else missing.
  assert.ok(full.startsWith(head!) && head!.startsWith('1\n2\n3\n') && head!.endsWith('\n'), 'head kept');
  assert.ok(full.endsWith(tail!) && tail!.endsWith('99999\n100000\n') && /^\d+\n/.test(tail!), 'tail kept');
  assert.equal(result.omittedBytes, full.length - head!.length - tail!.length);
  assert.ok(head!.length + tail!.length <= 2048 && head!.length + tail!.length > 1800);
});

test('the command environment has no provider key or Ralph secrets', async (t) => {
  const root = await makeTempDir(t);
  const env = {
    ...process.env,
    OPENAI_API_KEY: 'sk-test-openai-key',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    RALPH_API_TOKEN: 'ralph-secret',
    RALPH_MODEL: 'gpt-test',
    PROVIDER_KEY_COPY: 'sk-configured-key',
    HARMLESS: 'kept',
  };
  const runner = newRunner(t, { env, secrets: ['sk-configured-key'] });
  const result = await runner.run('env', { cwd: root });
  assert.doesNotMatch(result.output, /OPENAI_|sk-test-openai-key|ralph-secret|sk-configured-key/);
  assert.match(result.output, /^HARMLESS=kept$/m);
  assert.match(result.output, /^RALPH_MODEL=gpt-test$/m);
  assert.match(result.output, /^PATH=/m);
  assert.equal(commandEnvironment({ OPENAI_API_KEY: 'x', PATH: '/bin' }).OPENAI_API_KEY, undefined);
});

test('a denied command is refused without running, naming the rule', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const result = await runner.run('touch ran.txt && git push origin main', { cwd: root });
  assert.equal(result.outcome, 'refused');
  assert.deepEqual(result.decision, { allowed: false, rule: 'deny: git push', command: 'git push origin main' });
  assert.equal(existsSync(path.join(root, 'ran.txt')), false, 'no part of the line ran');
  assert.deepEqual(runner.trackedGroups, []);

  const custom = newRunner(t, { policy: new CommandPolicy({ allow: ['echo *'] }) });
  assert.equal((await custom.run('ls', { cwd: root })).outcome, 'refused');
  assert.equal((await custom.run('echo fine', { cwd: root })).output, 'fine\n');
});

test('the timeout kills the whole process group', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t, { timeoutMs: 300 });
  const running = runner.run('sleep 100 & echo $! > background.pid; sleep 100; wait', { cwd: root });
  const pgid = onlyGroup(runner);
  const result = await running;
  assert.equal(result.outcome, 'timed-out');
  assert.equal(result.exitCode, null);
  assert.equal(isGroupAlive(pgid), false, 'nothing of the group is left');
  const backgroundPid = Number(await readFile(path.join(root, 'background.pid'), 'utf8'));
  assert.ok(backgroundPid > 0);
});

test('aborting during `sleep 100` kills the process group (and what it spawned) within 2 s', async (t) => {
  const root = await makeTempDir(t);
  for (const command of [
    'touch started; sleep 100',
    'touch started; sleep 100 & sleep 100; wait',
    "trap '' TERM; touch started; sleep 100",
  ]) {
    const runner = newRunner(t);
    const controller = new AbortController();
    const running = runner.run(command, { cwd: root, signal: controller.signal });
    const pgid = onlyGroup(runner);
    await waitFor(() => existsSync(path.join(root, 'started')), { timeoutMs: 10_000, message: `${command} to start` });
    await waitFor(() => isGroupAlive(pgid), { message: 'the group to be alive' });

    controller.abort();
    const abortedAt = Date.now();
    await waitFor(() => !isGroupAlive(pgid), {
      timeoutMs: KILL_CONTRACT_MS,
      intervalMs: 10,
      message: `the group of ${JSON.stringify(command)} to be gone`,
    });
    const result = await running;
    assert.equal(result.outcome, 'cancelled', command);
    assert.ok(Date.now() - abortedAt < KILL_CONTRACT_MS + 3000, 'the result comes back soon after the kill');
    await rm(path.join(root, 'started'));
  }
});

test('killAll kills a backgrounded process whose shell already exited', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const result = await runner.run('sleep 300 > /dev/null 2>&1 & echo $!', { cwd: root });
  assert.equal(result.outcome, 'exited');
  assert.equal(result.exitCode, 0);
  const sleepPid = Number(result.output.trim());
  const pgid = onlyGroup(runner);
  assert.notEqual(sleepPid, pgid, 'the sleep is not the shell');
  assert.equal(isGroupAlive(pgid), true, 'the background sleep outlived its shell');

  await runner.killAll();
  assert.equal(isGroupAlive(pgid), false);
  assert.deepEqual(runner.trackedGroups, []);
});

test('a background process holding the output open does not keep the command from finishing', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const result = await runner.run('sleep 300 & echo started', { cwd: root });
  assert.equal(result.outcome, 'exited');
  assert.equal(result.output, 'started\n');
});

test('killAll cancels a command that is still running', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const running = runner.run('touch started; sleep 100', { cwd: root });
  await waitFor(() => existsSync(path.join(root, 'started')), { timeoutMs: 10_000, message: 'the command to start' });
  await runner.killAll();
  const result = await running;
  assert.equal(result.outcome, 'cancelled');
});

test('run_command as a tool: the model reads output and status; refusals are errors', async (t) => {
  const root = await makeTempDir(t);
  const runner = newRunner(t);
  const tool = runCommandTool(runner);
  const activity: string[] = [];
  const ctx = { root, signal: new AbortController().signal, onActivity: (what: string) => activity.push(what) };

  const ok = await runTool(tool, JSON.stringify({ command: 'echo hello; exit 2' }), ctx);
  assert.equal(ok.isError, false);
  assert.match(ok.output, /^hello\n\[exit code 2 · \d+\.\d s\]$/);
  assert.match(ok.summary, /^ran echo hello; exit 2: exit code 2/);
  assert.deepEqual(activity, ['running echo hello; exit 2']);

  const refused = await runTool(tool, JSON.stringify({ command: 'git commit -am wip' }), ctx);
  assert.equal(refused.isError, true);
  assert.match(refused.output, /refused by the command policy \(deny: git commit\): git commit -am wip/);
});

test('run_command refuses the policy walk-arounds without running them, and tells the model what to write instead', async (t) => {
  const root = await makeTempDir(t);
  const tool = runCommandTool(newRunner(t));
  const ctx = { root, signal: new AbortController().signal };
  const cases: [string, RegExp][] = [
    [
      'touch ran; G=git; $G push',
      /\(computed command word\): \$G push\nthe command word is computed at run time \(\$G\); write the program's name out\.$/,
    ],
    ['touch ran; $(echo git) push', /\(computed command word\)/],
    ['touch ran; `echo git` push', /\(computed command word\)/],
    [
      'touch ran; printf "git push" | bash',
      /\(shell fed from a pipe\): bash\nbash would run commands read from a pipe; write them out \(bash -c '…'\)\.$/,
    ],
    ['touch ran; bash <<< "git push"', /\(deny: git push\): git push\nThe harness manages git/],
    ['touch ran; source <(echo git push)', /\(computed script\)/],
    [
      'touch ran; git -c alias.p=push p',
      /\(git configuration\): git -c alias\.p=push p\n-c alias\.p=push defines a git command at run time/,
    ],
    ['touch ran; git send-pack origin main', /\(deny: git send-pack\)/],
    ['touch ran; git fast-import < stream', /\(deny: git fast-import\)/],
    ['touch ran; doas true', /\(deny: doas\)/],
    ['touch ran; pkexec true', /\(deny: pkexec\)/],
    ['touch ran; runuser -u root true', /\(deny: runuser\)/],
    ['touch ran; setpriv --reuid=0 true', /\(deny: setpriv\)/],
  ];
  for (const [command, expected] of cases) {
    const result = await runTool(tool, JSON.stringify({ command }), ctx);
    assert.equal(result.isError, true, command);
    assert.match(result.output, expected, command);
    assert.equal(existsSync(path.join(root, 'ran')), false, `no part of ${JSON.stringify(command)} ran`);
  }
});
