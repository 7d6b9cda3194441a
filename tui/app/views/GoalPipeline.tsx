/**
 * The goal pipeline: goals grouped by state, the selected one marked, scrolled to fit the height.
 * A row: `› #id  title  codex · on worker-a · it 3/50 · $0.12 ⚠  ⠙ running` (the goal's own agent, the queue
 * worker running it, its priority and the goals it comes after, iteration, cost, a warning, the state).
 */
import { useSpinner } from '@inkjs/ui';
import { Box, Text } from 'ink';
import type { Goal, InvalidGoal } from '../../../protocol/index.ts';
import type { GoalGroup } from '../state/view-state.ts';
import { useTheme } from '../theme.ts';
import { pipelineLines, scrollWindow, type GoalMeta, type PipelineLine } from './pipeline-lines.ts';
import { oneLine } from './text.ts';

export const EMPTY_PIPELINE_HINT = 'No goals yet. Add one with: ralph goal add --title "…"';

/** Wide enough for the longest state ("cancelled", "⠙ running"), so states line up. */
const STATE_COLUMN = 9;

export interface GoalPipelineProps {
  groups: readonly GoalGroup[];
  invalid: readonly InvalidGoal[];
  selectedId: number | null;
  width: number;
  /** Rows it may use; longer pipelines scroll to keep the selected goal in view. */
  height: number;
  /** What to show beside a goal's title (iteration, cost, warning); none by default. */
  metaOf?: (goal: Goal) => GoalMeta | null;
  /** What an empty pipeline says. */
  emptyHint?: string;
}

export function GoalPipeline({ groups, invalid, selectedId, width, height, metaOf, emptyHint = EMPTY_PIPELINE_HINT }: GoalPipelineProps) {
  if (groups.length === 0 && invalid.length === 0) {
    return (
      <Box width={width}>
        <Text wrap="wrap">{emptyHint}</Text>
      </Box>
    );
  }
  const lines = pipelineLines(groups, invalid, selectedId);
  const focus = Math.max(
    0,
    lines.findIndex((line) => line.kind === 'goal' && line.selected),
  );
  const visible = scrollWindow(lines.length, focus, height);
  // Ids padded to the widest one, so titles start in one column.
  const idWidth = Math.max(...groups.flatMap((group) => group.goals.map((goal) => String(goal.id).length)), 1);
  return (
    <Box flexDirection="column" width={width}>
      {visible.above > 0 && <MoreLine text={`↑ ${visible.above} more`} />}
      {lines.slice(visible.start, visible.end).map((line) => (
        <PipelineRow
          key={line.key}
          line={line}
          width={width}
          idWidth={idWidth}
          meta={line.kind === 'goal' ? (metaOf?.(line.goal) ?? null) : null}
        />
      ))}
      {visible.below > 0 && <MoreLine text={`↓ ${visible.below} more`} />}
    </Box>
  );
}

function PipelineRow({ line, width, idWidth, meta }: { line: PipelineLine; width: number; idWidth: number; meta: GoalMeta | null }) {
  switch (line.kind) {
    case 'header':
      return (
        <Text bold wrap="truncate-end">
          {line.label} ({line.count})
        </Text>
      );
    case 'goal':
      return <GoalRow goal={line.goal} selected={line.selected} width={width} idWidth={idWidth} meta={meta} />;
    case 'invalid':
      return <InvalidRow invalid={line.invalid} />;
  }
}

/** `› #id  title  meta  state`: the title takes what room is left and is cut to it. */
function GoalRow({
  goal,
  selected,
  width,
  idWidth,
  meta,
}: {
  goal: Goal;
  selected: boolean;
  width: number;
  idWidth: number;
  meta: GoalMeta | null;
}) {
  const theme = useTheme();
  const metaText = meta
    ? [meta.agent === null ? null : oneLine(meta.agent), meta.worker, meta.order, meta.iteration, meta.usage, meta.landing]
        .filter(Boolean)
        .join(' · ')
    : '';
  return (
    <Box width={width}>
      <Box flexShrink={0}>
        <Text color={selected ? theme.accent : undefined} bold={selected}>
          {selected ? '› ' : '  '}#{String(goal.id).padEnd(idWidth)}
          {'  '}
        </Text>
      </Box>
      <Box flexGrow={1} flexShrink={1} flexBasis={0}>
        <Text bold={selected} wrap="truncate-end">
          {oneLine(goal.title)}
        </Text>
      </Box>
      {metaText || meta?.warning ? (
        <Box flexShrink={0} marginLeft={2}>
          <Text dimColor>{metaText}</Text>
          {meta?.warning ? <Text color={theme.warning}>{metaText ? ' ⚠' : '⚠'}</Text> : null}
        </Box>
      ) : null}
      <Box flexShrink={0} marginLeft={2} width={STATE_COLUMN}>
        {goal.state === 'running' ? (
          <RunningLabel />
        ) : (
          <Text dimColor={goal.state === 'done' || goal.state === 'cancelled'}>{goal.state}</Text>
        )}
      </Box>
    </Box>
  );
}

function RunningLabel() {
  const theme = useTheme();
  const { frame } = useSpinner({ type: 'dots' });
  return <Text color={theme.success}>{frame} running</Text>;
}

function InvalidRow({ invalid }: { invalid: InvalidGoal }) {
  const theme = useTheme();
  return (
    <Text color={theme.error} wrap="truncate-end">
      {'  '}✗ #{invalid.id} invalid: {oneLine(invalid.error)}
    </Text>
  );
}

function MoreLine({ text }: { text: string }) {
  return (
    <Text dimColor wrap="truncate-end">
      {'  '}
      {text}
    </Text>
  );
}
