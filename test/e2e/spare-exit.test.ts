/**
 * The ways a spare TUI goes (tui/spare/): with its daemon, with its client killed, and killed
 * itself while attached (the thin client restores the terminal). Skipped only when tmux is not installed.
 */
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { isProcessAlive } from '../../protocol/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { goalRow } from './setup.ts';
import { EACH, needsTmux, openShell, typeRalph, waitForSpare, withSpare } from './spare-setup.ts';

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
});
