/**
 * The sandbox with real bubblewrap, real git worktrees and real files. The commands run as the
 * children of a stand-in daemon process (test/helpers/command-daemon.ts) whose own environment holds
 * the provider key, next to a `.ralph/daemon.json` holding a token: what an agent's command could
 * reach on a real machine. The policy is off (no deny rules) so the sandbox alone is what holds.
 * Skipped, saying why, where bwrap cannot run (CI installs it: .ci/run).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { GoalWorkspace } from '../pipeline/workspace.ts';
import { GIT_ENV, git, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { defer } from '../../test/helpers/defer.ts';
import { CommandPolicy } from './command-policy.ts';
import { CommandRunner } from './run-command.ts';
import { BwrapSandbox, describeSandbox, probeBwrap, resolveSandbox, type SandboxMode, type SandboxState } from './sandbox.ts';

const probe = await probeBwrap();
const skip = probe.active ? false : `bubblewrap cannot run here (${probe.reason})`;

const API_KEY = 'sk-sandbox-test-provider-key-4d1f';
const TOKEN = 'daemon-token-sandbox-test-77c2';
const CHILD = path.join(import.meta.dirname, '../../test/helpers/command-daemon.ts');

interface Setup {
  repo: string;
  worktree: string;
  daemonFile: string;
}

/** A repository with a daemon.json (as a running daemon leaves it) and goal 1's worktree, as the pipeline makes it. */
async function setUp(t: TestContext): Promise<Setup> {
  const repo = await makeTempRepo(t, { 'package.json': '{"name":"x","version":"1.0.0"}\n' });
  const daemonFile = path.join(repo, '.ralph', 'daemon.json');
  await mkdir(path.dirname(daemonFile), { recursive: true });
  await writeFile(daemonFile, JSON.stringify({ url: 'ws://127.0.0.1:1', token: TOKEN, pid: process.pid }), { mode: 0o600 });
  const worktreesRoot = await makeTempDir(t, 'ralph-worktrees-');
  const workspace = await GoalWorkspace.open({ repoRoot: repo, goalId: 1, worktreesRoot, env: GIT_ENV });
  return { repo, worktree: workspace.path, daemonFile };
}

interface ChildRun {
  sandbox: SandboxState;
  results: { command: string; exitCode: number | null; output: string }[];
}

/** Runs `commands` one after another as the children of a process that holds the provider key in its environment. */
async function runAsDaemonChildren(mode: SandboxMode, cwd: string, commands: string[]): Promise<ChildRun> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ mode, cwd, commands })], {
    env: { ...process.env, ...GIT_ENV, OPENAI_API_KEY: API_KEY },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ChildRun;
}

function newRunner(t: TestContext, timeoutMs = 60_000): CommandRunner {
  const runner = new CommandRunner({
    sandbox: 'bwrap',
    policy: new CommandPolicy({ deny: [] }),
    timeoutMs,
    env: { ...process.env, ...GIT_ENV },
  });
  defer(t, () => runner.killAll());
  return runner;
}

test("a sandboxed command cannot read the daemon's environment or its token file; without the sandbox it can", { skip }, async (t) => {
  const { repo, worktree, daemonFile } = await setUp(t);
  const attacks = [
    'cat /proc/$PPID/environ',
    'cat /proc/*/environ',
    'for p in /proc/[0-9]*; do cat $p/environ; done',
    `cat ${daemonFile}`,
    `grep -r token ${path.join(repo, '.ralph')}`,
    `cat ${path.join(repo, '.git', '..', '.ralph', 'daemon.json')}`,
  ];
  const sandboxed = await runAsDaemonChildren('bwrap', worktree, attacks);
  assert.deepEqual(sandboxed.sandbox, { active: true, kind: 'bwrap' });
  for (const { command, output } of sandboxed.results) {
    assert.doesNotMatch(output, new RegExp(API_KEY), `${command} read the provider key`);
    assert.doesNotMatch(output, new RegExp(TOKEN), `${command} read the daemon's token`);
  }

  // The same commands as the daemon's plain children: the attacks are real.
  const plain = await runAsDaemonChildren('off', worktree, attacks);
  // One of the three reads suffices: on a busy machine `cat /proc/*/environ` may hit the output cap before the daemon's.
  const environReads = plain.results.slice(0, 3).map((result) => result.output);
  assert.ok(
    environReads.some((output) => new RegExp(API_KEY).test(output)),
    "without the sandbox the daemon's environment is readable",
  );
  assert.match(plain.results[3]!.output, new RegExp(TOKEN), 'without the sandbox daemon.json is readable');
});

