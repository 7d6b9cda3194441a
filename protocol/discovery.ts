/**
 * How a client finds its repository's daemon: `.ralph/daemon.json`, written by the daemon
 * (mode 0600) and removed on clean shutdown. Both sides use this schema; the daemon is the only writer.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const DaemonFile = z.object({
  url: z.string().regex(/^ws:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/, 'a ws:// URL on a loopback address'),
  token: z.string().min(32),
  pid: z.int().positive(),
  protocolVersion: z.int(),
  version: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
});
export type DaemonFile = z.infer<typeof DaemonFile>;

export const RALPH_DIR = '.ralph';

export function daemonFilePath(repoRoot: string): string {
  return path.join(repoRoot, RALPH_DIR, 'daemon.json');
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The daemon file of a repository; null when there is none, an error when it is unreadable. */
export async function readDaemonFile(repoRoot: string): Promise<DaemonFile | null> {
  let text: string;
  try {
    text = await readFile(daemonFilePath(repoRoot), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${daemonFilePath(repoRoot)} is not valid JSON`);
  }
  const parsed = DaemonFile.safeParse(json);
  if (!parsed.success) throw new Error(`${daemonFilePath(repoRoot)} is not a daemon file: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
