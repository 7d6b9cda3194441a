/**
 * The pipeline as a list of lines (group headers, goal rows, invalid goals), and which of them fit
 * the height: pure, so scrolling is tested without rendering.
 */
import type { Goal, InvalidGoal } from '../../../protocol/index.ts';
import { describeLandability, isOpen, workerName } from '../../../protocol/index.ts';
import { blockersOf, describeAfter, describeBlockers } from '../../../protocol/goal-order.ts';
import { runningIteration } from '../state/progress-state.ts';
import { type GoalGroup, type ViewState, workerOf } from '../state/view-state.ts';
import { formatCost, shortCount } from './format.ts';
import { capitalize, oneLine, truncate } from './text.ts';

export type PipelineLine =
  | { kind: 'header'; key: string; label: string; count: number }
  | { kind: 'goal'; key: string; goal: Goal; selected: boolean }
  | { kind: 'invalid'; key: string; invalid: InvalidGoal };

export function pipelineLines(groups: readonly GoalGroup[], invalid: readonly InvalidGoal[], selectedId: number | null): PipelineLine[] {
  const lines: PipelineLine[] = [];
  for (const group of groups) {
    lines.push({ kind: 'header', key: `header:${group.state}`, label: capitalize(group.state), count: group.goals.length });
    for (const goal of group.goals) lines.push({ kind: 'goal', key: `goal:${goal.id}`, goal, selected: goal.id === selectedId });
  }
  if (invalid.length > 0) {
    lines.push({ kind: 'header', key: 'header:invalid', label: 'Invalid', count: invalid.length });
    for (const bad of invalid) lines.push({ kind: 'invalid', key: `invalid:${bad.id}`, invalid: bad });
  }
  return lines;
}

export interface ScrollWindow {
  /** Lines [start, end) are shown. */
  start: number;
  end: number;
  /** Lines hidden above and below, to show as one "… N more" line each; 0 when there is no such line. */
  above: number;
  below: number;
}

/**
 * Which lines to show in `height` rows so the line at `focus` is visible, roughly centred; a
 * "more above" / "more below" marker takes a row on each side that hides lines.
 */
export function scrollWindow(total: number, focus: number, height: number): ScrollWindow {
  if (total <= height) return { start: 0, end: total, above: 0, below: 0 };
  const rows = Math.max(1, height);
  if (rows < 3) {
    // No room for markers: just the focused line (and its neighbour when two fit).
    const start = Math.min(Math.max(0, focus), total - rows);
    return { start, end: start + rows, above: 0, below: 0 };
  }
  let shown = rows - 2; // room for both markers
  let start = Math.min(Math.max(0, focus - Math.floor(shown / 2)), total - shown);
  if (start === 0) {
    shown += 1; // no marker above: one more line fits
  } else if (start + shown === total) {
    start -= 1; // no marker below: one more line fits, at the top
    shown += 1;
  }
  const end = start + shown;
  return { start, end, above: start, below: total - end };
}

// ---- what a row shows beside the title, and the selected goal's detail line -------------------

export interface GoalMeta {
  /** The agent backend the goal names ("codex"); null when it runs with the config's default. */
  agent: string | null;
  /** The queue worker that runs it now ("on worker-a"); absent for a goal run on the daemon's machine. */
  worker?: string;
  /** Its priority and the goals it comes after ("prio 5 · after #3", "waits for #3" while they hold it); absent when it has neither. */
  order?: string;
  /** "it 3/50" */
  iteration: string | null;
  /** "$0.12" or "12k tok" */
  usage: string | null;
  warning: boolean;
  /** A done goal's place in the landing queue or its landability ("landing 1/2", "landable", "conflicts", "check failing"); absent otherwise. */
  landing?: string;
}

/** A worker's name at most, in columns, beside a goal's title (the detail line has it whole). */
const WORKER_COLUMNS = 20;

/** The goal's own agent, the iteration (`it 3/50`: the running one, or how many the current attempt made), the cost, a warning. */
export function goalMeta(goal: Goal, state: ViewState, iterationLimit: number | null): GoalMeta {
  const running = runningIteration(state.progress, goal.id);
  const attempt = goal.attempts.at(-1);
  const count = running?.number ?? attempt?.iterations.length ?? 0;
  const showIteration = count > 0 && goal.state !== 'draft';
  const iteration = showIteration ? `it ${count}${iterationLimit && goal.state !== 'done' ? `/${iterationLimit}` : ''}` : null;
  const { usage } = goal;
  const cost = formatCost(usage.costUsd);
  const usageText =
    usage.calls === 0
      ? null
      : cost && usage.costUsd !== null && usage.costUsd > 0
        ? cost
        : `${shortCount(usage.inputTokens + usage.outputTokens)} tok`;
  const order = goalOrder(goal, state);
  const landing = landingMeta(goal, state);
  const worker = workerName(workerOf(state, goal));
  return {
    agent: goal.agent ?? null,
    // Any name someone gave a worker: one line, and short beside the title.
    ...(worker ? { worker: `on ${truncate(worker, WORKER_COLUMNS)}` } : {}),
    ...(order ? { order } : {}),
    iteration,
    usage: usageText,
    warning: state.warnings.has(goal.id),
    ...(landing ? { landing } : {}),
  };
}