test("in the sandbox git refs, HEAD, config, the worktree's .git file and everything outside the worktree are read-only; the harness sees nothing changed", {
  skip,
}, async (t) => {
  const { repo, worktree } = await setUp(t);
  const commonDir = path.join(repo, '.git');
  const gitDir = path.join(commonDir, 'worktrees', path.basename(worktree));
  const refsBefore = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)');
  const headBefore = await readFile(path.join(gitDir, 'HEAD'), 'utf8');
  const configBefore = await readFile(path.join(commonDir, 'config'), 'utf8');
  const dotGitBefore = await readFile(path.join(worktree, '.git'), 'utf8');
  const home = os.homedir();
  const runner = newRunner(t);
  const attempts = [
    'git update-ref refs/heads/main HEAD~0',
    'git branch stolen',
    'git tag v9',
    "git -c user.name=x -c user.email=x@x commit --allow-empty -m 'sneaked in'",
    `echo 0000000000000000000000000000000000000000 > ${path.join(commonDir, 'refs', 'heads', 'main')}`,
    `echo 'deadbeef refs/heads/evil' >> ${path.join(commonDir, 'packed-refs')}`,
    `echo 'ref: refs/heads/main' > ${path.join(gitDir, 'HEAD')}`,
    `printf '[alias]\\n\\tp = push\\n[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' >> ${path.join(commonDir, 'config')}`,
    `echo 'echo pwned' > ${path.join(commonDir, 'hooks', 'pre-commit')}`,
    // Pointing the worktree at a git directory of its own making would hand the harness's git its config.
    `git init -q evil && echo "gitdir: ${path.join(worktree, 'evil', '.git')}" > .git`,
    'rm -f .git',
    `printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > ${path.join(gitDir, 'config.worktree')}`,
    `touch ${path.join(repo, 'outside-the-worktree.txt')}`,
    `touch ${path.join(home, `.ralph-sandbox-test-${process.pid}`)}`,
  ];
  for (const command of attempts) {
    const result = await runner.run(command, { cwd: worktree });
    assert.equal(result.outcome, 'exited', command);
    // Writes under the host's /tmp land in the sandbox's private /tmp: gone with it, so the exit code may be 0.
    if (!command.startsWith('touch')) assert.notEqual(result.exitCode, 0, `${command} must fail:\n${result.output}`);
  }
  assert.equal(git(repo, 'for-each-ref', '--format=%(refname) %(objectname)'), refsBefore, 'no ref changed');
  assert.equal(await readFile(path.join(gitDir, 'HEAD'), 'utf8'), headBefore);
  assert.equal(await readFile(path.join(commonDir, 'config'), 'utf8'), configBefore);
  assert.equal(
    await readFile(path.join(worktree, '.git'), 'utf8'),
    dotGitBefore,
    "the worktree's .git file still points at its git directory",
  );
  assert.equal(existsSync(path.join(commonDir, 'hooks', 'pre-commit')), false);
  assert.equal(readFileSync(path.join(gitDir, 'config.worktree'), 'utf8'), '', "the worktree's own config stays empty");
  assert.equal(existsSync(path.join(repo, 'outside-the-worktree.txt')), false);
  assert.equal(existsSync(path.join(home, `.ralph-sandbox-test-${process.pid}`)), false);
});

