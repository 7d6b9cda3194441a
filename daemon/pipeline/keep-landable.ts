/**
 * Keeps done goals landable while the target branch moves: when the developer's branch head
 * changes (they commit, another goal lands, they switch branches), each done goal that has not
 * landed is rebased onto the new head in its own worktree and its check run there, in the
 * background, one goal at a time, and never while a landing runs (they share the landing lock, and
 * a landing waiting in the queue goes first between goals). Each goal's landability (landable,
 * needs rebase, conflicts with the files, check failing after the rebase) is kept in the landing
 * book, which publishes it.
 *
 * A rebase keeps a backup ref of the branch first; one that conflicts is aborted, the branch left
 * as it was, and the conflict reported through `onConflict` (where conflict resolution plugs in).
 * The target head is polled (one `git rev-parse` per interval): commits move a ref the repository
 * watcher does not look at.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Goal } from '../../protocol/index.ts';
import { branchExists, currentBranch, git, gitRun, inProgressOperation, listWorktrees, resolveCommit, type GitEnv } from '../git/git.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import type { LandingBook } from './landing-book.ts';
import { LandingRefusedError, rebaseGoalBranch, recoverInterruptedRebase, type CheckResult, type LandingTarget } from './landing.ts';
import { GoalWorkspace, defaultWorktreesRoot, goalBranch, repoWorktreesFolder } from './workspace.ts';

/** How many of a failing check's last lines its landability quotes. */
const CHECK_REASON_LINES = 20;

/** A done goal whose branch conflicts with the target's head on `files`: what conflict resolution starts from. */
export interface GoalConflict {
  goalId: number;
  files: string[];
  /** The target branch and the head the rebase was tried onto. */
  branch: string;
  targetHead: string;
  /** The goal branch's head, as it was left (unchanged). */
  goalHead: string;
}

export interface KeepLandableOptions {
  repoRoot: string;
  store: GoalStore;
  book: LandingBook;
  log: Log;
  worktreesRoot?: string;
  gitEnv?: GitEnv;
  /** Runs a job under the landing lock: never at the same time as a landing. */
  exclusive: <T>(job: () => Promise<T>) => Promise<T>;
  /** Whether a landing is waiting in the queue: background work yields to it between goals. */
  landingWaiting: (goalId?: number) => boolean;
  /** The goal's check as a landing runs it; null when there is none (`executor.verify: null`). */
  check: () => ((cwd: string, signal: AbortSignal) => Promise<CheckResult>) | null;
  /** How often the target branch's head is looked at. */
  pollMs: number;
  /** A goal's rebase conflicts (its landability says so too). */
  onConflict?: (conflict: GoalConflict) => void;
}

function isCandidate(goal: Goal): boolean {
  return goal.state === 'done' && !goal.landed;
}

export class KeepLandable {
  private readonly options: KeepLandableOptions;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** The target (`branch head`) last seen by the poll. */
  private lastTarget: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Aborts a background check when the daemon stops. */
  private readonly stopping = new AbortController();
  /** Aborts the background check running now, when a landing is queued: landings do not wait for it. */
  private current: AbortController | null = null;

  constructor(options: KeepLandableOptions) {
    this.options = options;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.stopping.abort();
    this.current?.abort();
    await this.running;
  }

