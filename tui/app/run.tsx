/** Starts the TUI on a connected client and returns when the user quits. */
import { render } from 'ink';
import type { EventEnvelope } from '../../protocol/index.ts';
import { App } from './App.tsx';
import type { DaemonConnection } from './connection.ts';
import { alertSequence, alertTerminal } from './terminal-alert.ts';
import { ThemeContext, themeFor } from './theme.ts';

export interface RunTuiOptions {
  /** A connected client; closed when the TUI ends (the daemon keeps running). */
  client: DaemonConnection & { close(): Promise<void> };
  /** The repository the TUI was opened for. What it shows comes from the daemon, which serves this repository. */
  repoRoot: string;
  /** Where to draw and read keys; the process's own terminal by default. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Where the terminal is described ($TMUX, $TERM_PROGRAM: how a notification is written). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Ends the TUI as `q` does (a spare's client asked to quit, or went away). */
  quit?: AbortSignal;
}

/**
 * Ink's frame cap (its default is 30). It is what a key waits for when a frame was just drawn:
 * ~8 ms at 120, not ~33. Events do not draw that often: they are batched to ~30 frames a second
 * while they stream (hooks/frame-batcher.ts), so a flood costs no more drawing than before.
 */
const MAX_FPS = 120;

export async function runTui({
  client,
  stdin = process.stdin,
  stdout = process.stdout,
  stderr = process.stderr,
  env = process.env,
  quit,
}: RunTuiOptions): Promise<void> {
  if (!stdin.isTTY) {
    await client.close();
    throw new Error('the TUI needs an interactive terminal (stdin is not a TTY); use the ralph goal commands instead');
  }
  // A notification rings the bell and asks for a desktop notification: sequences that take no
  // room on the screen, so they are written beside Ink's frames without disturbing them.
  const terminal = alertTerminal(env);
  const alert = (event: EventEnvelope) => {
    if (event.type !== 'notification') return;
    const sequence = alertSequence(event.data, terminal);
    if (sequence) stdout.write(sequence);
  };
  client.on('event', alert);
  // Ctrl+C is handled by the App like `q`, so both leave the same way.
  // The colours of this terminal's environment (NO_COLOR): a spare was loaded in another's.
  const app = (
    <ThemeContext.Provider value={themeFor(env)}>
      <App connection={client} />
    </ThemeContext.Provider>
  );
  const instance = render(app, { stdin, stdout, stderr, exitOnCtrlC: false, maxFps: MAX_FPS });
  const unmount = () => instance.unmount();
  if (quit?.aborted) unmount();
  else quit?.addEventListener('abort', unmount, { once: true });
  try {
    await instance.waitUntilExit();
  } finally {
    quit?.removeEventListener('abort', unmount);
    client.off('event', alert);
    await client.close();
  }
}
