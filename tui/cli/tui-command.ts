/**
 * The bare `ralph`: the TUI, attached to the repository's daemon (started if none runs). This is the
 * normal start; when a spare TUI waits for the repository, the thin `ralph` (tui/bin/attach.js)
 * hands it the terminal before this code is even loaded. An opened TUI leaves the next spare.
 */
import { TUI_CLIENT_NAME } from '../../protocol/events.ts';
import { connectToDaemon } from '../connection/daemon.ts';
import { spareLater } from '../spare/spawn.ts';
import type { CommandHandler } from './commands.ts';
import { CliError } from './errors.ts';

async function loadTui(): Promise<typeof import('../app/run.tsx')> {
  try {
    return await import('../app/run.tsx');
  } catch (error) {
    // Only the TUI itself missing gets the friendly message; an error inside it is a bug to show.
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ERR_MODULE_NOT_FOUND' && message.includes('run.tsx')) {
      throw new CliError('the TUI is not part of this build (tui/app/run.tsx is missing); the other commands work: ralph --help');
    }
    throw error;
  }
}

export const openTui: CommandHandler = async ({ repoRoot }) => {
  // Checked before anything starts: no daemon is started for a TUI that cannot run.
  if (!process.stdin.isTTY) throw new CliError('the TUI needs an interactive terminal; for scripts use the commands (ralph --help)');
  // Loading the TUI's code and reaching the daemon overlap: both take a while at start.
  const [tui, connection] = await Promise.allSettled([
    loadTui(),
    connectToDaemon(repoRoot, { name: TUI_CLIENT_NAME, start: true, reconnect: true }),
  ]);
  if (connection.status === 'rejected') throw connection.reason;
  const client = connection.value;
  if (tui.status === 'rejected') {
    await client.close();
    throw tui.reason;
  }
  const { runTui } = tui.value;
  const nextSpare = spareLater(repoRoot);
  try {
    await runTui({ client, repoRoot });
  } finally {
    await client.close(); // runTui closes it too; closing twice is harmless
    await nextSpare.now();
  }
};
