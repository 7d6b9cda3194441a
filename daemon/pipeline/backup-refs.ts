/**
 * Backup refs of a goal's branch: before any step that rewrites the branch (a rebase, for a landing
 * or to keep the goal landable in the background), its head is kept as
 * `refs/ralph/backup/<id>/<n>`, so no work is lost whatever the rebase does or wherever a crash
 * cuts it. They are kept until the goal has landed, then deleted.
 *
 * Bounded: the first backup (the work as the agent left it) and the latest ones are kept; the ones
 * in between are older rebases of the same work.
 */
import { git, gitRun, type GitEnv } from '../git/git.ts';

const BACKUP_PREFIX = 'refs/ralph/backup';
/** Backups kept per goal: the first plus the latest BACKUPS_KEPT - 1. */
const BACKUPS_KEPT = 10;

export interface BackupRef {
  ref: string;
  n: number;
  commit: string;
}

export function backupRef(goalId: number, n: number): string {
  return `${BACKUP_PREFIX}/${goalId}/${n}`;
}

/** A goal's backups, oldest first. */
export async function listBackups(repoRoot: string, goalId: number, env: GitEnv = {}): Promise<BackupRef[]> {
  const prefix = `${BACKUP_PREFIX}/${goalId}/`;
  const output = await git(repoRoot, ['for-each-ref', '--format=%(refname) %(objectname)', prefix], { env });
  const backups: BackupRef[] = [];
  for (const line of output.split('\n')) {
    const [ref = '', commit = ''] = line.split(' ');
    const n = Number(ref.slice(prefix.length));
    if (ref.startsWith(prefix) && Number.isInteger(n) && n > 0 && commit) backups.push({ ref, n, commit });
  }
  return backups.sort((a, b) => a.n - b.n);
}

/**
 * Keeps `head` (the goal branch's head, about to be rewritten) as the goal's next backup, unless
 * the latest backup already is that commit. Returns the backup.
 */
export async function backupGoalHead(repoRoot: string, goalId: number, head: string, env: GitEnv = {}): Promise<BackupRef> {
  const backups = await listBackups(repoRoot, goalId, env);
  const latest = backups.at(-1);
  if (latest?.commit === head) return latest;
  const n = (latest?.n ?? 0) + 1;
  const ref = backupRef(goalId, n);
  // The empty old value: create it, never overwrite one.
  await git(repoRoot, ['update-ref', '-m', `Ralph: backup of goal #${goalId} before a rebase`, ref, head, ''], { env });
  const excess = backups.length + 1 - BACKUPS_KEPT;
  for (const old of backups.slice(1, 1 + Math.max(0, excess))) await deleteRef(repoRoot, old, env);
  return { ref, n, commit: head };
}

/** Deletes a goal's backups (it has landed: its work is on the target branch). Returns how many there were. */
export async function deleteBackups(repoRoot: string, goalId: number, env: GitEnv = {}): Promise<number> {
  const backups = await listBackups(repoRoot, goalId, env);
  for (const backup of backups) await deleteRef(repoRoot, backup, env);
  return backups.length;
}

/** The goal ids that have backups. */
export async function goalsWithBackups(repoRoot: string, env: GitEnv = {}): Promise<number[]> {
  const output = await git(repoRoot, ['for-each-ref', '--format=%(refname)', `${BACKUP_PREFIX}/`], { env });
  const ids = new Set<number>();
  for (const ref of output.split('\n')) {
    const match = /^refs\/ralph\/backup\/(\d+)\/\d+$/.exec(ref);
    if (match) ids.add(Number(match[1]));
  }
  return [...ids].sort((a, b) => a - b);
}

async function deleteRef(repoRoot: string, backup: BackupRef, env: GitEnv): Promise<void> {
  await gitRun(repoRoot, ['update-ref', '-d', backup.ref, backup.commit], { env });
}
