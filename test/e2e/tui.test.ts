/**
 * The TUI end to end in real terminals: `ralph` runs in tmux panes against a daemon the
 * command line started in a temporary repository; the tests type keys with send-keys and read the
 * screen with capture-pane. Skipped only when tmux is not installed (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it, type TestContext } from 'node:test';
import { providerEnv, startFakeServer } from '../chat/helpers.ts';
import type { ScenarioFn } from '../fake-openai/index.ts';
import { isProcessAlive } from '../../protocol/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { gate, isConsolidation } from '../research/helpers.ts';
import { goalRow, openTui, startRepoWithDaemon, startTmux, statusBarOf } from './setup.ts';
import { findTmux } from './tmux.ts';
import { TUI_NODE_FLAGS } from '../../tui/bin/node-flags.js';

/** Each test: generous for a loaded machine, bounded so a hang fails. */
const EACH = { timeout: 90_000 };

/** Skips the test (with the reason) when there is no tmux; true when it may run. */
function needsTmux(t: TestContext): boolean {
  if (findTmux()) return true;
  t.skip('tmux is not installed (.ci/run installs it): the terminal end-to-end tests need a real terminal');
  return false;
}

describe('the TUI in real terminals (tmux)', () => {
  it('two TUIs attached to one daemon both show a goal added on the command line', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, env, ralph } = await startRepoWithDaemon(t);
    const tmux = await startTmux(t, env);
    const alice = await openTui(tmux, repo, 'alice');
    const bob = await openTui(tmux, repo, 'bob');
    // Each sees the other attached.
    for (const terminal of [alice, bob])
      await terminal.waitForScreen((rows) => statusBarOf(rows)?.includes('2 clients'), 'the status bar to count 2 clients');
    // The TUI started Node again with its heap flags, as the same process (tmux's pane or its child).
    const cmdline = await tuiCommandLine((await alice.pane()).pid);
    for (const flag of TUI_NODE_FLAGS) assert.ok(cmdline.includes(flag), `the TUI runs with ${flag}: ${cmdline.join(' ')}`);

    const id = (await ralph('goal', 'add', '--title', 'Added from the command line')).trim();
    assert.equal(id, '1');
    for (const terminal of [alice, bob]) {
      const row = await terminal.waitForScreen((rows) => goalRow(rows, 1), 'goal #1 in the pipeline');
      assert.match(row, /Added from the command line/);
      assert.match(row, /draft\s*$/);
      await terminal.waitForText('Draft (1)');
    }
  });

  it('a key pressed in one TUI queues a draft, and the other TUI shows it queued', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, env, ralph } = await startRepoWithDaemon(t);
    await ralph('goal', 'add', '--title', 'First draft');
    await ralph('goal', 'add', '--title', 'Second draft');
    const tmux = await startTmux(t, env);
    const alice = await openTui(tmux, repo, 'alice');
    const bob = await openTui(tmux, repo, 'bob');
    for (const terminal of [alice, bob]) await terminal.waitForText('Draft (2)');

    // Alice: the first goal is selected; Q queues it.
    await alice.waitForScreen((rows) => goalRow(rows, 1)?.startsWith('›'), 'goal #1 selected');
    await alice.press('Q');
    const queuedForBob = await bob.waitForScreen((rows) => /queued\s*$/.test(goalRow(rows, 1) ?? '') && rows, 'Bob to see goal #1 queued');
    assert.ok(
      queuedForBob.some((row) => row.startsWith('Queued (1)')),
      queuedForBob.join('\n'),
    );
    assert.match(goalRow(queuedForBob, 2) ?? '', /draft\s*$/, 'the other draft stays a draft');

    // Bob: select the remaining draft (j) and queue it with Enter; Alice sees it.
    await bob.waitForScreen((rows) => goalRow(rows, 2), 'goal #2 listed');
    await bob.press('j');
    await bob.waitForScreen((rows) => goalRow(rows, 2)?.startsWith('›'), 'goal #2 selected after j');
    await bob.press('Enter');
    await alice.waitForScreen(
      (rows) => /queued\s*$/.test(goalRow(rows, 2) ?? '') && rows.some((row) => row.startsWith('Queued (2)')),
      'Alice to see both goals queued',
    );

    // The daemon holds what the screens say.
    const goals = JSON.parse(await ralph('goal', 'list', '--json')) as { id: number; state: string }[];
    assert.deepEqual(
      goals.map((goal) => [goal.id, goal.state]),
      [
        [1, 'queued'],
        [2, 'queued'],
      ],
    );
  });

  it('a research run started from the chat pane shows one bar per agent while it runs', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const questions = ['Q1 where are the models listed', 'Q2 which code reads a model id', 'Q3 what do the docs promise'];
    // The agents' reports wait for this gate, so the bars stay on screen until the test has seen them.
    const agentsMayFinish = gate(t);
    const scenario: ScenarioFn = async (request) => {
      if (request.toolNames.includes('research')) {
        // The chat model: the research call, then an answer from its result.
        if (request.pendingToolResults.length === 0) return { toolCalls: [{ name: 'research', arguments: { questions } }] };
        return { text: 'All three agents reported back.' };
      }
      if (isConsolidation(request)) return { text: 'Consolidated.' };
      // A research agent: one step reading a file (so its bar moves), then its report once the gate opens.
      if (request.pendingToolResults.length === 0) return { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] };
      await agentsMayFinish.wait;
      return { text: 'Report: the README says it is a test repo.' };
    };
    const server = await startFakeServer(t, { scenario, latencyMs: 100 });
    const { repo, env } = await startRepoWithDaemon(t, providerEnv(server));
    const tmux = await startTmux(t, env);
    const tui = await openTui(tmux, repo, 'tui');

    // Tab to the chat pane, type the ask, send it.
    await tui.press('Tab');
    await tui.waitForText('ask, research, agree on a goal');
    await tui.type('send a team of agents to research the models');
    await tui.waitForText('send a team of agents to research the models');
    await tui.press('Enter');

    // While the agents run: a header and one bar per agent, each with its question.
    const bars = await tui.waitForScreen(
      (rows) => {
        const agentRows = questions.map((question) => rows.find((row) => row.includes(question.slice(0, 12))));
        return (
          rows.some((row) => /◆ Research · 3 agents/.test(row)) &&
          agentRows.every((row) => row && /[▸·✓] [█░]+ +\d+/.test(row)) &&
          agentRows
        );
      },
      'three research bars',
      { timeoutMs: 20_000 },
    );
    assert.equal(new Set(bars).size, 3, 'three distinct rows');

    // Once they report, the bars collapse into one summary line and the chat answers.
    agentsMayFinish.open();
    const done = await tui.waitForText('All three agents reported back.', { timeoutMs: 20_000 });
    assert.ok(
      done.some((row) => /✓ Research done: 3 questions, 3 answered/.test(row)),
      `the summary line:\n${done.join('\n')}`,
    );
    assert.ok(!done.some((row) => /[█░]{4,}/.test(row)), 'no bars left once the run ended');
  });

  it('killing both TUIs (Ctrl+C in one, the pane killed in the other) leaves the daemon up', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, env, ralph, daemonPid } = await startRepoWithDaemon(t);
    const tmux = await startTmux(t, env);
    const alice = await openTui(tmux, repo, 'alice');
    const bob = await openTui(tmux, repo, 'bob');
    await alice.waitForScreen((rows) => statusBarOf(rows)?.includes('2 clients'), 'both TUIs attached');

    await alice.press('C-c');
    const left = await alice.waitForExit();
    // null: tmux did not record the status (see waitForExit); a status it did record must be 0.
    assert.ok(
      left.exitStatus === 0 || (left.exitStatus === null && left.exitSignal === null),
      `Ctrl+C leaves the TUI cleanly: ${JSON.stringify(left)}\n${(await alice.screen()).join('\n')}`,
    );
    await bob.waitForScreen((rows) => statusBarOf(rows)?.includes('1 client '), 'Bob to see Alice gone');

    const bobPid = (await bob.pane()).pid;
    await bob.killPane();
    await waitFor(() => !isProcessAlive(bobPid), { timeoutMs: 20_000, message: 'the second TUI to exit with its pane' });

    // The daemon stays, with no TUI attached any more.
    const status = await waitFor(
      async () => {
        const current = JSON.parse(await ralph('daemon', 'status', '--json')) as { daemon: { pid: number }; clients: { name: string }[] };
        return current.clients.every((client) => client.name !== 'tui') && current;
      },
      { timeoutMs: 20_000, message: 'the daemon to see both TUIs gone' },
    );
    assert.equal(status.daemon.pid, daemonPid, 'the same daemon');
    await ralph('daemon', 'status'); // exit 0, nothing on stderr
  });

  it('at 80×24 every pane and the help fit the terminal, with the status bar drawn', EACH, async (t) => {
    if (!needsTmux(t)) return;
    const { repo, env, ralph } = await startRepoWithDaemon(t);
    // Long text everywhere: a long title, a long spec line, the chat's long provider hint.
    const longTitle = `A goal whose title is far too long for a terminal of eighty columns ${'and then some more words '.repeat(4)}`.trim();
    await ralph('goal', 'add', '--title', longTitle, '--spec', `## Objective\n${'A very long line of spec text. '.repeat(12)}\n`);
    await ralph('goal', 'add', '--title', 'Short one', '--queue');
    const tmux = await startTmux(t, env);
    const tui = await openTui(tmux, repo, 'small', { width: 80, height: 24 });
    const { width, height } = await tui.pane();
    assert.deepEqual([width, height], [80, 24]);

    const views: [string, () => Promise<void>, (rows: string[]) => boolean][] = [
      ['pipeline', async () => {}, (rows) => goalRow(rows, 1) !== undefined && goalRow(rows, 2) !== undefined],
      ['chat', () => tui.press('Tab'), (rows) => rows.some((row) => row.includes('No model provider is configured'))],
      ['log', () => tui.press('Tab'), (rows) => rows.some((row) => / Log /.test(row))],
      ['help', () => tui.press('?'), (rows) => rows.some((row) => /leave the TUI/.test(row))],
    ];
    for (const [view, open, shown] of views) {
      await open();
      // Wrapped lines joined: a line wider than 80 columns would show here as one longer line.
      const rows = await tui.waitForScreen((screen) => shown(screen) && screen, `the ${view} view`, { joinWrapped: true });
      const screen = `--- ${view} ---\n${rows.join('\n')}`;
      assert.ok(rows.length <= 24, `${view}: ${rows.length} rows\n${screen}`);
      for (const row of rows)
        assert.ok([...row].length <= 80, `${view}: a row of ${[...row].length} columns: ${JSON.stringify(row)}\n${screen}`);
      // Nothing scrolled off the top (the pane tabs are the first row) and the status bar is drawn.
      assert.match(rows[0] ?? '', view === 'help' ? /\S/ : /Pipeline.*Chat.*Log/, `${view}: the first row\n${screen}`);
      const status = statusBarOf(rows);
      assert.ok(status, `${view}: the status bar\n${screen}`);
      assert.match(status, /● connected/);
    }
  });
});

/** The command line of the ralph process in a pane: the pane's process, or its child when a shell runs it. */
async function tuiCommandLine(panePid: number): Promise<string[]> {
  const argv = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  const own = await argv(panePid);
  if (own.some((arg) => arg.endsWith('ralph.js'))) return own;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === panePid) return argv(Number(name));
  }
  return own;
}
