/** `ralph daemon start [--foreground] | stop | status`. */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RpcRequestError } from '../../protocol/client.ts';
import { GOAL_STATES } from '../../protocol/index.ts';
import { isProcessAlive } from '../../protocol/index.ts';
import { daemonProcess, ensureDaemon, findRunningDaemon } from '../connection/daemon.ts';
import type { CommandContext, CommandHandler } from './commands.ts';
import { CliError, UsageError } from './errors.ts';
import { formatDuration, formatTable, print, printJson } from './output.ts';
import { withDaemon } from './session.ts';

const STOP_TIMEOUT_MS = 10_000;

export const startDaemon: CommandHandler = async (context) => {
  if (context.options.foreground) return runInForeground(context);
  const running = await ensureDaemon(context.repoRoot, { start: true });
  if (!running) throw new Error('ensureDaemon returned no daemon although asked to start one');
  const { file, started } = running;
  if (context.json) printJson({ running: true, started, url: file.url, pid: file.pid });
  else print(`${started ? 'daemon started' : 'daemon already running'}: ${file.url} (pid ${file.pid})`);
};

/**
 * The daemon in this terminal, logging to stderr. It runs in its own process group so that Ctrl+C
 * reaches it once, through this process, rather than twice (from the terminal and forwarded).
 */
async function runInForeground(context: CommandContext): Promise<number> {
  if (context.json) throw new UsageError('--json does not apply to daemon start --foreground', 'daemon start');
  const running = await findRunningDaemon(context.repoRoot);
  if (running) throw new CliError(`a daemon already serves ${context.repoRoot}: ${running.url} (pid ${running.pid})`);

  const { command, args, env } = daemonProcess(context.repoRoot, 'foreground');
  const child = spawn(command, args, { cwd: context.repoRoot, stdio: 'inherit', detached: true, env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new CliError(`cannot start the daemon: ${error.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
}

export const stopDaemon: CommandHandler = async (context) => {
  const running = await findRunningDaemon(context.repoRoot);
  if (!running) {
    if (context.json) printJson({ stopped: false, running: false });
    else print(`no daemon serves ${context.repoRoot}`);
    return;
  }
  await withDaemon(
    context,
    async (client) => {
      try {
        await client.request('daemon.shutdown', {});
      } catch (error) {
        // The daemon may close the connection before its answer arrives; only a refusal is a failure.
        if (error instanceof RpcRequestError) throw error;
      }
    },
    { start: false },
  );
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isProcessAlive(running.pid)) {
    if (Date.now() > deadline) throw new CliError(`the daemon (pid ${running.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    await sleep(50);
  }
  if (context.json) printJson({ stopped: true, pid: running.pid });
  else print(`daemon stopped (pid ${running.pid})`);
};

export const daemonStatus: CommandHandler = async (context) => {
  // No daemon: DaemonNotRunningError, `no daemon serves <repo>`, exit 1.
  const status = await withDaemon(context, (client) => client.request('daemon.status', {}), { start: false });
  if (context.json) {
    printJson(status);
    return;
  }
  const counts = GOAL_STATES.filter((state) => (status.goals[state] ?? 0) > 0).map((state) => `${status.goals[state]} ${state}`);
  const goals = counts.length ? counts.join(', ') : 'none';
  const clients = status.clients.map((client) => client.name).join(', ');
  const lines = formatTable([
    ['daemon', `running, pid ${status.daemon.pid}, ${status.url}`],
    ['version', `${status.daemon.version} (protocol ${status.daemon.protocolVersion})`],
    ['repo', `${status.repo.root}${status.repo.branch ? ` (${status.repo.branch})` : ''}`],
    ['uptime', formatDuration(Date.now() - new Date(status.daemon.startedAt).getTime())],
    ['clients', `${status.clients.length}${clients ? `: ${clients}` : ''}`],
    ['goals', `${goals}${status.invalidGoals ? ` (${status.invalidGoals} invalid)` : ''}`],
    ...(status.queue
      ? [
          ['queue', status.queue.reachable ? status.queue.url : `queue unreachable (${status.queue.url}): goals wait until it answers`] as [
            string,
            string,
          ],
        ]
      : []),
    // The worker running each remote goal, by the name it was given (print keeps it terminal-safe).
    ...(status.queue?.workers.length
      ? [['workers', status.queue.workers.map(({ goalId, worker }) => `#${goalId} on ${worker}`).join(', ')] as [string, string]]
      : []),
  ]);
  for (const line of lines) print(line);
};
