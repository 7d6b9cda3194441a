/**
 * Goals ready to land, without the executor: the store's own transitions (queue → start →
 * complete) around one iteration committed in the goal's real worktree, as the executor would.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalWorkspace } from '../../daemon/pipeline/workspace.ts';
import { GoalStore } from '../../daemon/store/goal-store.ts';
import type { Goal } from '../../protocol/index.ts';

export interface DriveGoalInput {
  repoRoot: string;
  worktreesRoot: string;
  title: string;
  /** Files the goal's iteration writes (repo-relative path → content). */
  files: Record<string, string>;
  /** Stop while it runs instead of completing it. */
  running?: boolean;
}

export interface DrivenGoal {
  goal: Goal;
  workspace: GoalWorkspace;
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
}

/** A goal that ran one iteration writing `files` in its worktree, committed, and is now done (or still running). */
export async function driveGoal(store: GoalStore, input: DriveGoalInput): Promise<DrivenGoal> {
  const { id } = await store.create({ title: input.title, queue: true });
  await store.transition(id, 'start');
  const workspace = await GoalWorkspace.open({ repoRoot: input.repoRoot, goalId: id, worktreesRoot: input.worktreesRoot });
  await writeFiles(workspace.path, input.files);
  await workspace.commitIteration({ iteration: 1, summary: `work on ${input.title}` });
  const goal = input.running ? store.get(id)! : await store.transition(id, 'complete');
  return { goal, workspace };
}

/** driveGoal with a store of its own, closed after: for a daemon started afterwards, which then finds the goal done. */
export async function prepareDoneGoal(input: DriveGoalInput): Promise<DrivenGoal> {
  const store = await GoalStore.open({ repoRoot: input.repoRoot, bus: new EventBus(), watch: false });
  try {
    return await driveGoal(store, input);
  } finally {
    await store.close();
  }
}
