/**
 * The landing queue and each done goal's landability: what the daemon keeps in `.ralph/landing.json`
 * (so a restart goes on where it stopped), sends in the snapshot (`landing`), with every change
 * (`landing.changed`) and to `land.status`, and what the TUI and `ralph land status` show.
 *
 * The queue is ordered; one landing runs at a time (its `step` says where it is). Landability is
 * kept per done goal that has not landed: whether its branch, rebased on the target branch's head,
 * passes the check (kept up to date in the background when the target branch moves).
 */
import { z } from 'zod';
import { GoalId, IsoTime } from './goal.ts';
import { boundedJson, maxUnits, type JsonBounds } from './limits.ts';

/** Goals in the queue, and goals with a landability, at most (far more than done goals pile up). */
export const LANDING_QUEUE_MAX = 1000;
/** Files named per goal (a conflict's, a refusal's); more are counted in `moreFiles`. */
export const LANDING_FILES_MAX = 100;
/** A reason, in UTF-16 units: one line, or a failing check's last lines. */
export const LANDING_REASON_MAX = 4000;
const PATH_MAX = 4096;
const SHA_MAX = 64;
const BRANCH_MAX = 1024;

/** The whole state (the file, the event): a bound on top of the per-field ones. */
export const LANDING_BOUNDS: JsonBounds = { maxDepth: 8, maxNodes: 400_000, maxStringUnits: 16 * 1024 * 1024 };

/** Where a landing is: waiting its turn, rebasing the goal's branch, running the check on the result, making the commit. */
export const LANDING_STEPS = ['queued', 'rebase', 'check', 'commit'] as const;
export const LandingStep = z.enum(LANDING_STEPS);
export type LandingStep = z.infer<typeof LandingStep>;

export const LandingEntry = z.object({
  goalId: GoalId,
  queuedAt: IsoTime,
  /** Who asked: a person (`goal.land`, `L`, `ralph goal land`) or automatic landing (`executor.land: 'auto'`). */
  by: z.enum(['manual', 'auto']),
  step: LandingStep,
});
export type LandingEntry = z.infer<typeof LandingEntry>;

/**
 * A done goal's landability:
 * - `unknown`: not looked at yet;
 * - `checking`: being rebased and checked in the background;
 * - `landable`: rebased on the target's head and the check passed there;
 * - `needs-rebase`: the target branch moved since it was last rebased and checked;
 * - `conflicts`: rebasing conflicts on `files` (the branch was left as it was);
 * - `check-failing`: the check fails on the rebased branch (`reason` has its last lines);
 * - `refused`: its last landing was refused for another reason (the developer's uncommitted edits, …).
 */
export const LANDABILITY = ['unknown', 'checking', 'landable', 'needs-rebase', 'conflicts', 'check-failing', 'refused'] as const;
export const Landability = z.enum(LANDABILITY);
export type Landability = z.infer<typeof Landability>;

export const GoalLandability = z.object({
  goalId: GoalId,
  status: Landability,
  /** Why, when it is not landable: one line, or a failing check's last lines. */
  reason: maxUnits(z.string(), LANDING_REASON_MAX).optional(),
  /** The refusal's kind when a landing was refused (`uncommitted-changes`, `rebase-conflict`, `check-failed` …). */
  refusal: maxUnits(z.string(), 64).optional(),
  /** The files concerned: conflicting, or the developer's uncommitted edits in the way. */
  files: z.array(maxUnits(z.string(), PATH_MAX)).max(LANDING_FILES_MAX).default([]),
  moreFiles: z.int().nonnegative().optional(),
  /** The target branch and its head the goal was last rebased onto (and checked on). */
  branch: maxUnits(z.string(), BRANCH_MAX).optional(),
  targetHead: maxUnits(z.string(), SHA_MAX).optional(),
  /** The goal branch's head that was checked. */
  goalHead: maxUnits(z.string(), SHA_MAX).optional(),
  at: IsoTime,
});
export type GoalLandability = z.infer<typeof GoalLandability>;

export const LandingState = boundedJson(
  z.object({
    queue: z.array(LandingEntry).max(LANDING_QUEUE_MAX),
    goals: z.array(GoalLandability).max(LANDING_QUEUE_MAX),
  }),
  LANDING_BOUNDS,
);
export type LandingState = z.infer<typeof LandingState>;

export function emptyLandingState(): LandingState {
  return { queue: [], goals: [] };
}

/** How a goal's landability reads in one short phrase (the TUI's goal list, `ralph land status`). */
export function describeLandability(entry: GoalLandability): string {
  switch (entry.status) {
    case 'unknown':
      return 'landability not checked yet';
    case 'checking':
      return 'rebasing and checking';
    case 'landable':
      return 'landable';
    case 'needs-rebase':
      return 'needs rebase';
    case 'conflicts':
      return `conflicts: ${entry.files.join(', ')}${entry.moreFiles ? ` and ${entry.moreFiles} more` : ''}`;
    case 'check-failing':
      return 'check failing after rebase';
    case 'refused':
      return `refused: ${(entry.reason ?? '').split('\n')[0]}`;
  }
}
