/**
 * Notifications from a real daemon: goals become done or stuck through the goal store and land
 * through its log, as the pipeline and the landing make them; the config's hook and a
 * `notify-send` (a script on the daemon's PATH that records its arguments) are real programs,
 * and the clients are real WebSocket clients (one named as the TUI names itself).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TUI_CLIENT_NAME, type EventData } from '../../protocol/index.ts';
import type { TestDaemon } from '../helpers/daemon.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { recordEvents } from '../helpers/events.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

/** A secret in the daemon's environment: no notifier may get it. */
const SECRET = 'xoxb-notify-secret-1234567890';

interface Scene {
  td: TestDaemon;
  /** What the hook read on stdin, one JSON object a line. */
  hookLines(): Promise<Record<string, unknown>[]>;
  /** The hook's environment, as `env` printed it the last time it ran. */
  hookEnv(): Promise<string>;
  /** The arguments of each `notify-send`, one call a line (tab-separated). */
  notifySendCalls(): Promise<string[][]>;
}

async function readLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

/** A daemon whose config's `notify` section is `notify` (`HOOK` in `command` is the recording hook). */
async function scene(t: TestContext, notify: Record<string, unknown>, hookScript?: string): Promise<Scene> {
  const dir = await makeTempDir(t, 'ralph-notify-');
  const bin = path.join(dir, 'bin');
  const hook = path.join(dir, 'hook.sh');
  const hookOut = path.join(dir, 'hook.jsonl');
  const sendOut = path.join(dir, 'notify-send.txt');
  await writeFile(hook, hookScript ?? `#!/bin/sh\ncat >> "$1"\nenv > "$1.env"\n`);
  await chmod(hook, 0o755);
  await mkdir(bin);
  // The desktop's notifier, recording its arguments (tab-separated, one call a line).
  await writeFile(path.join(bin, 'notify-send'), `#!/bin/sh\n(IFS='\t'; printf '%s\\n' "$*") >> ${JSON.stringify(sendOut)}\n`);
  await chmod(path.join(bin, 'notify-send'), 0o755);
  const config = { notify: { ...notify, ...(notify.command ? { command: [hook, hookOut] } : {}) } };
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': `export default ${JSON.stringify(config)};\n` });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  // The recording notify-send first on PATH: a real one must never show a test's notifications.
  const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin`, SLACK_TOKEN: SECRET };
  const td = await startTestDaemon(t, repo, { env, desktopNotifier: 'notify-send' });
  return {
    td,
    hookLines: async () => (await readLines(hookOut)).map((line) => JSON.parse(line) as Record<string, unknown>),
    hookEnv: () => readFile(`${hookOut}.env`, 'utf8'),
    notifySendCalls: async () => (await readLines(sendOut)).map((line) => line.split('\t')),
  };
}

/** A goal created, queued and started, then ended with `action` (as the pipeline ends one). */
async function endGoal(td: TestDaemon, title: string, action: 'complete' | 'fail', note: string): Promise<number> {
  const { store } = td.daemon;
  const goal = await store.create({ title, queue: true });
  await store.transition(goal.id, 'start');
  await store.transition(goal.id, action, { note });
  return goal.id;
}

const notificationsIn = (events: { type: string; data: unknown }[]) =>
  events.filter((event) => event.type === 'notification').map((event) => event.data as EventData<'notification'>);

describe('notifications', () => {
  it('done and landed goals reach every client, notify-send and the hook (as JSON, without secrets); a kind switched off, nothing', async (t) => {
    const { td, hookLines, hookEnv, notifySendCalls } = await scene(t, { command: ['HOOK'], kinds: { stuck: false } });
    const client = await td.connect('script');
    const events = recordEvents(client);

    const stuck = await endGoal(td, 'Switched off', 'fail', 'no progress in 3 iterations');
    const done = await endGoal(td, 'Fix the parser', 'complete', 'the parser takes nested lists');
    await td.daemon.store.log.append(done, { kind: 'landed', text: 'landed as abc1234 on main (2 files)' });

    // Delivered one at a time in the order raised: once the landing is there, a stuck one would be before it.
    const lines = await waitFor(async () => ((await hookLines()).length >= 2 ? hookLines() : null), { message: 'two hook runs' });
    assert.deepEqual(
      lines.map(({ time, ...rest }) => {
        assert.match(String(time), /^\d{4}-\d\d-\d\dT/);
        return rest;
      }),
      [
        {
          type: 'notification',
          kind: 'done',
          goalId: done,
          title: `#${done} done: Fix the parser`,
          body: 'the parser takes nested lists',
          repo: td.repoRoot,
        },
        {
          type: 'notification',
          kind: 'landed',
          goalId: done,
          title: `#${done} landed: Fix the parser`,
          body: 'landed as abc1234 on main (2 files)',
          repo: td.repoRoot,
        },
      ],
    );
    const env = await hookEnv();
    assert.match(env, /^PATH=/m, 'the hook has the daemon environment');
    assert.doesNotMatch(env, /SLACK_TOKEN|xoxb-notify/, 'but not its secrets');

    // No TUI attached: the desktop hears of both through notify-send.
    const calls = await waitFor(async () => ((await notifySendCalls()).length >= 2 ? notifySendCalls() : null), { message: 'notify-send' });
    assert.deepEqual(calls, [
      ['--app-name=Ralph', `#${done} done: Fix the parser`, 'the parser takes nested lists'],
      ['--app-name=Ralph', `#${done} landed: Fix the parser`, 'landed as abc1234 on main (2 files)'],
    ]);

    const seen = notificationsIn(events);
    assert.deepEqual(
      seen.map((data) => [data.kind, data.goalId, data.bell, data.desktop]),
      [
        ['done', done, true, true],
        ['landed', done, true, true],
      ],
    );
    assert.ok(!seen.some((data) => data.goalId === stuck));
    // The notification follows the event that caused it.
    const doneAt = events.findIndex(
      (event) => event.type === 'goal.updated' && event.data.goal.id === done && event.data.goal.state === 'done',
    );
    assert.ok(doneAt >= 0 && doneAt < events.findIndex((event) => event.type === 'notification'));
  });

  it('a failing hook is a line in the daemon log and nothing more; bell and desktop off reach the clients, and no notify-send runs', async (t) => {
    const failing = '#!/bin/sh\necho "boom: $(cat | head -c 20)" >&2\nexit 3\n';
    const { td, notifySendCalls } = await scene(t, { command: ['HOOK'], bell: false, desktop: false }, failing);
    const client = await td.connect('script');
    const events = recordEvents(client);
    await endGoal(td, 'First', 'fail', 'stuck for a reason');
    await endGoal(td, 'Second', 'complete', 'done');
    const failures = await waitFor(
      () => {
        const lines = td.logs.filter((line) => line.startsWith('notify: notify.command failed'));
        return lines.length >= 2 && lines;
      },
      { message: 'two hook failures in the log' },
    );
    assert.match(failures[0]!, /^notify: notify\.command failed: exit code 3: boom: \{"type":"notificatio$/);
    assert.deepEqual(
      notificationsIn(events).map((data) => [data.kind, data.bell, data.desktop]),
      [
        ['stuck', false, false],
        ['done', false, false],
      ],
    );
    assert.deepEqual(await notifySendCalls(), [], 'desktop: false');
    // The daemon carries on.
    assert.equal((await client.request('goal.list', {})).goals.length, 2);
  });

  it('notify-send runs only while no TUI is attached', async (t) => {
    const { td, notifySendCalls } = await scene(t, {});
    const watcher = await td.connect('script');
    const tui = await td.connect(TUI_CLIENT_NAME);
    const first = await endGoal(td, 'While a TUI is attached', 'complete', 'one');
    // Its notification was raised as the goal ended (the transition awaited above): with the TUI there.
    await tui.close();
    // The daemon has seen the TUI go once the clients list no longer names it.
    await waitFor(async () => !(await watcher.request('daemon.status', {})).clients.some((client) => client.name === TUI_CLIENT_NAME), {
      message: 'the TUI to be gone',
    });
    const second = await endGoal(td, 'With none attached', 'complete', 'two');
    // One at a time in the order raised: the first would be before the second.
    const calls = await waitFor(async () => ((await notifySendCalls()).length >= 1 ? notifySendCalls() : null), { message: 'notify-send' });
    assert.deepEqual(calls, [['--app-name=Ralph', `#${second} done: With none attached`, 'two']]);
    assert.notEqual(first, second);
  });
});
