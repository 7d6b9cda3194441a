/** The generic `command` agent backend's tests: scripts as agents, a daemon that runs them, what to look at after. */
import { readFileSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalLog } from '../../daemon/store/goal-log.ts';
import type { Goal, LogEntry } from '../../protocol/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

/** An executable bash script in `dir`. */
export async function script(dir: string, name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/bash\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** A repository whose config runs `agent` for every iteration, and a daemon on it that runs goals. */
export async function daemonWithAgent(t: TestContext, agent: unknown, executor: Record<string, unknown> = {}) {
  const config = `export default ${JSON.stringify({ executor: { agent, verify: 'test -f hello.txt', ...executor } })};\n`;
  const repo = await makeTempRepo(undefined, { 'ralph.config.ts': config });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  const daemon = await startTestDaemon(t, repo, { configWatch: false, pipeline: { paused: false } });
  const client = await daemon.connect('external-agent-test');
  return { ...daemon, client };
}

export async function logOf(repo: string, goalId: number): Promise<LogEntry[]> {
  return (await new GoalLog(repo, new EventBus()).read(goalId)).entries;
}

export async function ended(client: Awaited<ReturnType<typeof daemonWithAgent>>['client'], id: number, timeoutMs = 10_000): Promise<Goal> {
  return waitFor(
    async () => {
      const { goal } = await client.request('goal.get', { id });
      return goal.state === 'done' || goal.state === 'stuck' ? goal : undefined;
    },
    { timeoutMs, message: `goal #${id} to end` },
  );
}

export function trailers(repo: string, branch: string): string[] {
  return git(repo, 'log', '--format=%(trailers:key=Ralph-Iteration,valueonly)', `main..${branch}`).split('\n').filter(Boolean);
}

/** Whether a process is alive (a zombie is not: it runs nothing). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
