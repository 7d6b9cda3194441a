/**
 * A goal that comes `after` others runs on top of them: its worktree must hold their landing
 * commits. The pipeline starts it only once they have all landed (protocol/goal-order.ts), so a
 * worktree made then branches from the developer's HEAD, which holds them already. One made before
 * (the goal ran, then was given `after` and queued again) is brought on top of them here, as the
 * run opens it:
 *
 *   - no work of its own yet (its branch is where it forked, nothing uncommitted): moved
 *     (fast-forward) to the developer's HEAD, as if made now;
 *   - committed work: rebased onto the developer's HEAD in its worktree. A conflict aborts the
 *     rebase (the branch is exactly as it was) and the goal goes on from where it was: landing
 *     rebases it later and says what conflicts;
 *   - uncommitted work (an iteration cut short): left as it is, for its next iteration to commit;
 *   - the developer's HEAD lacks a landing commit (they switched branches since): left as it is.
 *
 * Nothing is thrown away: every outcome is one decision line in the goal's log, the sha the branch
 * was at included when it moved.
 */
import type { Goal } from '../../protocol/index.ts';
import { HARNESS_COMMIT_CONFIG, git, gitRun, harnessCommitEnv, inProgressOperation, resolveCommit, splitNul } from '../git/git.ts';
import type { GoalJournal } from './journal.ts';
import type { GoalWorkspace } from './workspace.ts';

export type Placement =
  /** The branch holds every landing commit already (the usual case: a worktree made after they landed). */
  | { kind: 'on-top' }
  /** It had no work yet: its branch now starts at the developer's HEAD. */
  | { kind: 'moved'; from: string; to: string }
  /** Its commits were rebased onto the developer's HEAD. */
  | { kind: 'rebased'; from: string; to: string }
  /** Left as it was, and why. */
  | { kind: 'kept'; reason: string };

/** The landing commits of the goals `goal` comes after (those that have landed). */
export function dependencyCommits(goal: Goal, goalOf: (id: number) => Goal | undefined): { id: number; commit: string }[] {
  return (goal.after ?? []).flatMap((id) => {
    const landed = goalOf(id)?.landed;
    return landed ? [{ id, commit: landed.commit }] : [];
  });
}

/** Whether `commit` is `rev` or one of its ancestors; false too when either is no commit here. */
async function contains(cwd: string, rev: string, commit: string, workspace: GoalWorkspace): Promise<boolean> {
  const result = await gitRun(cwd, ['merge-base', '--is-ancestor', '--end-of-options', commit, rev], { env: workspace.env });
  return result.exitCode === 0;
}

/** Brings the goal's worktree on top of the landing commits of the goals it comes after (see the header). */
export async function placeOnDependencies(workspace: GoalWorkspace, landed: readonly { id: number; commit: string }[]): Promise<Placement> {
  const missing: { id: number; commit: string }[] = [];
  for (const dependency of landed) {
    if (!(await contains(workspace.path, 'HEAD', dependency.commit, workspace))) missing.push(dependency);
  }
  if (missing.length === 0) return { kind: 'on-top' };
  const names = missing.map((dependency) => `#${dependency.id}`).join(', ');

  const target = await resolveCommit(workspace.repoRoot, 'HEAD', workspace.env);
  if (!target) return { kind: 'kept', reason: 'the repository has no HEAD commit' };
  for (const dependency of missing) {
    if (!(await contains(workspace.repoRoot, target, dependency.commit, workspace))) {
      return {
        kind: 'kept',
        reason: `the current branch does not hold the landing of #${dependency.id} (${dependency.commit.slice(0, 7)})`,
      };
    }
  }
  const uncommitted = await workspace.uncommittedFiles();
  if (uncommitted.length > 0) {
    return {
      kind: 'kept',
      reason: `it has uncommitted work (${uncommitted.slice(0, 5).join(', ')}); landing rebases it onto ${names} later`,
    };
  }
  const [head, base] = await Promise.all([workspace.head(), workspace.baseCommit()]);
  if (head === base) {
    // No commit of its own: the developer's HEAD is ahead of it, so this is a fast-forward.
    await git(workspace.path, ['merge', '--quiet', '--ff-only', target], { env: workspace.env });
    return { kind: 'moved', from: head, to: target };
  }
  const env = await harnessCommitEnv(workspace.path, workspace.env);
  const result = await gitRun(workspace.path, [...HARNESS_COMMIT_CONFIG, 'rebase', '--quiet', '--no-autosquash', target], { env });
  if (result.exitCode === 0) return { kind: 'rebased', from: head, to: target };
  if ((await inProgressOperation(workspace.path, env)) !== 'rebase') {
    return { kind: 'kept', reason: `rebasing onto ${names} failed: ${result.stderr.trim().split('\n')[0] ?? ''}` };
  }
  const conflicted = splitNul(await git(workspace.path, ['diff', '--name-only', '-z', '--diff-filter=U'], { env }));
  await git(workspace.path, ['rebase', '--abort'], { env });
  return {
    kind: 'kept',
    reason: `its work conflicts with ${names}${conflicted.length > 0 ? ` in ${conflicted.join(', ')}` : ''}; it goes on from where it was and landing rebases it`,
  };
}

/** As the run opens the worktree of a goal that comes after others: places it on them and says so in the goal's log. */
export async function startOnDependencies(
  workspace: GoalWorkspace,
  goal: Goal | undefined,
  goalOf: (id: number) => Goal | undefined,
  journal: GoalJournal,
): Promise<void> {
  if (!goal?.after?.length) return;
  const landed = dependencyCommits(goal, goalOf);
  const names = landed.map((dependency) => `#${dependency.id}`).join(', ');
  let placement: Placement;
  try {
    placement = await placeOnDependencies(workspace, landed);
  } catch (error) {
    placement = { kind: 'kept', reason: (error as Error).message };
  }
  switch (placement.kind) {
    case 'on-top':
      return journal.write('decision', `starting on top of ${names}: the branch holds their landing commits`);
    case 'moved':
      return journal.write('decision', `moved the branch, which had no work yet, onto ${names} (${placement.to.slice(0, 7)})`, {
        from: placement.from,
        to: placement.to,
      });
    case 'rebased':
      return journal.write(
        'decision',
        `rebased the branch onto ${names} (${placement.to.slice(0, 7)}); it was at ${placement.from.slice(0, 7)}`,
        { from: placement.from, to: placement.to },
      );
    case 'kept':
      return journal.write('warning', `not on top of ${names}: ${placement.reason}`);
  }
}