test('in the sandbox the work itself works: files, git add/status/diff, /tmp, npm-like caches', { skip }, async (t) => {
  const { worktree } = await setUp(t);
  const runner = newRunner(t);
  const scratch = `/tmp/ralph-sandbox-scratch-${process.pid}.txt`;
  const result = await runner.run(
    [
      'mkdir -p src && echo "export const x = 1;" > src/x.ts',
      'git add -A && git status --porcelain',
      'git diff --cached --stat',
      `echo scratch > ${scratch} && cat ${scratch}`,
      'echo cached > "$npm_config_cache/probe" && cat "$npm_config_cache/probe"',
      "node -e \"require('fs').writeFileSync('built.txt', 'ok')\" && cat built.txt",
    ].join(' && '),
    { cwd: worktree },
  );
  assert.equal(result.exitCode, 0, result.output);
  assert.match(result.output, /^A {2}src\/x\.ts$/m);
  assert.match(result.output, /src\/x\.ts \| 1 \+/);
  assert.match(result.output, /^scratch\ncached\nok$/m);
  assert.equal(readFileSync(path.join(worktree, 'src', 'x.ts'), 'utf8'), 'export const x = 1;\n');
  // The harness's own view: the agent's `git add` staged it in the worktree's index.
  assert.equal(git(worktree, 'diff', '--cached', '--name-only'), 'src/x.ts');
  assert.equal(existsSync(scratch), false, "the sandbox's /tmp is its own");
});

test('in the sandbox the usual homes of credentials are empty; the rest of home stays readable', { skip }, async (t) => {
  const { worktree } = await setUp(t);
  // Home inside the sandbox's writable cache folder: otherwise the sandbox's private /tmp would hide it anyway.
  const cacheDir = await makeTempDir(t, 'ralph-sandbox-cache-');
  const home = path.join(cacheDir, 'home');
  await mkdir(path.join(home, '.ssh'), { recursive: true });
  await mkdir(path.join(home, '.config', 'gh'), { recursive: true });
  await writeFile(path.join(home, '.ssh', 'id_ed25519'), 'PRIVATE-KEY-sandbox-test\n');
  await writeFile(path.join(home, '.npmrc'), '//registry.npmjs.org/:_authToken=npm_sandboxtesttoken\n');
  await writeFile(path.join(home, '.config', 'gh', 'hosts.yml'), 'oauth_token: gho_sandboxtesttoken\n');
  await writeFile(path.join(home, '.gitconfig'), '[user]\n\tname = Visible\n');
  const sandbox = new BwrapSandbox({ cacheDir, home });
  const plan = sandbox.wrap(
    [
      'bash',
      '-c',
      `cat ${home}/.ssh/id_ed25519 ${home}/.npmrc ${home}/.config/gh/hosts.yml ${home}/.gitconfig 2>&1; echo "[$(ls -A ${home}/.ssh)]"`,
    ],
    worktree,
  );
  const { stdout } = await promisify(execFile)(plan.file, plan.args, { cwd: worktree, env: { ...process.env, ...plan.env } });
  assert.doesNotMatch(stdout, /PRIVATE-KEY|npm_sandboxtesttoken|gho_sandboxtesttoken/);
  assert.doesNotMatch(stdout, /\.npmrc/, 'the hidden .npmrc reads as an empty file, not an error');
  assert.match(stdout, /name = Visible/);
  assert.match(stdout, /^\[\]$/m, '~/.ssh is an empty folder');
  // Outside, nothing was touched.
  assert.equal(readFileSync(path.join(home, '.ssh', 'id_ed25519'), 'utf8'), 'PRIVATE-KEY-sandbox-test\n');
});

/** Pids of living processes whose command line is exactly `argv`. */
function processesRunning(...argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted) found.push(Number(entry));
    } catch {
      // exited
    }
  }
  return found;
}

