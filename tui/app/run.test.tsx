import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { runTui } from './run.tsx';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

/** A terminal in memory: keys in, frames out (Ink needs raw mode and ref/unref on its input). */
function memoryTerminal(t: TestContext, { interactive = true } = {}) {
  const stdin = Object.assign(new PassThrough(), { isTTY: interactive, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
  let written = '';
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written += chunk.toString();
        done();
      },
    }),
    { columns: 80, rows: 24, isTTY: false },
  );
  t.after(() => {
    stdin.destroy();
    stdout.destroy();
  });
  return {
    // Ink only reads these members; the casts say "a terminal" to its types.
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    type: (keys: string) => stdin.write(keys),
    output: () => written,
  };
}

describe('runTui', () => {
  for (const [name, key] of [
    ['q', 'q'],
    ['Ctrl+C', KEYS.ctrlC],
  ] as const) {
    test(`${name} quits: runTui resolves and closes the client, not the daemon`, async (t) => {
      const terminal = memoryTerminal(t);
      const client = new FakeConnection(makeSnapshot({ goals: [makeGoal(1, 'draft', 'Shown in the terminal')] }));
      const running = runTui({
        client,
        repoRoot: '/work/demo-repo',
        stdin: terminal.stdin,
        stdout: terminal.stdout,
        stderr: terminal.stdout,
      });
      // Under CI=true Ink writes only the last frame, at exit: so the frame is checked after quitting.
      assert.equal(client.closed, false);
      await eventually(() => {
        terminal.type(key); // typed until Ink listens, like a user pressing it again
        assert.equal(client.closed, true);
      });
      await running;
      assert.ok(terminal.output().includes('Shown in the terminal'), 'the pipeline was drawn');
      assert.deepEqual(client.actions(), [], 'quitting asks nothing of the daemon (no shutdown): only its own reads');
    });
  }

  test('refuses a stdin that is not a terminal, with a clear error, and closes the client', async (t) => {
    const terminal = memoryTerminal(t, { interactive: false });
    const client = new FakeConnection(makeSnapshot());
    await assert.rejects(
      runTui({ client, repoRoot: '/work/demo-repo', stdin: terminal.stdin, stdout: terminal.stdout }),
      /the TUI needs an interactive terminal/,
    );
    assert.equal(client.closed, true);
  });
});
