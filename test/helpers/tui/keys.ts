/** Ink key events for tests of the key handling: what Ink reports for a key (input, Key). */
import type { Key } from 'ink';
import { NO_KEY } from '../../../tui/app/keys/split-keys.ts';

const NAMED: Record<string, Partial<Key>> = {
  enter: { return: true },
  escape: { escape: true, meta: true },
  tab: { tab: true },
  'shift+tab': { tab: true, shift: true },
  up: { upArrow: true },
  down: { downArrow: true },
  left: { leftArrow: true },
  right: { rightArrow: true },
  pageup: { pageUp: true },
  pagedown: { pageDown: true },
  home: { home: true },
  end: { end: true },
  backspace: { delete: true }, // what Ink reports for the DEL most terminals send
};

/** `press('j')`, `press('Q')`, `press('enter')`, `press('ctrl+y')`: the [input, key] Ink would give. */
export function press(name: string): [string, Key] {
  const named = NAMED[name];
  if (named) return ['', { ...NO_KEY, ...named }];
  const ctrl = /^ctrl\+(.)$/.exec(name);
  if (ctrl) return [ctrl[1] ?? '', { ...NO_KEY, ctrl: true }];
  return [name, { ...NO_KEY, shift: /^[A-Z]$/.test(name) }];
}