test('in the sandbox nothing a command started outlives it: setsid, nohup and double forks included', { skip }, async (t) => {
  const { worktree } = await setUp(t);
  const runner = newRunner(t);
  const seconds = String(3000 + (process.pid % 1000));
  const result = await runner.run(
    `setsid sleep ${seconds} & nohup sleep ${seconds} >/dev/null 2>&1 & (sleep ${seconds} &) ; echo started`,
    { cwd: worktree },
  );
  assert.equal(result.output, 'started\n');
  await waitFor(() => processesRunning('sleep', seconds).length === 0, { timeoutMs: 10_000, message: `every sleep ${seconds} to be gone` });
});

test('without the sandbox a setsid process that left the group still ends with the iteration (killAll)', async (t) => {
  const root = await makeTempDir(t);
  const runner = new CommandRunner({ sandbox: 'off' });
  defer(t, () => runner.killAll());
  const seconds = String(4000 + (process.pid % 1000));
  const result = await runner.run(`setsid sleep ${seconds} > /dev/null 2>&1 & echo started`, { cwd: root });
  assert.equal(result.output, 'started\n');
  await waitFor(() => processesRunning('sleep', seconds).length === 1, { timeoutMs: 10_000, message: 'the setsid sleep to run' });
  await runner.killAll();
  await waitFor(() => processesRunning('sleep', seconds).length === 0, { timeoutMs: 10_000, message: 'the setsid sleep to be gone' });
});

test('a sandboxed command told to wait starts once told, and sees the commit made while its sandbox waited', { skip }, async (t) => {
  const { worktree } = await setUp(t);
  const runner = newRunner(t);
  let go!: () => void;
  const gate = new Promise<void>((resolve) => (go = resolve));
  const running = runner.run('git log -1 --format=%s; git status --porcelain; cat; echo "stdin: end"', { cwd: worktree, startWhen: gate });
  await writeFile(path.join(worktree, 'late.txt'), 'late\n');
  git(worktree, 'add', 'late.txt');
  git(worktree, 'commit', '-q', '-m', 'committed while it waited');
  go();
  const result = await running;
  assert.equal(result.outcome, 'exited');
  assert.equal(result.output, 'committed while it waited\nstdin: end\n');
});

test('a sandboxed command that runs too long is killed with everything it started', { skip }, async (t) => {
  const { worktree } = await setUp(t);
  const runner = newRunner(t, 300);
  const seconds = String(5000 + (process.pid % 1000));
  const result = await runner.run(`setsid sleep ${seconds} & sleep ${seconds}`, { cwd: worktree });
  assert.equal(result.outcome, 'timed-out');
  await waitFor(() => processesRunning('sleep', seconds).length === 0, { timeoutMs: 10_000, message: 'every sleep to be gone' });
});

test("sandbox modes: 'off' never probes; 'bwrap' is bwrap or an error; 'auto' falls back saying why", { skip }, async () => {
  assert.deepEqual((await resolveSandbox('off', 'ralph-no-such-bwrap')).state, {
    active: false,
    reason: 'executor.commands.sandbox is off',
  });
  assert.equal((await resolveSandbox('bwrap')).sandbox?.kind, 'bwrap');
  assert.deepEqual((await resolveSandbox('auto')).state, { active: true, kind: 'bwrap' });

  const missing = await resolveSandbox('auto', 'ralph-no-such-bwrap');
  assert.equal(missing.sandbox, null);
  assert.deepEqual(missing.state, { active: false, reason: 'bwrap is not installed (Debian, Ubuntu: apt install bubblewrap)' });
  assert.equal(
    describeSandbox(missing.state),
    'commands run without a sandbox: bwrap is not installed (Debian, Ubuntu: apt install bubblewrap)',
  );
  await assert.rejects(resolveSandbox('bwrap', 'ralph-no-such-bwrap'), /executor\.commands\.sandbox is 'bwrap' but bwrap is not installed/);
});
