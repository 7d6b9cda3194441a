/**
 * Resolving a landing conflict: a done goal whose branch no longer rebases onto the target (both
 * changed the same lines) goes back to the loop (`resolve`, protocol/goal.ts) for a bounded
 * conflict-resolution run, instead of being dropped.
 *
 * The worktree is set up as the landing will want it: the goal's branch is moved to the target's
 * head and the goal's whole change (its fork point to its head) is merged onto it, uncommitted,
 * with conflict markers where both sides changed the same lines. The agent edits those files like
 * any other; the iteration commits the result as one commit on top of the target, so the landing
 * has nothing left to rebase and its one commit holds the resolution. The goal's own commits stay
 * reachable from its backup ref (backup-refs.ts), and the branch is put back there when the
 * resolution fails: `stuck`, with the branch exactly as it was before.
 *
 * The run is done only when the agent says so, the check passes AND no conflict marker is left
 * in the conflicting files; it is stuck after RESOLUTION_MAX_ITERATIONS iterations (the goal's
 * usual time and cost bounds hold too).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { oneLine, RESOLVING_FILES_MAX, type Resolving } from '../../protocol/index.ts';
import { git, gitPath, gitRun, resolveCommit } from '../git/git.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { clip } from '../tools/tool.ts';
import { backupGoalHead } from './backup-refs.ts';
import type { GoalConflict } from './keep-landable.ts';
import type { GoalWorkspace } from './workspace.ts';

/** How many iterations one conflict resolution may take before the goal is stuck. */
export const RESOLUTION_MAX_ITERATIONS = 3;

/** Bounds of what the prompt quotes: files shown with both sides, characters of each side, the target's commits listed. */
const FILES_SHOWN = 8;
const SIDE_CHARS = 3000;
const COMMITS_SHOWN = 20;
const DIFFSTAT_CHARS = 3000;

type ConflictWorkspace = Pick<GoalWorkspace, 'path' | 'repoRoot' | 'goalId' | 'branch' | 'env'>;

/**
 * Sends a done goal back to the loop to resolve its landing conflict; false when it is not a done,
 * unlanded goal (any more), or is still being run.
 */
export async function startResolution(store: GoalStore, conflict: GoalConflict, isRunning: (id: number) => boolean): Promise<boolean> {
  const goal = store.get(conflict.goalId);
  if (goal?.state !== 'done' || goal.landed || isRunning(goal.id)) return false;
  const files = conflict.files.slice(0, RESOLVING_FILES_MAX);
  const named = files.length > 0 ? files.join(', ') : 'its files';
  await store.transition(goal.id, 'resolve', {
    note: clip(`its branch conflicts with ${conflict.branch} in ${named}: a conflict-resolution run resolves it`, 500),
    resolving: { files, branch: conflict.branch, targetHead: conflict.targetHead, goalHead: conflict.goalHead },
  });
  return true;
}

/**
 * Sets the worktree up for the resolution, unless that was done already (a run started again
 * after a restart): the branch at the target's head, the goal's change on top, uncommitted, with
 * conflict markers. Returns the files that conflict; null when it was set up before. `fresh`: no
 * iteration of the resolution has run yet, so a worktree at the target's head with nothing
 * uncommitted is a set-up a stop cut short (before the merge), done again.
 */
export async function setUpResolution(workspace: ConflictWorkspace, resolving: Resolving, fresh: boolean): Promise<string[] | null> {
  const { env, path: cwd } = workspace;
  const head = await resolveCommit(cwd, 'HEAD', env);
  const cutShort =
    fresh && head === resolving.targetHead && (await git(cwd, ['status', '--porcelain', '--untracked-files=all'], { env })).trim() === '';
  if (head !== resolving.goalHead && !cutShort) return null;
  await backupGoalHead(workspace.repoRoot, workspace.goalId, resolving.goalHead, env);
  await git(cwd, ['reset', '--quiet', '--hard', resolving.targetHead], { env });
  await git(cwd, ['clean', '-fdq'], { env });
  const merged = await gitRun(cwd, ['merge', '--squash', '--no-commit', resolving.goalHead], { env });
  const conflicted = (await git(cwd, ['diff', '--name-only', '--diff-filter=U'], { env })).split('\n').filter(Boolean);
  if (merged.exitCode !== 0 && conflicted.length === 0) {
    throw new Error(`could not merge the goal's change onto ${resolving.branch}: ${oneLine(merged.stderr || merged.stdout)}`);
  }
  // The index goes back to the target's: the goal's change (markers and all) is the worktree's uncommitted work.
  await git(cwd, ['reset', '--quiet'], { env });
  await rm(await gitPath(cwd, 'SQUASH_MSG', env), { force: true });
  return conflicted;
}

