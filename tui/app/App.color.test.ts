/** NO_COLOR (https://no-color.org): with it set, the TUI draws no color at all, in every pane. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const PRINT_FRAME = fileURLToPath(new URL('../../test/helpers/tui/print-frame.tsx', import.meta.url));
/** An SGR sequence that sets a foreground or background color (30–37, 38;…, 40–47, 48;…, 90–97, 100–107). */
const COLOR_SGR = /\u001b\[(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]/;

async function frameWith(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', PRINT_FRAME], {
    env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '', CI: '', ...env },
    timeout: 30_000,
  });
  return stdout;
}

test('with NO_COLOR set the frames carry no color; without it they do', async () => {
  const [colored, plain] = await Promise.all([frameWith({}), frameWith({ NO_COLOR: '1' })]);
  assert.match(colored, COLOR_SGR, 'colors are on when color is forced and NO_COLOR is not set');
  assert.match(plain, /Add a lock file/);
  assert.match(plain, /No model provider is configured/);
  assert.doesNotMatch(plain, COLOR_SGR);
  assert.match(plain, /\u001b\[1m/, 'bold is not a color: it stays');
});
