/** One daemon per repository, the daemon as a real process, its discovery file and its lock. */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Daemon } from '../../daemon/daemon.ts';
import { DaemonRunningError, acquireDaemonLock } from '../../daemon/lock.ts';
import { ralphPaths } from '../../daemon/paths.ts';
import { RalphClient } from '../../protocol/client.ts';
import { readDaemonFile } from '../../protocol/index.ts';
import { defer, endpointFromFile, spawnDaemon, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { recordEvents } from '../helpers/events.ts';

/** A repository removed after everything else of the test has stopped. */
async function repo(t: import('node:test').TestContext): Promise<string> {
  const root = await makeTempRepo(undefined);
  defer(t, () => rm(root, { recursive: true, force: true }));
  return root;
}

function parseReady(line: string): { ready: boolean; url?: string; pid?: number; error?: string } {
  return JSON.parse(line) as { ready: boolean; url?: string; pid?: number; error?: string };
}

describe('one daemon per repository', () => {
  it('refuses a second in-process daemon on the same repository, naming the pid', async (t) => {
    const { repoRoot } = await startTestDaemon(t);
    await assert.rejects(Daemon.start({ repoRoot, repoWatch: false, log: () => {} }), (error: unknown) => {
      assert.ok(error instanceof DaemonRunningError);
      assert.equal(error.pid, process.pid);
      assert.equal(error.message, `another Ralph daemon (pid ${process.pid}) serves ${repoRoot}`);
      return true;
    });
    // The refused start did not disturb the running daemon's files.
    assert.equal((await readDaemonFile(repoRoot))?.pid, process.pid);
  });

  it('a second daemon process is refused with {"ready":false} naming the pid', async (t) => {
    const { repoRoot } = await startTestDaemon(t);
    const second = spawnDaemon(t, repoRoot, 'background');
    const ready = parseReady(await second.firstLine);
    assert.deepEqual(ready, { ready: false, error: `another Ralph daemon (pid ${process.pid}) serves ${repoRoot}` });
    assert.equal((await second.exited).code, 1);
    assert.equal(second.stdout(), `${JSON.stringify(ready)}\n`, 'exactly one line');
  });

  it('the lock: garbage is taken over; release never removes another holder', async (t) => {
    const dir = await makeTempDir(t);
    const lockPath = ralphPaths(dir).lock;
    await acquireDaemonLock(lockPath).then((lock) => lock.release());
    await writeFile(lockPath, 'not json at all');
    const lock = await acquireDaemonLock(lockPath);
    assert.equal(JSON.parse(await readFile(lockPath, 'utf8')).pid, process.pid);
    // Someone else holds it now (as if our lock had been taken over): our release leaves it.
    await writeFile(lockPath, JSON.stringify({ pid: 1, startedAt: new Date().toISOString() }));
    await lock.release();
    assert.equal(JSON.parse(await readFile(lockPath, 'utf8')).pid, 1);
    // pid 1 is alive: the lock is held.
    await assert.rejects(acquireDaemonLock(lockPath), /another Ralph daemon \(pid 1\) serves /);
  });

  it("two starters taking over the same stale lock: one wins, the other sees it held (it never removes the winner's lock)", async (t) => {
    const dir = await makeTempDir(t);
    const lockPath = ralphPaths(dir).lock;
    await acquireDaemonLock(lockPath).then((lock) => lock.release()); // creates .ralph/
    // A dead daemon's leftover (no process has this pid).
    await writeFile(lockPath, `${JSON.stringify({ pid: 2_147_483_646, startedAt: '2026-01-01T00:00:00.000Z' })}\n`);

    let winner: Awaited<ReturnType<typeof acquireDaemonLock>> | undefined;
    let winnerText = '';
    // The slower starter found the stale lock; before it takes it over, the faster one does.
    const slower = acquireDaemonLock(lockPath, {
      beforeTakeover: async () => {
        if (winner) return;
        winner = await acquireDaemonLock(lockPath);
        winnerText = await readFile(lockPath, 'utf8');
      },
    });
    await assert.rejects(slower, (error: unknown) => error instanceof DaemonRunningError && error.pid === process.pid);
    assert.ok(winner, 'the faster starter took the stale lock');
    assert.equal(await readFile(lockPath, 'utf8'), winnerText, "the winner's lock is in place, untouched");
    assert.deepEqual(
      (await readdir(path.dirname(lockPath))).filter((name) => name.endsWith('.tmp')),
      [],
      'nothing left aside',
    );
    await winner.release();
    await assert.rejects(stat(lockPath), /ENOENT/);
  });

  it('outside a git work tree: a clear error', async (t) => {
    const dir = await makeTempDir(t);
    await assert.rejects(
      Daemon.start({ repoRoot: dir, repoWatch: false, log: () => {} }),
      new RegExp(`^Error: not inside a git work tree: ${dir}$`),
    );
  });
});

describe('the daemon process', () => {
  it('background: one ready line, daemon.json 0600, clients served, clean stop on SIGTERM', async (t) => {
    const repoRoot = await repo(t);
    const daemon = spawnDaemon(t, repoRoot, 'background');
    const ready = parseReady(await daemon.firstLine);
    assert.equal(ready.ready, true);
    assert.equal(ready.pid, daemon.child.pid);

    const file = await readDaemonFile(repoRoot);
    assert.ok(file);
    assert.equal(file.url, ready.url);
    assert.equal(file.pid, daemon.child.pid);
    assert.match(file.token, /^[0-9a-f]{64}$/);
    assert.equal((await stat(ralphPaths(repoRoot).daemonFile)).mode & 0o777, 0o600);

    const client = await RalphClient.connect({ endpoint: endpointFromFile(repoRoot), name: 'test', reconnect: false });
    defer(t, () => client.close());
    const events = recordEvents(client);
    const { goal } = await client.request('goal.create', { title: 'Served by a real process' });
    assert.equal(goal.id, 1);
    assert.equal(client.daemon.pid, daemon.child.pid);

    daemon.child.kill('SIGTERM');
    assert.deepEqual(await daemon.exited, { code: 0, signal: null });
    await assert.rejects(stat(ralphPaths(repoRoot).daemonFile), { code: 'ENOENT' });
    await assert.rejects(stat(ralphPaths(repoRoot).lock), { code: 'ENOENT' });
    await waitFor(() => client.status === 'closed', { message: 'the client sees the daemon go' });
    assert.ok(events.some((event) => event.type === 'daemon.stopping' && event.data.reason === 'SIGTERM'));
    // Never touched stdout/stderr after the ready line; the log file has the rest.
    assert.equal(daemon.stdout(), `${JSON.stringify(ready)}\n`);
    assert.equal(daemon.stderr(), '');
    const log = await readFile(ralphPaths(repoRoot).daemonLog, 'utf8');
    assert.match(log, new RegExp(`ralph daemon: serving ${repoRoot} at ws://127\\.0\\.0\\.1:\\d+ \\(pid ${daemon.child.pid}\\)`));
    assert.match(log, /stopping \(SIGTERM\)/);
  });

  it('a SIGKILLed daemon leaves a stale lock that the next start recovers', async (t) => {
    const repoRoot = await repo(t);
    const killed = spawnDaemon(t, repoRoot, 'background');
    const ready = parseReady(await killed.firstLine);
    assert.equal(ready.ready, true);
    killed.child.kill('SIGKILL');
    await killed.exited;
    // Its files are still there...
    const lock = JSON.parse(await readFile(ralphPaths(repoRoot).lock, 'utf8')) as { pid: number };
    assert.equal(lock.pid, ready.pid);
    assert.equal((await readDaemonFile(repoRoot))?.pid, ready.pid);

    // ...and do not stop the next daemon.
    const next = await startTestDaemon(t, repoRoot);
    assert.equal(JSON.parse(await readFile(ralphPaths(repoRoot).lock, 'utf8')).pid, process.pid);
    assert.equal((await readDaemonFile(repoRoot))?.url, next.daemon.url);
    const client = await next.connect();
    assert.deepEqual((await client.request('goal.list')).goals, []);
  });

  it('foreground: logs to stderr and stops on daemon.shutdown after answering', async (t) => {
    const repoRoot = await repo(t);
    const daemon = spawnDaemon(t, repoRoot, 'foreground');
    const banner = await daemon.firstLine;
    assert.match(banner, new RegExp(`^ralph daemon: serving ${repoRoot} at ws://127\\.0\\.0\\.1:\\d+ \\(pid ${daemon.child.pid}\\)$`));

    const client = await RalphClient.connect({ endpoint: endpointFromFile(repoRoot), name: 'cli', reconnect: false });
    defer(t, () => client.close());
    assert.deepEqual(await client.request('daemon.shutdown'), { stopping: true });
    assert.deepEqual(await daemon.exited, { code: 0, signal: null });
    assert.equal(await readDaemonFile(repoRoot), null, 'daemon.json removed');
    assert.match(daemon.stderr(), /stopping \(shutdown requested by cli \(client c1\)\)/);
    assert.equal(daemon.stdout(), '');
  });

  it('a .ralph that is a symbolic link is refused before anything is written through it', async (t) => {
    const repoRoot = await repo(t);
    const elsewhere = await makeTempDir(t, 'ralph-link-target-');
    await symlink(elsewhere, path.join(repoRoot, '.ralph'));
    const daemon = spawnDaemon(t, repoRoot, 'background');
    const ready = parseReady(await daemon.firstLine);
    assert.equal(ready.ready, false);
    assert.match(ready.error ?? '', /\.ralph is a symbolic link/);
    assert.equal((await daemon.exited).code, 1);
    assert.deepEqual(await readdir(elsewhere), [], 'no token, lock or log written where the link points');
  });

  it('bad usage: exit 2 with the reason', async (t) => {
    const daemon = spawnDaemon(t, '', 'background');
    const ready = parseReady(await daemon.firstLine);
    assert.equal(ready.ready, false);
    assert.match(ready.error ?? '', /--repo DIR is required/);
    assert.equal((await daemon.exited).code, 2);
  });
});
