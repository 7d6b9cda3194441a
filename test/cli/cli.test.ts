/**
 * The `ralph` command line end to end: real `tui/bin/ralph.js` processes in a temporary git
 * repository, talking to a real daemon that the first command starts in the background.
 * The steps share one repository and one daemon (each Node start costs time), so they run in order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isProcessAlive, readDaemonFile, type Goal, type LogEntry } from '../../protocol/index.ts';
import { RALPH_BIN, cliEnv, failedWith, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

import { waitFor } from '../helpers/wait.ts';
import { defer } from '../helpers/defer.ts';

describe('ralph command line', () => {
  let repo = '';
  let subfolder = '';
  // The daemon's pipeline is paused: these steps are about the command line, and queued goals must stay queued.
  const startsDaemon = () => cliEnv({ RALPH_PIPELINE: 'paused' });

  before(async () => {
    repo = await makeTempRepo(undefined);
    subfolder = path.join(repo, 'src', 'deep');
    await mkdir(subfolder, { recursive: true });
  });

  after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });

  it('outside a git repository fails with exit 1 and says so', async (t) => {
    const outside = await makeTempDir(t, 'ralph-not-a-repo-');
    failedWith(await ralph(['goal', 'list'], { cwd: outside }), 1, new RegExp(`not inside a git repository: ${escapeRegExp(outside)}`));
  });

  it('bad usage exits 2 with one line, and starts no daemon', async () => {
    failedWith(await ralph(['frobnicate', '--repo', repo], { cwd: repo }), 2, /unknown command 'frobnicate'/);
    failedWith(await ralph(['goal', 'list', '--bogus'], { cwd: repo }), 2, /unknown option '--bogus'/);
    failedWith(await ralph(['goal', 'show', 'abc'], { cwd: repo }), 2, /a goal ID is a positive integer, not 'abc'/);
    failedWith(await ralph(['goal', 'queue'], { cwd: repo }), 2, /missing argument ID/);
    failedWith(await ralph(['goal', 'add', '--title', 'T', '--spec', 'x', '--spec-file', 'y'], { cwd: repo }), 2, /not both/);
    assert.equal(existsSync(path.join(repo, '.ralph', 'daemon.json')), false, 'no daemon was started');

    const help = succeeded(await ralph(['goal', 'add', '--help'], { cwd: repo }));
    assert.match(help, /^Usage: ralph goal add --title T/);
    failedWith(await ralph(['research'], { cwd: repo }), 2, /missing argument QUESTION/);
  });

  it('the first command starts the daemon in the background; goal add prints the new id', async () => {
    const run = await ralph(['goal', 'add', '--title', 'First goal', '--repo', repo], { cwd: path.dirname(repo), env: startsDaemon() });
    assert.equal(succeeded(run), '1\n');
    const file = await readDaemonFile(repo);
    assert.ok(file, 'daemon.json written');
    assert.ok(isProcessAlive(file.pid), 'the daemon outlives the command that started it');
  });

  it('goal add --queue from a subfolder, with the spec from stdin; show --json is the goal', async () => {
    const spec = '## Objective\n\nShip the CLI.\n';
    const added = await ralph(['goal', 'add', '--title', 'Second', '--queue', '--spec-file', '-'], { cwd: subfolder, input: spec });
    assert.equal(succeeded(added), '2\n');

    const goal = JSON.parse(succeeded(await ralph(['goal', 'show', '2', '--json'], { cwd: subfolder }))) as Goal;
    assert.equal(goal.id, 2);
    assert.equal(goal.title, 'Second');
    assert.equal(goal.state, 'queued');
    assert.equal(goal.spec, spec);
    for (const field of ['createdAt', 'updatedAt', 'attempts', 'usage', 'history']) assert.ok(field in goal, `has ${field}`);

    const human = succeeded(await ralph(['goal', 'show', '#2'], { cwd: repo }));
    assert.match(human, /^#2 Second\nstate\s+queued/);
    assert.match(human, /Ship the CLI\./);
    assert.match(human, /queue\s+draft → queued/);
  });

  it('goal list: a table grouped by state, and --json an array of goals', async () => {
    const table = succeeded(await ralph(['goal', 'list'], { cwd: repo })).split('\n');
    assert.match(table[0]!, /^ID\s+STATE\s+TITLE\s+UPDATED$/);
    const second = table.findIndex((line) => /^#2\s+queued\s+Second\s/.test(line));
    const first = table.findIndex((line) => /^#1\s+draft\s+First goal\s/.test(line));
    assert.ok(second > 0 && first > second + 1, `queued group, a blank line, then drafts:\n${table.join('\n')}`);
    assert.equal(table[first - 1], '');

    const goals = JSON.parse(succeeded(await ralph(['goal', 'list', '--json'], { cwd: repo }))) as Goal[];
    assert.ok(Array.isArray(goals));
    assert.deepEqual(goals.map((goal) => [goal.id, goal.state]).sort(), [
      [1, 'draft'],
      [2, 'queued'],
    ]);
  });

  it('transitions: legal ones print from → to, illegal ones exit 1 with the reason', async () => {
    assert.equal(succeeded(await ralph(['goal', 'queue', '1'], { cwd: repo })), 'goal #1: draft → queued\n');
    failedWith(await ralph(['goal', 'queue', '1'], { cwd: repo }), 1, /goal #1 is queued: cannot queue/);
    failedWith(await ralph(['goal', 'pause', '1'], { cwd: repo }), 1, /goal #1 is queued: cannot pause/);
    failedWith(await ralph(['goal', 'retry', '1'], { cwd: repo }), 1, /goal #1 is queued: cannot retry/);
    failedWith(await ralph(['goal', 'show', '99'], { cwd: repo }), 1, /goal #99 does not exist/);

    const cancelled = JSON.parse(succeeded(await ralph(['goal', 'cancel', '2', '--json'], { cwd: repo }))) as Goal;
    assert.equal(cancelled.state, 'cancelled');
    failedWith(await ralph(['goal', 'cancel', '2'], { cwd: repo }), 1, /goal #2 is cancelled: cannot cancel/);

    // Only the executor makes goals run or get stuck; a hand edit of the goal file (which the daemon
    // reads before every change) puts goals there for pause and retry.
    assert.equal(succeeded(await ralph(['goal', 'add', '--title', 'Third'], { cwd: repo })), '3\n');
    assert.equal(succeeded(await ralph(['goal', 'add', '--title', 'Fourth'], { cwd: repo })), '4\n');
    const shown = JSON.parse(succeeded(await ralph(['goal', 'show', '3', '--json'], { cwd: repo }))) as Goal;
    const goalsDir = path.join(repo, '.ralph', 'goals');
    await writeFile(path.join(goalsDir, '3.json'), `${JSON.stringify({ ...shown, state: 'running' }, null, 2)}\n`);
    await writeFile(path.join(goalsDir, '4.json'), `${JSON.stringify({ ...shown, id: 4, title: 'Fourth', state: 'stuck' }, null, 2)}\n`);
    assert.equal(succeeded(await ralph(['goal', 'pause', '3'], { cwd: repo })), 'goal #3: running → paused\n');
    assert.equal(succeeded(await ralph(['goal', 'retry', '4'], { cwd: repo })), 'goal #4: stuck → queued\n');
  });

  it('logs shows the transitions; --json prints one entry per line', async () => {
    const text = succeeded(await ralph(['logs', '1'], { cwd: repo }));
    assert.match(text, /created\s+created as draft/);
    assert.match(text, /transition\s+draft → queued/);

    const lines = succeeded(await ralph(['logs', '1', '--json'], { cwd: repo }))
      .trim()
      .split('\n');
    const entries = lines.map((line) => JSON.parse(line) as LogEntry);
    assert.deepEqual(
      entries.map((entry) => entry.index),
      entries.map((_, i) => i),
    );
    assert.ok(entries.some((entry) => entry.kind === 'transition' && entry.text === 'draft → queued'));
    failedWith(await ralph(['logs', '99'], { cwd: repo }), 1, /goal #99 does not exist/);
  });

  it('logs --follow prints new entries as other commands change the goal, across a daemon restart', async (t) => {
    const follower = spawn(process.execPath, [RALPH_BIN, 'logs', '3', '--follow'], {
      cwd: repo,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    defer(t, () => {
      if (follower.exitCode === null && follower.signalCode === null) follower.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    follower.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    follower.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const printed = (text: string) =>
      waitFor(() => stdout.includes(text), { timeoutMs: 10_000, message: `'${text}' (stdout: ${stdout}; stderr: ${stderr})` });

    await printed('running → paused');
    assert.doesNotMatch(stdout, /paused → queued/);
    assert.equal(succeeded(await ralph(['goal', 'queue', '3'], { cwd: repo })), 'goal #3: paused → queued\n');
    await printed('paused → queued');

    // A restarted daemon has a new port and token: the follower finds it through daemon.json.
    succeeded(await ralph(['daemon', 'stop'], { cwd: repo }));
    succeeded(await ralph(['daemon', 'start'], { cwd: repo, env: startsDaemon() }));
    assert.equal(succeeded(await ralph(['goal', 'cancel', '3'], { cwd: repo })), 'goal #3: queued → cancelled\n');
    await printed('queued → cancelled');

    follower.kill('SIGINT');
    assert.equal(await exited, 0, 'Ctrl+C ends --follow cleanly');
    for (const step of ['running → paused', 'paused → queued', 'queued → cancelled']) {
      assert.equal(stdout.split(step).length - 1, 1, `'${step}' printed once`);
    }
    assert.match(stderr, /reconnecting/);
  });

  it('daemon status --json describes the running daemon; daemon start says it already runs', async () => {
    const file = await readDaemonFile(repo);
    assert.ok(file);
    const status = JSON.parse(succeeded(await ralph(['daemon', 'status', '--json'], { cwd: repo }))) as {
      daemon: { pid: number };
      url: string;
      repo: { root: string };
      goals: Record<string, number>;
      clients: { name: string }[];
    };
    assert.equal(status.daemon.pid, file.pid);
    assert.equal(status.url, file.url);
    assert.equal(status.repo.root, repo);
    assert.deepEqual(
      { cancelled: status.goals.cancelled, paused: status.goals.paused, queued: status.goals.queued },
      { cancelled: 2, paused: 0, queued: 2 },
    );
    assert.ok(status.clients.some((client) => client.name === 'cli'));

    const start = JSON.parse(succeeded(await ralph(['daemon', 'start', '--json'], { cwd: repo })));
    assert.deepEqual(start, { running: true, started: false, url: file.url, pid: file.pid });
  });

  it('daemon stop removes daemon.json and waits until the daemon is gone', async () => {
    const file = await readDaemonFile(repo);
    assert.ok(file);
    assert.equal(succeeded(await ralph(['daemon', 'stop'], { cwd: repo })), `daemon stopped (pid ${file.pid})\n`);
    assert.equal(isProcessAlive(file.pid), false);
    assert.equal(await readDaemonFile(repo), null);

    failedWith(await ralph(['daemon', 'status'], { cwd: repo }), 1, new RegExp(`no daemon serves ${escapeRegExp(repo)}$`));
    assert.equal(succeeded(await ralph(['daemon', 'stop'], { cwd: repo })), `no daemon serves ${repo}\n`);
  });
});
