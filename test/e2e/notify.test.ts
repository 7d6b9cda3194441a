/**
 * Notifications in a real terminal: the `ralph` TUI runs in a tmux pane, attached to a real
 * daemon; a goal ends (through the goal store, as the pipeline ends one) and the bytes the TUI
 * wrote, captured raw with `pipe-pane`, hold the bell and the desktop notification wrapped for
 * tmux's passthrough, while tmux itself marks the window's bell. A goal title full of escape
 * sequences reaches the terminal only as inert text. Skipped only when tmux is not installed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { cliEnv } from '../helpers/cli.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { openTui, startTmux } from './setup.ts';
import { findTmux } from './tmux.ts';

const ESC = '\u001b';
const BEL = '\u0007';

/** A goal created, queued and started, then ended with `action` (as the pipeline ends one). */
async function endGoal(td: TestDaemon, title: string, action: 'complete' | 'fail', note: string): Promise<number> {
  const { store } = td.daemon;
  const goal = await store.create({ title, queue: true });
  await store.transition(goal.id, 'start');
  await store.transition(goal.id, action, { note });
  return goal.id;
}

function needsTmux(t: TestContext): boolean {
  if (findTmux()) return true;
  t.skip('tmux is not installed (.ci/run installs it): the terminal end-to-end tests need a real terminal');
  return false;
}

describe('notifications in a real terminal (tmux)', () => {
  it('a goal that ends rings the bell and asks for a desktop notification through tmux; a hostile title gets through only as text', {
    timeout: 60_000,
  }, async (t) => {
    if (!needsTmux(t)) return;
    const td = await startTestDaemon(t);
    const tmux = await startTmux(t, cliEnv());
    const tui = await openTui(tmux, td.repoRoot, 'tui');
    // Every byte the TUI writes from now on, raw, as the terminal would get it.
    const dir = await makeTempDir(t, 'ralph-pane-');
    const raw = path.join(dir, 'pane.raw');
    await tmux.command('pipe-pane', '-O', '-t', tui.name, `exec cat > '${raw}'`);
    const output = () => readFile(raw, 'latin1').catch(() => '');
    // Bytes as latin1: ESC, BEL and ASCII are themselves; the titles here are ASCII.
    await waitFor(async () => (await tmux.command('display-message', '-p', '-t', tui.name, '#{pane_pipe}')).trim() === '1', {
      message: 'the pane to be piped',
    });
    await tmux.command('set-option', '-w', '-t', tui.name, 'monitor-bell', 'on');
    assert.equal((await tmux.command('display-message', '-p', '-t', tui.name, '#{window_bell_flag}')).trim(), '0');

    const done = await endGoal(td, 'Fix the parser', 'complete', 'the check passes');
    const expected = `${ESC}Ptmux;${ESC}${ESC}]9;#${done} done: Fix the parser: the check passes${BEL}${ESC}\\`;
    const written = await waitFor(
      async () => {
        const bytes = await output();
        return bytes.includes(expected) && bytes;
      },
      { timeoutMs: 20_000, message: 'the OSC 9 notification in the TUI output' },
    );
    assert.ok(written.includes(`${BEL}${expected}`), 'the bell rings right before it, outside the passthrough');
    assert.ok(written.includes(`${ESC}Ptmux;${ESC}${ESC}]777;notify;#${done} done: Fix the parser;the check passes${BEL}${ESC}\\`));
    // tmux took the bell as the window's own.
    await waitFor(async () => (await tmux.command('display-message', '-p', '-t', tui.name, '#{window_bell_flag}')).trim() === '1', {
      message: "the window's bell flag",
    });

    // A goal title that would write the clipboard (OSC 52) and retitle the window (OSC 0) if written raw.
    const hostile = `evil${ESC}]52;c;SEFDSw==${BEL}${ESC}]0;PWNED${BEL}`;
    const stuck = await endGoal(td, hostile, 'fail', `no progress${ESC}[2J`);
    const after = await waitFor(
      async () => {
        const bytes = await output();
        return bytes.includes(`]9;#${stuck} stuck`) && bytes;
      },
      { timeoutMs: 20_000, message: 'the notification of the hostile goal' },
    );
    assert.ok(
      after.includes(`${ESC}${ESC}]9;#${stuck} stuck: evil ]52,c,SEFDSw== ]0,PWNED: no progress [2J${BEL}${ESC}\\`),
      'the title arrives as plain text in the notification',
    );
    assert.ok(!after.includes(`${ESC}]52`) && !after.includes(`${ESC}${ESC}]52`), 'no clipboard write reaches the terminal');
    assert.ok(!after.includes(`${ESC}]0;PWNED`) && !after.includes(`${ESC}${ESC}]0;PWNED`), 'nor a retitle');
    assert.notEqual((await tmux.command('display-message', '-p', '-t', tui.name, '#{pane_title}')).trim(), 'PWNED');
  });
});