  /** Looks at every done goal again soon (a goal became done, a landing ended, the target moved). */
  kick(): void {
    if (this.closed) return;
    this.again = true;
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      // A kick that came after the loop's last look and before this: look again.
      if (this.again) this.kick();
    });
  }

  /** A landing was queued: the background check running now (if any) stops; its goal is looked at again later. */
  yieldToLanding(): void {
    this.current?.abort();
  }

  /** Whether the goals are being looked at now, or will be. */
  busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when the goals have been looked at (tests and the bench wait for it). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    while (this.again && !this.closed) {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        this.options.log(`keeping goals landable: ${(error as Error).message}`);
        this.lastTarget = null; // the next poll tries again
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const result = await gitRun(this.options.repoRoot, ['rev-parse', 'HEAD', '--symbolic-full-name', 'HEAD'], {
        env: this.options.gitEnv ?? {},
      });
      const seen = result.exitCode === 0 ? result.stdout.trim().replace(/\s+/g, ' ') : null;
      if (seen !== this.lastTarget) {
        this.lastTarget = seen;
        this.kick();
      }
    } finally {
      this.polling = false;
    }
  }

  /** The developer's branch and head, or null when there is none to rebase onto now (detached, mid-operation, no commit). */
  private async target(): Promise<LandingTarget | null> {
    const { repoRoot, gitEnv = {} } = this.options;
    if (await inProgressOperation(repoRoot, gitEnv)) return null;
    const branch = await currentBranch(repoRoot, gitEnv);
    const head = branch ? await resolveCommit(repoRoot, 'HEAD', gitEnv) : null;
    return branch && head ? { branch, head } : null;
  }

  private async pass(): Promise<void> {
    const { store, book, repoRoot, gitEnv = {} } = this.options;
    const target = await this.target();
    if (!target) return;
    const goals = store.list().filter(isCandidate);
    // Those checked against another head need a rebase: said at once for all of them, then done one by one.
    await book.markNeedsRebase(
      goals
        .map((goal) => book.landability(goal.id))
        .filter((entry) => entry && (entry.targetHead !== target.head || entry.branch !== target.branch))
        .map((entry) => entry!.goalId),
    );
    for (const goal of goals) {
      if (this.closed) return;
      // Landings first: the queue kicks this again once it is empty.
      if (this.options.landingWaiting()) return;
      if (this.options.landingWaiting(goal.id)) continue;
      const head = await resolveCommit(repoRoot, `refs/heads/${goalBranch(goal.id)}`, gitEnv);
      if (!head) continue;
      const known = book.landability(goal.id);
      if (
        known &&
        isSettled(known.status) &&
        known.branch === target.branch &&
        known.targetHead === target.head &&
        known.goalHead === head
      ) {
        continue;
      }
      try {
        await this.options.exclusive(() => this.recheck(goal.id));
      } catch (error) {
        this.options.log(`goal #${goal.id}: could not rebase and check it in the background: ${(error as Error).message}`);
        this.lastTarget = null; // the next poll tries again
      }
    }
  }

  /** Rebases one goal onto the target's head and runs its check there; records what came of it. */
  private async recheck(goalId: number): Promise<void> {
    const { store, book, repoRoot, gitEnv = {}, log } = this.options;
    const goal = store.get(goalId);
    if (!goal || !isCandidate(goal) || this.closed || this.options.landingWaiting(goalId)) return;
    const target = await this.target();
    if (!target || !(await branchExists(repoRoot, goalBranch(goalId), gitEnv))) return;
    if (await recoverGoalWorktree(repoRoot, goalId, this.options.worktreesRoot, gitEnv)) {
      log(`goal #${goalId}: a rebase cut short in its worktree was aborted; its branch is as it was`);
    }
    const workspace = await GoalWorkspace.open({ repoRoot, goalId, worktreesRoot: this.options.worktreesRoot, env: gitEnv });
    const where = { goalId, branch: target.branch, targetHead: target.head };
    const dirty = await workspace.uncommittedFiles();
    if (dirty.length > 0) {
      await book.setLandability({ ...where, status: 'unknown', reason: `its worktree has uncommitted changes to ${dirty.join(', ')}` });
      return;
    }
    const before = await workspace.head();
    await book.setLandability({ ...where, status: 'checking', goalHead: before });
    const fork = await gitRun(workspace.path, ['merge-base', before, target.head], { env: gitEnv });
    if (fork.exitCode !== 0) {
      await book.setLandability({
        ...where,
        status: 'refused',
        goalHead: before,
        reason: `its branch shares no history with ${target.branch}`,
      });
      return;
    }
    if (fork.stdout.trim() !== target.head) {
      try {
        await rebaseGoalBranch(workspace, target, goalId);
      } catch (error) {
        if (!(error instanceof LandingRefusedError)) throw error;
        const conflict = error.reason === 'rebase-conflict';
        await book.setLandability({
          ...where,
          status: conflict ? 'conflicts' : 'refused',
          refusal: error.reason,
          goalHead: before,
          reason: error.message,
          files: error.files,
        });
        if (conflict) {
          log(
            `goal #${goalId}: rebasing onto ${target.branch} conflicts in ${error.files.join(', ') || 'its history'}; its branch is as it was`,
          );
          this.options.onConflict?.({ goalId, files: error.files, branch: target.branch, targetHead: target.head, goalHead: before });
        }
        return;
      }
    }
    const rebased = await workspace.head();
    const check = this.options.check();
    if (check) {
      const cut = new AbortController();
      this.current = cut;
      const result = await check(workspace.path, cut.signal).finally(() => {
        this.current = null;
      });
      // What the check wrote (build output, caches git does not ignore) goes: the branch holds all the work.
      await git(workspace.path, ['reset', '--quiet', '--hard', 'HEAD'], { env: gitEnv });
      await git(workspace.path, ['clean', '--quiet', '-fd'], { env: gitEnv });
      if (cut.signal.aborted) {
        // Cut for a landing or by the daemon stopping: not a verdict; looked at again next time.
        await book.setLandability({ ...where, status: 'unknown', goalHead: rebased, reason: 'its check was cut short; it runs again' });
        return;
      }
      if (!result.ok) {
        const tail = result.output.trimEnd().split('\n').slice(-CHECK_REASON_LINES).join('\n');
        await book.setLandability({
          ...where,
          status: 'check-failing',
          refusal: 'check-failed',
          goalHead: rebased,
          reason: `the check fails on the branch rebased onto ${target.branch}:\n${tail}`,
        });
        log(`goal #${goalId}: the check fails after rebasing onto ${target.branch} (${target.head.slice(0, 7)})`);
        return;
      }
    }
    await book.setLandability({ ...where, status: 'landable', goalHead: rebased });
  }
}

/**
 * Undoes a rebase cut short (by a crash) in a done goal's worktree, found by its folder: its HEAD is
 * detached then, so the worktree is not on the goal's branch. True if there was one.
 */
export async function recoverGoalWorktree(
  repoRoot: string,
  goalId: number,
  worktreesRoot: string | undefined,
  env: GitEnv,
): Promise<boolean> {
  const folder = path.join(repoWorktreesFolder(worktreesRoot ?? defaultWorktreesRoot(), await realpath(repoRoot)), `goal-${goalId}`);
  const worktree = (await listWorktrees(repoRoot, env)).find((entry) => entry.path === folder);
  if (!worktree || worktree.locked !== null) return false;
  return recoverInterruptedRebase({ path: folder, branch: goalBranch(goalId), repoRoot, goalId, env });
}

/** Statuses that stay true until the target or the goal's branch moves. */
function isSettled(status: string): boolean {
  return status === 'landable' || status === 'conflicts' || status === 'check-failing' || status === 'refused';
}
