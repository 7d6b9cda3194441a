/**
 * The ways a spare TUI goes (tui/spare/): with its daemon, with its client killed, and killed
 * itself while attached (the thin client restores the terminal); and a `ralph` whose spare refuses
 * starts the normal way. Skipped only when tmux is not installed.
 */
import assert from 'node:assert/strict';
import { readFile, realpath } from 'node:fs/promises';
import net from 'node:net';
import { describe, it } from 'node:test';
import { isProcessAlive } from '../../protocol/index.ts';
import { ensureBundle, freshEntries } from '../../tui/bin/bundle.js';
import { spareSocketPath } from '../../tui/bin/spare-socket.js';
import { defer } from '../helpers/defer.ts';
import { waitFor } from '../helpers/wait.ts';
import { openTui, startRepoWithDaemon, startTmux } from './setup.ts';
import { goalRow } from './setup.ts';
import { EACH, needsTmux, openShell, ttyOf, typeRalph, waitForSpare, withSpare } from './spare-setup.ts';

describe('the spare TUI in real terminals: how it goes (tmux)', () => {
  it('a spare goes when its daemon stops, and when its client is killed', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, root, tmux, spare, ralph } = await withSpare(t);
    const shell = await openShell(tmux, repo, 'killed');
    await typeRalph(shell);
    await shell.waitForScreen((screen) => goalRow(screen, 1), 'goal #1 through the spare');
    const next = await waitForSpare(root, spare);
    // The client (the shell's child) killed outright: the spare serving it quits.
    const client = Number((await tmux.command('list-panes', '-t', shell.name, '-F', '#{pane_pid}')).trim());
    const children = (await readFile(`/proc/${client}/task/${client}/children`, 'utf8')).trim().split(/\s+/).map(Number);
    for (const child of children) process.kill(child, 'SIGKILL');
    await waitFor(() => !isProcessAlive(spare), { timeoutMs: 10_000, message: 'the spare whose client was killed to exit' });
    // The waiting spare goes with the daemon.
    await ralph('daemon', 'stop');
    await waitFor(() => !isProcessAlive(next), { timeoutMs: 10_000, message: 'the waiting spare to exit with its daemon' });
  });

  it('a spare killed while attached: the client restores the terminal and exits 1 saying so', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, tmux, spare } = await withSpare(t);
    const shell = await openShell(tmux, repo, 'orphan');
    await typeRalph(shell);
    await shell.waitForScreen((screen) => goalRow(screen, 1), 'goal #1 through the spare');
    process.kill(spare, 'SIGKILL');
    await shell.waitForText('exit=1');
    await shell.waitForText('the TUI process ended unexpectedly; the terminal was restored');
    await shell.type('echo "o""k"');
    await shell.press('Enter');
    await shell.waitForScreen((screen) => screen.some((row) => row.trim() === 'ok'), 'the shell to run a command after the TUI');
  });

  it('a spare that does not answer a quit (stopped): the client restores the terminal and exits 1 saying so', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, tmux, spare } = await withSpare(t);
    const shell = await openShell(tmux, repo, 'wedged');
    await typeRalph(shell);
    await shell.waitForScreen((screen) => goalRow(screen, 1), 'goal #1 through the spare');
    process.kill(spare, 'SIGSTOP');
    defer(t, () => {
      if (isProcessAlive(spare)) process.kill(spare, 'SIGKILL');
    });
    const shellPid = Number((await tmux.command('list-panes', '-t', shell.name, '-F', '#{pane_pid}')).trim());
    const children = (await readFile(`/proc/${shellPid}/task/${shellPid}/children`, 'utf8')).trim().split(/\s+/).map(Number);
    for (const child of children) process.kill(child, 'SIGTERM');
    await shell.waitForText('the TUI process did not answer a quit; the terminal was restored');
    await shell.waitForText('exit=1');
    await shell.type('echo "o""k"');
    await shell.press('Enter');
    await shell.waitForScreen((screen) => screen.some((row) => row.trim() === 'ok'), 'the shell to run a command after the TUI');
  });

  it(
    'a spare that refuses: ralph starts the normal way at once, after a hello naming its terminal, bundle, folder and environment',
    EACH,
    async (t) => {
      if (!needsTmux(t)) return;
      await ensureBundle();
      const { repo, env } = await startRepoWithDaemon(t);
      const root = await realpath(repo);
      // Something that answers on the spare's socket and refuses every hello.
      const hellos: Record<string, unknown>[] = [];
      const refuser = net.createServer((socket) => {
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          received += chunk;
          if (!received.includes('\n')) return;
          hellos.push(JSON.parse(received.slice(0, received.indexOf('\n'))) as Record<string, unknown>);
          socket.end(`${JSON.stringify({ ok: false, error: 'refused by the test' })}\n`);
        });
      });
      await new Promise<void>((resolve) => refuser.listen(spareSocketPath(root), resolve));
      defer(t, () => new Promise((resolve) => refuser.close(resolve)));
      const tmux = await startTmux(t, env);
      const terminal = await openTui(tmux, repo, 'refused');
      assert.equal(hellos.length, 1);
      const hello = hellos[0]!;
      assert.equal(hello.tty, await ttyOf(terminal));
      assert.equal(hello.bundle, freshEntries()?.entry);
      assert.equal(hello.repoRoot, root);
      assert.equal(hello.cwd, root);
      assert.equal(
        (hello.env as NodeJS.ProcessEnv).TERM,
        (await tmux.command('display-message', '-p', '#{default-terminal}')).trim() || 'screen',
      );
      assert.deepEqual([hello.columns, hello.rows], [100, 30]);
    },
  );
});
