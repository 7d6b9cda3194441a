/**
 * The spare TUI in real terminals (tui/spare/, tui/bin/attach.js): the first `ralph` in tmux opens
 * the normal way and leaves a spare; the next `ralph`, typed in a shell, hands its terminal to it.
 * What is checked is what a person sees: the goals, keys, a resize, colours, the editor, and after
 * q a shell that works again (cooked mode, the exit code). Skipped only when tmux is not installed.
 */
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Goal } from '../../protocol/index.ts';
import { isProcessAlive } from '../../protocol/index.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { goalRow, statusBarOf } from './setup.ts';
import { EACH, needsTmux, openShell, terminalsOf, ttyOf, typeRalph, waitForSpare, withSpare } from './spare-setup.ts';
import type { Terminal } from './tmux.ts';

describe('the spare TUI in real terminals (tmux)', () => {
  it(
    'a second ralph attaches to the spare the first left: goals, keys, resize, colours; q gives the shell back, and a next spare waits',
    EACH,
    async (t) => {
      if (!needsTmux(t)) return;
      // Colours on (the tests' environment has NO_COLOR): the attached TUI must draw what a normal start draws.
      const { repo, root, tmux, first, spare } = await withSpare(t, { NO_COLOR: '' });
      const shell = await openShell(tmux, repo, 'second');
      await typeRalph(shell);
      const rows = await shell.waitForScreen((screen) => (goalRow(screen, 1) ? screen : null), 'goal #1 through the spare');
      assert.match(goalRow(rows, 1) ?? '', /Shown through the spare/);
      await shell.waitForScreen((screen) => statusBarOf(screen)?.includes('2 clients'), 'the status bar to count 2 clients');
      // The spare draws on this terminal: it has the pane's device open.
      assert.deepEqual([...new Set(await terminalsOf(spare))], [await ttyOf(shell)]);
      // Colours, as in the normal start beside it (Ink's colour level follows the terminal, not the spare's /dev/null).
      const coloured = async (terminal: Terminal) =>
        (await tmux.command('capture-pane', '-p', '-e', '-t', terminal.name)).split('\n').slice(0, 3).join('\n');
      assert.match(await coloured(shell), /\u001b\[[0-9;]*36m/, 'the accent colour (cyan) is drawn');
      assert.equal(await coloured(shell), await coloured(first));

      // Keys reach the TUI: the help opens and closes.
      await shell.press('?');
      await shell.waitForText('show or hide this help');
      await shell.press('Escape');
      await shell.waitForScreen((screen) => !screen.join('\n').includes('show or hide this help'), 'the help to close');
      // A resize: the layout follows (the tab bar on the first row, the status bar whole).
      await tmux.command('resize-window', '-t', shell.name, '-x', '60', '-y', '20');
      await shell.waitForScreen(
        (screen) => screen.length === 20 && screen[0]?.includes('Pipeline') && goalRow(screen, 1) && statusBarOf(screen),
        'the frame redrawn at 60×20',
      );

      await shell.press('q');
      await shell.waitForText('exit=0');
      // The terminal is cooked again: a typed line runs.
      await shell.type('echo "o""k"');
      await shell.press('Enter');
      await shell.waitForScreen((screen) => screen.some((row) => row.trim() === 'ok'), 'the shell to run a command after the TUI');
      assert.ok(
        !isProcessAlive(spare) || (await waitFor(() => !isProcessAlive(spare), { timeoutMs: 10_000, message: 'the used spare to exit' })),
      );
      // The attached TUI left the next spare.
      await waitForSpare(root, spare);
    },
  );

  it('the editor runs in the attached terminal, in its foreground (it can open /dev/tty), and the spec is saved', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const dir = await makeTempDir(t, 'ralph-editor-');
    const script = path.join(dir, 'edit.sh');
    // Appends a line saying whether the editor has the terminal as its controlling terminal.
    await writeFile(
      script,
      `#!/bin/sh\nif (exec 3</dev/tty) 2>/dev/null; then where=foreground; else where=detached; fi\nprintf 'Edited in the %s terminal.\\n' "$where" >> "$1"\n`,
    );
    await chmod(script, 0o755);
    const { repo, tmux, ralph } = await withSpare(t, { EDITOR: script, VISUAL: '' });
    const shell = await openShell(tmux, repo, 'editing');
    await typeRalph(shell);
    await shell.waitForScreen((screen) => goalRow(screen, 1), 'goal #1 through the spare');
    await shell.press('e');
    await waitFor(async () => (JSON.parse(await ralph('goal', 'show', '1', '--json')) as Goal).spec.includes('Edited in the'), {
      timeoutMs: 20_000,
      message: 'the edited spec to be saved',
    });
    const { spec } = JSON.parse(await ralph('goal', 'show', '1', '--json')) as Goal;
    assert.match(spec, /Edited in the foreground terminal\./);
    // The TUI is back and answers keys.
    await shell.waitForScreen((screen) => goalRow(screen, 1) && statusBarOf(screen), 'the TUI redrawn after the editor');
    await shell.press('q');
    await shell.waitForText('exit=0');
  });
});
