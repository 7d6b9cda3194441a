/**
 * Runs a program that delivers a notification (`notify-send`, the config's `notify.command`):
 * directly, never through a shell, in a process group of its own, its input written to stdin. It
 * gets a bounded time; then, or once it exits, its group is killed (what it put in the background
 * must not outlive it, nor hold its output open). It never throws: the outcome says what went wrong.
 */
import { spawn } from 'node:child_process';
import { errorLine, formatSeconds, oneLine } from '../../protocol/index.ts';
import { signalGroup } from '../tools/process-group.ts';

/** The end of stderr kept for the failure's message. */
const STDERR_MAX_BYTES = 4096;

export type NotifierOutcome = { ok: true } | { ok: false; reason: string };

export interface NotifierRun {
  readonly done: Promise<NotifierOutcome>;
  /** Kills it now (the daemon is stopping). */
  kill(): void;
}

export interface NotifierOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
}

export function runNotifier(file: string, args: readonly string[], { cwd, env, timeoutMs, input }: NotifierOptions): NotifierRun {
  const child = spawn(file, args, { cwd, env, detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      signalGroup(child.pid, 'SIGKILL');
    } catch {
      // not ours to signal any more
    }
  };
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_MAX_BYTES);
  });
  // A program that does not read its input (or is gone) makes writing it fail: that is no failure of the delivery.
  child.stdin.on('error', () => {});
  child.stdin.end(input ?? '');
  const done = new Promise<NotifierOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: NotifierOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ ok: false, reason: `did not finish within ${formatSeconds(timeoutMs / 1000)}` }), timeoutMs);
    child.on('error', (error) => settle({ ok: false, reason: `could not start: ${errorLine(error)}` }));
    child.on('exit', killGroup);
    child.on('close', (code, signal) => {
      if (code === 0) return settle({ ok: true });
      const said = oneLine(stderr).slice(-300);
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      settle({ ok: false, reason: said ? `${how}: ${said}` : how });
    });
  });
  return { done, kill: killGroup };
}
