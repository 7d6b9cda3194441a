/** The pipeline pane: its title, the goals (scrolled to the selected one), and a line about the selected goal. */
import { Box, Text } from 'ink';
import type { Goal, InvalidGoal } from '../../../protocol/index.ts';
import type { GoalGroup } from '../state/view-state.ts';
import { useTheme } from '../theme.ts';
import { GoalPipeline } from './GoalPipeline.tsx';
import { PaneTitle } from './PaneTitle.tsx';
import type { GoalMeta } from './pipeline-lines.ts';

export interface PipelinePaneProps {
  groups: readonly GoalGroup[];
  invalid: readonly InvalidGoal[];
  selectedId: number | null;
  metaOf: (goal: Goal) => GoalMeta | null;
  detail: { tone: 'warning' | 'error' | 'info'; text: string } | null;
  info: string;
  emptyHint: string;
  focused: boolean;
  tabs: boolean;
  width: number;
  height: number;
}

export function PipelinePane({
  groups,
  invalid,
  selectedId,
  metaOf,
  detail,
  info,
  emptyHint,
  focused,
  tabs,
  width,
  height,
}: PipelinePaneProps) {
  const theme = useTheme();
  const listRows = Math.max(1, height - 1 - (detail ? 1 : 0));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <PaneTitle pane="pipeline" focused={focused} tabs={tabs} info={info} width={width} />
      <Box height={listRows} flexDirection="column" overflow="hidden">
        <GoalPipeline
          groups={groups}
          invalid={invalid}
          selectedId={selectedId}
          width={width}
          height={listRows}
          metaOf={metaOf}
          emptyHint={emptyHint}
        />
      </Box>
      {detail && (
        <Text wrap="truncate-end" color={detail.tone === 'info' ? undefined : theme[detail.tone]} dimColor={detail.tone === 'info'}>
          {'  '}
          {detail.text}
        </Text>
      )}
    </Box>
  );
}
