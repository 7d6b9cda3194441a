/**
 * The daemon side of landing (`goal.land`, and `executor.land: 'auto'`): a done goal's branch
 * becomes one commit `Goal #<id>: <title>` on the developer's branch (daemon/pipeline/landing.ts
 * does the git work), the goal records `landed`, and its worktree and branch go.
 *
 * Landings run one at a time for the whole repository: two at once would race for the
 * developer's branch and index, and one of them would be refused for nothing.
 */
import { readdir, realpath } from 'node:fs/promises';
import { plural, type EventEnvelope, type Goal } from '../../protocol/index.ts';
import type { ConfigService } from '../config/config-service.ts';
import { ConflictError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import type { Log } from '../log.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';
import { branchExists, currentBranch, git, gitRun, splitNul, type GitEnv } from '../git/git.ts';
import { runCheck } from './check.ts';
import { GOAL_TRAILER, LandingRefusedError, landGoal, repairIndexAfterLanding, type CheckResult } from './landing.ts';
import { GoalWorkspace, defaultWorktreesRoot, goalBranch, repoWorktreesFolder } from './workspace.ts';

type Cause = EventEnvelope['cause'];

/** How long landing waits for the pipeline to finish wrapping up a goal that just became done. */
const RUN_WRAP_UP_TIMEOUT_MS = 30_000;

export interface LandServiceOptions {
  repoRoot: string;
  store: GoalStore;
  bus: EventBus;
  /** `executor.verify` (the check), `executor.land` and the command limits, read at each landing. */
  config: ConfigService;
  log: Log;
  /** Where goal worktrees live (default: defaultWorktreesRoot()). */
  worktreesRoot?: string;
  /** Extra environment for git (tests hide the machine's git config). */
  gitEnv?: GitEnv;
  /** Whether the pipeline is running the goal now: a goal is never landed under its executor. */
  isRunning?: (goalId: number) => boolean;
  /** The daemon's secrets: kept from the check's environment (but `secrets.passEnv`) as in the iterations. Default: none known. */
  secrets?: DaemonSecrets;
}

export interface LandOutcome {
  goal: Goal;
  commit: string;
  /** Files the landing commit changed, relative to the repository root. */
  files: string[];
}

/** The first line of a refusal, for one-line answers; a failing check's output follows in the goal's log. */
function oneLineReason(message: string): string {
  const [head = message, ...rest] = message.split('\n');
  return rest.length > 0 ? `${head.replace(/:\s*$/, '')} (its output is in the goal's log)` : head;
}

export class LandService {
  private readonly options: LandServiceOptions;
  /** One landing at a time, whatever the goal. */
  private readonly queue = new KeyedQueue<'land'>();
  /** Goals being landed (or waiting their turn): a second request for one of them is refused at once. */
  private readonly landing = new Map<number, Promise<LandOutcome>>();
  private unsubscribe: (() => void) | undefined;
  /** Landings waiting for a goal's run to end: woken when the service closes. */
  private readonly runWaiters = new Set<() => void>();
  private closed = false;

  constructor(options: LandServiceOptions) {
    this.options = options;
  }

  /** Lands goals that become done by themselves when the config says `executor.land: 'auto'`. */
  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.options.bus.subscribe(({ envelope }) => {
      if (envelope.type !== 'goal.updated' || envelope.data.transition?.to !== 'done') return;
      if (this.options.config.config.executor.land !== 'auto') return;
      const id = envelope.data.goal.id;
      // Not inside the store's publish: the transition that made the goal done finishes first.
      setImmediate(() => void this.autoLand(id));
    });
    // A landing the last daemon did not finish (stopped or killed between the goal becoming done and
    // the landing being recorded) is taken up again: a done goal that has not landed is still due.
    if (this.options.config.config.executor.land === 'auto') {
      for (const goal of this.options.store.list()) {
        if (goal.state === 'done' && !goal.landed) setImmediate(() => void this.autoLand(goal.id));
      }
    }
    // And one that died after recording a landing may have left the goal's worktree and branch.
    void this.queue.run('land', () => this.removeLandedLeftovers());
  }

  /** Removes the worktrees and branches of landed goals (a landing cut short before its cleanup). */
  private async removeLandedLeftovers(): Promise<void> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    try {
      const landed = new Set(
        store
          .list()
          .filter((goal) => goal.landed)
          .map((goal) => goal.id),
      );
      if (landed.size === 0) return;
      const refs = await git(repoRoot, ['for-each-ref', '--format=%(refname)', 'refs/heads/ralph/'], { env: gitEnv });
      const folder = repoWorktreesFolder(this.options.worktreesRoot ?? defaultWorktreesRoot(), await realpath(repoRoot));
      const folders = await readdir(folder).catch(() => [] as string[]);
      const ids = new Set<number>();
      for (const name of [...refs.split('\n'), ...folders]) {
        const match = /(?:^refs\/heads\/ralph\/goal-|^goal-)(\d+)$/.exec(name);
        if (match && landed.has(Number(match[1]))) ids.add(Number(match[1]));
      }
      for (const id of ids) {
        if (this.closed) return;
        const removed = await GoalWorkspace.removeLandedLeftovers({
          repoRoot,
          goalId: id,
          worktreesRoot: this.options.worktreesRoot,
          env: gitEnv,
        });
        if (removed) this.options.log(`goal #${id}: removed the worktree and branch its landing left behind`);
      }
    } catch (error) {
      this.options.log(`landing: could not remove what landed goals left behind: ${(error as Error).message}`);
    }
  }

  /** Lands a done goal now; a refusal is a ConflictError whose data names the reason and the files. */
  land(id: number, cause?: Cause): Promise<LandOutcome> {
    if (this.closed) return Promise.reject(new UnavailableError('the daemon is stopping'));
    if (this.landing.has(id)) return Promise.reject(new ConflictError(`goal #${id} is being landed already`));
    const run = this.queue.run('land', () => this.landNow(id, cause));
    this.landing.set(id, run);
    const forget = () => this.landing.delete(id);
    run.then(forget, forget);
    return run;
  }

  /** Stops landing automatically and waits for a landing in progress (it is never cut in half). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const wake of [...this.runWaiters]) wake();
    await this.queue.idle();
  }

  private async autoLand(id: number): Promise<void> {
    if (this.closed) return;
    try {
      const { commit, files } = await this.land(id);
      this.options.log(`goal #${id}: landed automatically as ${commit.slice(0, 7)} (${plural(files.length, 'file')})`);
    } catch (error) {
      const message = `automatic landing refused, the goal stays done (land it with: ralph goal land ${id}): ${(error as Error).message}`;
      const files = error instanceof ConflictError ? ((error.data as { files?: string[] } | undefined)?.files ?? []) : [];
      this.options.bus.publish('goal.warning', { goalId: id, kind: 'land-refused', message, paths: files });
      this.options.log(`goal #${id}: ${message}`);
    }
  }

  private async landNow(id: number, cause: Cause): Promise<LandOutcome> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    const goal = store.require(id);
    if (goal.landed) {
      throw new ConflictError(`goal #${id} already landed as ${goal.landed.commit.slice(0, 7)} on ${goal.landed.branch}`);
    }
    if (goal.state !== 'done') throw new ConflictError(`goal #${id} is ${goal.state}: only a done goal can land`);
    if (!(await this.runEnded(id))) {
      throw new ConflictError(`goal #${id} is still being wrapped up by the pipeline; land it in a moment`);
    }
    const branch = goalBranch(id);
    if (!(await branchExists(repoRoot, branch, gitEnv))) {
      throw new ConflictError(`goal #${id} has no branch ${branch}: there is nothing to land`);
    }

    // A daemon that died between the landing commit and recording it: the commit says it all.
    const earlier = await findLandingCommit(repoRoot, id, gitEnv);
    if (earlier) {
      // It may have died before the developer's index was written: its files would show as staged reversals.
      const repaired = await repairIndexAfterLanding(repoRoot, earlier.commit, earlier.files, gitEnv);
      if (repaired.length > 0) this.options.log(`goal #${id}: the index still had ${repaired.join(', ')} as before its landing; updated`);
      return this.finish(goal, earlier, cause, 'found already landed');
    }

    const workspace = await GoalWorkspace.open({ repoRoot, goalId: id, worktreesRoot: this.options.worktreesRoot, env: gitEnv });
    const verify = this.options.config.config.executor.verify;
    try {
      const result = await landGoal({
        repoRoot,
        goalId: id,
        title: goal.title,
        workspace,
        check: verify === null ? undefined : (cwd) => this.check(verify, cwd),
      });
      return await this.finish(goal, result, cause, 'landed', workspace);
    } catch (error) {
      if (!(error instanceof LandingRefusedError)) throw error;
      await this.appendLog(id, { kind: 'land.refused', text: error.message, reason: error.reason, files: error.files }, cause);
      this.options.log(`goal #${id}: ${oneLineReason(error.message)}`);
      throw new ConflictError(oneLineReason(error.message), { reason: error.reason, files: error.files });
    }
  }

  /**
   * Whether the pipeline has let go of the goal. A goal that just became done is still the
   * pipeline's for a moment (its run writes its last log lines), so landing waits for the
   * `pipeline.changed` that ends the run, within a bound; false when it did not come (or the
   * service closed).
   */
  private runEnded(id: number): Promise<boolean> {
    const isRunning = this.options.isRunning;
    if (!isRunning?.(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ended: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        this.runWaiters.delete(wake);
        resolve(ended);
      };
      const wake = () => finish(false);
      const timer = setTimeout(() => finish(!isRunning(id)), RUN_WRAP_UP_TIMEOUT_MS);
      const unsubscribe = this.options.bus.subscribe(({ envelope }) => {
        if (envelope.type === 'pipeline.changed' && !isRunning(id)) finish(true);
      });
      this.runWaiters.add(wake);
    });
  }

  /** Records the landing on the goal, logs it, and removes the worktree and branch (their work is on the developer's branch now). */
  private async finish(
    goal: Goal,
    result: { commit: string; branch: string; files: string[] },
    cause: Cause,
    verb: string,
    workspace?: GoalWorkspace,
  ): Promise<LandOutcome> {
    const { store, repoRoot, gitEnv = {} } = this.options;
    const landed = await store.recordLanding(
      goal.id,
      { commit: result.commit, branch: result.branch, at: new Date().toISOString() },
      cause,
    );
    const text = `${verb} as ${result.commit.slice(0, 7)} on ${result.branch} (${plural(result.files.length, 'file')})`;
    await this.appendLog(goal.id, { kind: 'landed', text, commit: result.commit, branch: result.branch, files: result.files }, cause);
    this.options.log(`goal #${goal.id}: ${text}`);
    try {
      const ws =
        workspace ?? (await GoalWorkspace.open({ repoRoot, goalId: goal.id, worktreesRoot: this.options.worktreesRoot, env: gitEnv }));
      // force: what is left uncommitted in the worktree now came from the check (landing refuses a dirty one).
      await ws.remove({ deleteBranch: true, force: true });
    } catch (error) {
      this.options.log(`goal #${goal.id}: landed, but its worktree could not be removed: ${(error as Error).message}`);
    }
    return { goal: landed, commit: result.commit, files: result.files };
  }

  /** The goal check as the executor runs it after each iteration (same limits, the same environment rules, no secrets). */
  private async check(command: string, cwd: string): Promise<CheckResult> {
    const { commands, verifyTimeoutSeconds } = this.options.config.config.executor;
    const apiKey = this.options.config.provider().apiKey;
    const secrets = this.options.secrets ?? DaemonSecrets.none();
    const result = await runCheck(command, cwd, {
      timeoutMs: verifyTimeoutSeconds * 1000,
      outputLimitBytes: commands.outputLimitBytes,
      sandbox: commands.sandbox,
      secrets: [...(apiKey ? [apiKey] : []), ...secrets.values()],
      envRules: secrets.envRules(),
    });
    return { ok: result.ok, output: result.fullOutput };
  }

  /** The goal file is the record; a log line that cannot be written is reported, not thrown. */
  private async appendLog(id: number, entry: { kind: string; text: string; [key: string]: unknown }, cause: Cause): Promise<void> {
    try {
      await this.options.store.log.append(id, entry, cause);
    } catch (error) {
      this.options.log(`goal #${id}: could not append to its log: ${(error as Error).message}`);
    }
  }
}

/**
 * The landing commit of a goal on the developer's branch since the goal's branch forked from it
 * (found by its `Ralph-Goal: <id>` trailer), with the branch and the files it changed; null when
 * there is none.
 */
export async function findLandingCommit(
  repoRoot: string,
  goalId: number,
  env: GitEnv = {},
): Promise<{ commit: string; branch: string; files: string[] } | null> {
  const branch = await currentBranch(repoRoot, env);
  if (!branch) return null;
  const fork = await gitRun(repoRoot, ['merge-base', 'HEAD', goalBranch(goalId)], { env });
  if (fork.exitCode !== 0) return null;
  const log = await git(
    repoRoot,
    ['log', `--format=%H%x00%(trailers:key=${GOAL_TRAILER},valueonly,separator=%x2C)`, `${fork.stdout.trim()}..HEAD`],
    {
      env,
    },
  );
  for (const line of log.split('\n')) {
    const [commit, values = ''] = line.split('\0');
    if (!commit || !values.split(',').some((value) => value.trim() === String(goalId))) continue;
    const files = splitNul(
      await git(repoRoot, ['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--no-renames', commit], { env }),
    );
    return { commit, branch, files };
  }
  return null;
}
