/**
 * A real spare TUI process (started by ensureSpare beside a real daemon) facing hostile or wrong
 * hellos on its socket: each gets a clear refusal and the spare keeps waiting, never opening a path
 * that is not a terminal; a hello for another build makes it refuse and go. And the private
 * folder: one that is a link, open to others or someone else's is refused.
 */
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, realpath, symlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { killDaemon } from '../../test/helpers/cli.ts';
import { defer } from '../../test/helpers/defer.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { startRepoWithDaemon } from '../../test/e2e/setup.ts';
import { TUI_CLIENT_NAME } from '../../protocol/events.ts';
import { ensureBundle, freshEntries } from '../bin/bundle.js';
import { connectToDaemon } from '../connection/daemon.ts';
import { spareFolder, spareSocketPath } from '../bin/spare-socket.js';
import { MAX_HELLO_BYTES } from './spare.ts';
import { ensureSpare, spareListens } from './spawn.ts';

/** Sends raw bytes and returns the spare's first answer line, parsed. */
function exchange(socketPath: string, bytes: string | Buffer): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const newline = answer.indexOf('\n');
      if (newline === -1) return;
      socket.destroy();
      resolve(JSON.parse(answer.slice(0, newline)) as { ok: boolean; error?: string });
    });
    socket.on('error', () => {}); // a refused huge hello: the spare stops reading before it is all written
    socket.on('close', () => reject(new Error(`closed without an answer: ${answer}`)));
    socket.write(bytes);
  });
}

async function startSpare(t: TestContext) {
  await ensureBundle();
  const entries = freshEntries();
  assert.ok(entries, 'a fresh bundle');
  const { repo, env } = await startRepoWithDaemon(t);
  const root = await realpath(repo);
  defer(t, () => killDaemon(root));
  await ensureSpare(root, env);
  const socketPath = spareSocketPath(root);
  await waitFor(() => spareListens(socketPath), { timeoutMs: 20_000, message: 'the spare to listen' });
  const hello = {
    attach: 1,
    bundle: entries.entry,
    repoRoot: root,
    tty: '/dev/pts/0',
    columns: 80,
    rows: 24,
    cwd: root,
    env: { TERM: 'xterm-256color' },
    argv: [],
  };
  return { root, socketPath, hello, entries };
}

describe('a spare TUI facing wrong hellos', () => {
  it('refuses each clearly and keeps waiting; a hello for another build makes it go', { timeout: 60_000 }, async (t) => {
    const { root, socketPath, hello } = await startSpare(t);
    // A waiting spare is nobody at a terminal: the daemon never counts it as the TUI (notifications go elsewhere).
    const watcher = await connectToDaemon(root, { name: 'test', start: false });
    defer(t, () => watcher.close());
    const { clients } = await watcher.request('daemon.status', {});
    assert.ok(
      !clients.some((client) => client.name === TUI_CLIENT_NAME),
      `no TUI among ${clients.map((client) => client.name).join(', ')}`,
    );
    const line = (value: unknown) => `${JSON.stringify(value)}\n`;
    const refusals: [string | Buffer, RegExp][] = [
      ['hello?\n', /the hello is not JSON/],
      [line({ ...hello, columns: -1 }), /the hello is malformed: columns/],
      [line({ attach: 2 }), /the hello is malformed/],
      [Buffer.alloc(MAX_HELLO_BYTES + 10, 'x'), /the hello is larger than/],
      [line({ ...hello, tty: '/etc/passwd' }), /not a terminal device: \/etc\/passwd/],
      [line({ ...hello, tty: '/dev/pts/99999' }), /cannot open \/dev\/pts\/99999/],
      [line({ ...hello, repoRoot: '/' }), /this spare serves .*, not \/$/],
    ];
    for (const [bytes, refusal] of refusals) {
      const answer = await exchange(socketPath, bytes);
      assert.equal(answer.ok, false);
      assert.match(answer.error ?? '', refusal);
      assert.ok(await spareListens(socketPath), `the spare still waits after: ${refusal}`);
    }
    const answer = await exchange(socketPath, line({ ...hello, bundle: path.join(root, 'main-OTHER.js') }));
    assert.deepEqual(answer, { ok: false, error: 'this spare runs another build of ralph' });
    await waitFor(async () => !(await spareListens(socketPath)), { timeoutMs: 10_000, message: 'the stale spare to go' });
  });

  it('is never started for a folder that is a link, open to others, or another user’s', async (t) => {
    const runtime = await makeTempDir(t, 'ralph-runtime-');
    await chmod(runtime, 0o700);
    const folder = path.join(runtime, 'ralph');
    const env = { XDG_RUNTIME_DIR: runtime };
    await mkdir(folder, { mode: 0o755 });
    await chmod(folder, 0o755);
    assert.throws(() => spareFolder(env), /is open to other users \(mode 755\): refused/);
    await chmod(folder, 0o700);
    assert.equal(spareFolder(env), folder);
    if (process.getuid?.() === 0) {
      await chown(folder, 65534, 65534);
      assert.throws(() => spareFolder(env), /belongs to another user \(uid 65534\): refused/);
    }
    const elsewhere = await makeTempDir(t, 'ralph-runtime-');
    const linked = path.join(elsewhere, 'ralph');
    await symlink(folder, linked);
    assert.throws(() => spareFolder({ XDG_RUNTIME_DIR: elsewhere }), /is not a folder \(a link or a file\): refused/);
  });
});
