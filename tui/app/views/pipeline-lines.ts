/**
 * The pipeline as a list of lines (group headers, goal rows, invalid goals), and which of them fit
 * the height: pure, so scrolling is tested without rendering.
 */
import type { Goal, InvalidGoal } from '../../../protocol/index.ts';
import type { GoalGroup } from '../state/view-state.ts';
import { capitalize } from './text.ts';

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
