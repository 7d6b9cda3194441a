/** A command's connection to the daemon: opened for the command, always closed after it. */
import type { RalphClient } from '../../protocol/client.ts';
import { connectToDaemon } from '../connection/daemon.ts';
import type { CommandContext } from './commands.ts';

export interface SessionOptions {
  /** Start a daemon when none runs (default true: like tmux, the first command starts it). */
  start?: boolean;
  /** Survive a daemon restart (long-running commands such as `logs --follow`). */
  reconnect?: boolean;
}

export async function withDaemon<T>(
  context: CommandContext,
  work: (client: RalphClient) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const client = await connectToDaemon(context.repoRoot, {
    name: 'cli',
    start: options.start ?? true,
    reconnect: options.reconnect ?? false,
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
