/**
 * `ralph worker --queue URL [--concurrency N] [--dir DIR] [--name NAME] [--provider-url URL] [--allow-…] [--pass-env NAMES]`:
 * a queue worker until Ctrl+C.
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
  // What this worker allows beyond its floor is said here, on its machine, never by the queue (daemon/queue/worker-floor.ts).
  const providerUrl = context.options['provider-url'] as string | undefined;
  if (providerUrl !== undefined && !/^https?:$/.test(URL.parse(providerUrl)?.protocol ?? ''))
    throw new UsageError(`--provider-url takes an http:// or https:// URL, not ${providerUrl}`, 'worker');
  const passEnv = context.options['pass-env'] as string | undefined;
  const flags = ['allow-commands', 'allow-all-permissions', 'allow-sandbox-off'].filter((flag) => context.options[flag] === true);
  const { command, args, env } = workerProcess([
    '--queue',
    url,
    '--concurrency',
    concurrencyText,
    '--dir',
    dir,
    ...(name ? ['--name', name] : []),
    ...(providerUrl ? ['--provider-url', providerUrl] : []),
    ...(passEnv ? ['--pass-env', passEnv] : []),
    ...flags.map((flag) => `--${flag}`),
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