/** Where a done goal stands for landing: its place in the queue (and step), else its landability in a word or two. */
function landingMeta(goal: Goal, state: ViewState): string | null {
  if (goal.state !== 'done' || goal.landed) return null;
  const { queue, goals } = state.landing;
  const place = queue.findIndex((entry) => entry.goalId === goal.id);
  if (place === 0 && queue[0]!.step !== 'queued') return `landing: ${queue[0]!.step}`;
  if (place >= 0) return `to land ${place + 1}/${queue.length}`;
  const known = goals.find((entry) => entry.goalId === goal.id);
  if (!known || known.status === 'unknown') return null;
  return known.status === 'check-failing' ? 'check failing' : known.status.replace('-', ' ');
}

/** "prio 5", "after #3, #4", or "waits for #3" while a queued goal is held by goals that have not landed. */
function goalOrder(goal: Goal, state: ViewState): string | null {
  const parts: string[] = [];
  if (goal.priority !== undefined) parts.push(`prio ${goal.priority}`);
  const blockers = goal.state === 'queued' ? blockersOf(goal, (id) => state.goals.get(id)) : [];
  if (blockers.length > 0) {
    const ids = blockers.flatMap((blocker) => (blocker.kind === 'cycle' ? [] : [`#${blocker.id}`]));
    parts.push(ids.length > 0 ? `waits for ${ids.join(', ')}` : 'waits: a cycle');
  } else {
    const after = describeAfter(goal);
    if (after) parts.push(after);
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

/**
 * One line about the selected goal, where there is something to say: a warning, what the running
 * iteration does now, the question it waits on, why it is stuck, where it was landed.
 */
export function goalDetail(goal: Goal, state: ViewState): { tone: 'warning' | 'error' | 'info'; text: string } | null {
  const warning = state.warnings.get(goal.id);
  if (warning) return { tone: 'warning', text: `⚠ ${oneLine(warning.message)}` };
  if (goal.state === 'running') {
    const running = runningIteration(state.progress, goal.id);
    const worker = workerName(workerOf(state, goal));
    const where = worker ? `on ${worker}` : null;
    if (running?.message)
      return { tone: 'info', text: `${where ? `${where} · ` : ''}iteration ${running.number}: ${oneLine(running.message)}` };
    if (where) return { tone: 'info', text: where };
  }
  if (goal.state === 'waiting') {
    const open = [...state.inbox.questions.values()].find(
      (question) => 'goalId' in question.from && question.from.goalId === goal.id && isOpen(question),
    );
    return {
      tone: 'warning',
      text: open ? `waiting for an answer to question ${open.id}: ${oneLine(open.question)}` : 'waiting for an answer (the inbox)',
    };
  }
  const attempt = goal.attempts.at(-1);
  if (goal.state === 'stuck' && attempt?.reason) return { tone: 'error', text: `stuck: ${oneLine(attempt.reason)}` };
  // A queued goal held by the goals it comes after: waiting for one that will land is the plan; one that never will needs a person.
  const blockers = goal.state === 'queued' ? blockersOf(goal, (id) => state.goals.get(id)) : [];
  if (blockers.length > 0) {
    const stalled = blockers.some((blocker) => blocker.kind !== 'waiting');
    return { tone: stalled ? 'warning' : 'info', text: oneLine(describeBlockers(blockers) ?? '') };
  }
  if (goal.landed) return { tone: 'info', text: `landed on ${oneLine(goal.landed.branch)} as ${goal.landed.commit.slice(0, 10)}` };
  const landability = goal.state === 'done' ? state.landing.goals.find((entry) => entry.goalId === goal.id) : undefined;
  if (landability && landability.status !== 'unknown' && landability.status !== 'landable') {
    const settled = landability.status !== 'checking' && landability.status !== 'needs-rebase';
    const why = landability.status === 'check-failing' ? `: ${oneLine(landability.reason?.split('\n').at(-1) ?? '')}` : '';
    return { tone: settled ? 'warning' : 'info', text: `${oneLine(describeLandability(landability))}${why}` };
  }
  if (goal.state === 'done' && goal.branch)
    return { tone: 'info', text: `done on ${oneLine(goal.branch)}: land it to bring it onto your branch` };
  return null;
}