/** The prompt's section on the conflict: the files, both sides of each (bounded), the target's new commits. */
export async function conflictContext(workspace: ConflictWorkspace, resolving: Resolving): Promise<string> {
  const { env, path: cwd } = workspace;
  const { branch, targetHead, goalHead, files } = resolving;
  const forkResult = await gitRun(cwd, ['merge-base', targetHead, goalHead], { env });
  const fork = forkResult.exitCode === 0 ? forkResult.stdout.trim() : null;
  const parts: string[] = [
    '## A landing conflict to resolve',
    `This goal was done, but it no longer lands: ${branch} moved on (now ${targetHead.slice(0, 7)}) and changed the same lines. ` +
      `The workspace now holds ${branch}'s head with the goal's whole change applied on top, uncommitted; ` +
      'where both sides changed the same lines the files have conflict markers: `<<<<<<<` then ' +
      `${branch}'s side, \`=======\`, the goal's side, then \`>>>>>>>\`. ` +
      `Resolve them: keep what both sides meant, leave no marker, make the check pass, then say the goal is done. Do nothing else.`,
    `### Conflicting files\n\n${files.length > 0 ? files.map((file) => `- ${file}`).join('\n') : '(git named none: look for the markers)'}`,
  ];
  if (fork) {
    const log = await git(cwd, ['log', '--format=%h %s', `-${COMMITS_SHOWN}`, `${fork}..${targetHead}`], { env });
    const stat = await git(cwd, ['diff', '--stat', fork, targetHead], { env });
    parts.push(
      `### ${branch}'s new commits since the goal started from it\n\n\`\`\`\n${log.trim() || '(none)'}\n\n${clip(stat.trimEnd(), DIFFSTAT_CHARS)}\n\`\`\``,
    );
    const sides: string[] = [];
    for (const file of files.slice(0, FILES_SHOWN)) {
      const side = async (to: string) => clip((await git(cwd, ['diff', fork, to, '--', file], { env })).trimEnd(), SIDE_CHARS);
      sides.push(
        `#### ${file}\n\n${branch}'s change:\n\n\`\`\`diff\n${(await side(targetHead)) || '(none)'}\n\`\`\`\n\n` +
          `The goal's change:\n\n\`\`\`diff\n${(await side(goalHead)) || '(none)'}\n\`\`\``,
      );
    }
    if (files.length > FILES_SHOWN) sides.push(`(${files.length - FILES_SHOWN} more files: read them in the workspace)`);
    if (sides.length > 0) parts.push(`### Both sides, from where the goal started\n\n${sides.join('\n\n')}`);
  }
  return parts.join('\n\n');
}

/** Of the conflicting files, those that still hold a conflict marker line. */
export async function markersLeft(workspace: Pick<GoalWorkspace, 'path'>, files: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(workspace.path, file), 'utf8').catch(() => '');
    if (/^(<{7}|>{7})(?: |$)/m.test(text)) left.push(file);
  }
  return left;
}

/** Puts the goal's branch back where the resolution found it (nothing of the resolution stays). */
export async function restoreBranch(workspace: ConflictWorkspace, resolving: Resolving): Promise<void> {
  const { env, path: cwd } = workspace;
  await gitRun(cwd, ['merge', '--abort'], { env });
  await git(cwd, ['reset', '--quiet', '--hard', resolving.goalHead], { env });
  await git(cwd, ['clean', '-fdq'], { env });
  await rm(await gitPath(cwd, 'SQUASH_MSG', env), { force: true });
}
