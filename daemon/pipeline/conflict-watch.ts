/**
 * Conflict warnings: when the developer changes a file (a `repo.changed` batch from the repository
 * watcher) that a goal's branch also changes, the goal gets a `goal.warning` {kind: 'conflict'}
 * and a line in its log, so nobody learns it only when landing is refused. Once per path per goal:
 * saving the same file again says nothing new.
 *
 * Goals watched: running or paused (their branch is still growing), and done but not landed yet.
 */
import type { Goal } from '../../protocol/index.ts';
import type { EventBus } from '../events/bus.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { listWorktrees, type GitEnv } from '../git/git.ts';
import { GoalWorkspace, goalBranch } from './workspace.ts';

export interface ConflictWatchOptions {
  repoRoot: string;
  store: GoalStore;
  bus: EventBus;
  log: Log;
  /** Where goal worktrees live (default: defaultWorktreesRoot()). */
  worktreesRoot?: string;
  /** Extra environment for git. */
  gitEnv?: GitEnv;
}

function isWatched(goal: Goal): boolean {
  return goal.state === 'running' || goal.state === 'paused' || (goal.state === 'done' && !goal.landed);
}

/** The goal's files that the developer's changed paths touch (a changed folder touches every file under it). */
export function overlappingFiles(goalFiles: readonly string[], changedPaths: readonly string[]): string[] {
  return goalFiles.filter((file) => changedPaths.some((changed) => file === changed || file.startsWith(`${changed}/`)));
}

export class ConflictWatch {
  private readonly options: ConflictWatchOptions;
  /** Per goal, the paths already warned about. */
  private readonly warned = new Map<number, Set<string>>();
  /** Paths reported while a batch was being checked: checked next, together. */
  private pending = new Set<string>();
  private checking: Promise<void> | null = null;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(options: ConflictWatchOptions) {
    this.options = options;
  }

  start(): void {
    this.unsubscribe ??= this.options.bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'repo.changed' || envelope.data.paths.length === 0) return;
      for (const changed of envelope.data.paths) this.pending.add(changed);
      this.checking ??= this.drain();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.checking;
  }

  /** Checks batches one after another until none is waiting. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.closed) {
        const paths = [...this.pending];
        this.pending = new Set();
        try {
          await this.check(paths);
        } catch (error) {
          this.options.log(`conflict watch: ${(error as Error).message}`);
        }
      }
    } finally {
      this.checking = null;
    }
  }

  private async check(changedPaths: string[]): Promise<void> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    const goals = store.list().filter(isWatched);
    // Goals no longer watched (landed, cancelled, stuck) are forgotten: a retry starts afresh.
    for (const id of this.warned.keys()) if (!goals.some((goal) => goal.id === id)) this.warned.delete(id);
    if (goals.length === 0) return;

    const worktrees = await listWorktrees(repoRoot, gitEnv);
    for (const goal of goals) {
      // Only an existing, complete worktree: opening one never creates it then (that is the pipeline's job).
      const entry = worktrees.find((worktree) => worktree.branch === goalBranch(goal.id));
      if (!entry || entry.locked !== null) continue;
      let goalFiles: string[];
      try {
        const workspace = await GoalWorkspace.open({ repoRoot, goalId: goal.id, worktreesRoot: this.options.worktreesRoot, env: gitEnv });
        goalFiles = await workspace.changedFiles();
      } catch (error) {
        this.options.log(`conflict watch: goal #${goal.id}: ${(error as Error).message}`);
        continue;
      }
      const warned = this.warned.get(goal.id) ?? new Set<string>();
      const fresh = overlappingFiles(goalFiles, changedPaths).filter((file) => !warned.has(file));
      if (fresh.length === 0 || this.closed) continue;
      for (const file of fresh) warned.add(file);
      this.warned.set(goal.id, warned);
      await this.warn(goal, fresh);
    }
  }

  private async warn(goal: Goal, paths: string[]): Promise<void> {
    const which = paths.length === 1 ? paths[0] : `${paths.length} files (${paths.join(', ')})`;
    const message = `you changed ${which}, which goal #${goal.id} also changes on ${goalBranch(goal.id)}: landing it may conflict`;
    this.options.bus.publish('goal.warning', { goalId: goal.id, kind: 'conflict', message, paths });
    try {
      await this.options.store.log.append(goal.id, { kind: 'warning', text: message, warning: 'conflict', paths });
    } catch (error) {
      this.options.log(`goal #${goal.id}: could not append to its log: ${(error as Error).message}`);
    }
  }
}
