/**
 * `ralph worker --queue URL [--concurrency N] [--dir DIR] [--name NAME]`: a queue worker until Ctrl+C.
 * The worker is daemon-side code (daemon/queue/worker.ts): the command line checks the usage, then
 * runs it as a process of its own from the daemon's entry, in the foreground, and exits with it.
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { queueUrlProblem } from '../../protocol/queue-url.ts';
import { workerProcess } from '../connection/daemon.ts';
import type { CommandHandler } from './commands.ts';
import { UsageError } from './errors.ts';

export const workerCommand: CommandHandler = async (context) => {
  const url = (context.options.queue as string | undefined) ?? process.env.RALPH_QUEUE_URL?.trim();
  if (!url) throw new UsageError('ralph worker needs --queue URL (or RALPH_QUEUE_URL): redis://host:6379', 'worker');
  const problem = queueUrlProblem(url);
  if (problem) throw new UsageError(problem, 'worker');
  const concurrencyText = (context.options.concurrency as string | undefined) ?? '1';
  if (!/^[1-9]\d?$/.test(concurrencyText)) throw new UsageError(`--concurrency takes 1 to 99, not ${concurrencyText}`, 'worker');
  const dir = path.resolve((context.options.dir as string | undefined) ?? path.join(homedir(), '.ralph-worker'));
  const name = context.options.name as string | undefined;
  const { command, args, env } = workerProcess([
    '--queue',
    url,
    '--concurrency',
    concurrencyText,
    '--dir',
    dir,
    ...(name ? ['--name', name] : []),
  ]);
  // The worker process goes with this one, even when this one is killed outright (daemon/queue/worker-main.ts).
  const child = spawn(command, args, { stdio: 'inherit', env: { ...env, RALPH_WORKER_PARENT: String(process.pid) } });
  // Ctrl+C reaches the worker through the terminal's process group; a signal sent to this process alone is passed on.
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
};
