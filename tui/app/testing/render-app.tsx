/** Renders the App on a connection (in-memory or a real client) with ink-testing-library, unmounted after the test. */
import type { TestContext } from 'node:test';
import { render } from 'ink-testing-library';
import { App } from '../App.tsx';
import type { DaemonConnection } from '../connection.ts';

export const KEYS = { enter: '\r', down: '\u001B[B', up: '\u001B[A', ctrlC: '\u0003' } as const;

export function renderApp(t: TestContext, connection: DaemonConnection) {
  const instance = render(<App connection={connection} />);
  t.after(() => instance.unmount());
  return {
    ...instance,
    /** The last frame (never undefined, to keep assertions short). */
    frame: () => instance.lastFrame() ?? '',
    /** Sends keys once Ink listens for them (its input hook subscribes in an effect, after the first frame). */
    press: async (...keys: string[]) => {
      for (const key of keys) {
        await new Promise((resolve) => setImmediate(resolve));
        instance.stdin.write(key);
      }
    },
    /** Makes the terminal `columns` wide (ink-testing-library's is 100) and tells the app, as a real resize would. */
    resize: (columns: number, rows?: number) => {
      Object.defineProperty(instance.stdout, 'columns', { value: columns, configurable: true });
      if (rows !== undefined) Object.defineProperty(instance.stdout, 'rows', { value: rows, configurable: true });
      instance.stdout.emit('resize');
    },
  };
}
