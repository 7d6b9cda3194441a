/** Renders the App on a connection (in-memory or a real client) with ink-testing-library, unmounted after the test. */
import type { TestContext } from 'node:test';
import { render } from 'ink-testing-library';
import { App, type AppProps } from '../../../tui/app/App.tsx';
import type { DaemonConnection } from '../../../tui/app/connection.ts';

/** What a terminal sends for these keys. */
export const KEYS = {
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  shiftTab: '\u001B[Z',
  down: '\u001B[B',
  up: '\u001B[A',
  pageUp: '\u001B[5~',
  pageDown: '\u001B[6~',
  backspace: '\u007F',
  ctrlC: '\u0003',
  ctrlO: '\u000F',
  ctrlY: '\u0019',
} as const;

export function renderApp(t: TestContext, connection: DaemonConnection, props: Omit<AppProps, 'connection'> = {}) {
  const instance = render(<App connection={connection} {...props} />);
  t.after(() => instance.unmount());
  return {
    ...instance,
    /** The last frame (never undefined, to keep assertions short). */
    frame: () => instance.lastFrame() ?? '',
    /** The last frame's lines, trailing spaces removed. */
    lines: () => (instance.lastFrame() ?? '').split('\n').map((line) => line.trimEnd()),
    /** Sends keys once Ink listens for them (its input hook subscribes in an effect, after the first frame). */
    press: async (...keys: string[]) => {
      for (const key of keys) {
        await new Promise((resolve) => setImmediate(resolve));
        instance.stdin.write(key);
        // A lone Esc is told apart from the start of a sequence only after a pause.
        if (key === KEYS.escape) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    /** Types text as one chunk (a paste, or fast typing). */
    type: async (text: string) => {
      await new Promise((resolve) => setImmediate(resolve));
      instance.stdin.write(text);
    },
    /** Makes the terminal `columns` wide (ink-testing-library's is 100) and tells the app, as a real resize would. */
    resize: (columns: number, rows?: number) => {
      Object.defineProperty(instance.stdout, 'columns', { value: columns, configurable: true });
      if (rows !== undefined) Object.defineProperty(instance.stdout, 'rows', { value: rows, configurable: true });
      instance.stdout.emit('resize');
    },
  };
}
