/** The log pane: the selected goal's log, following its end or scrolled back, with search. */
import { Box, Text } from 'ink';
import type { Goal } from '../../../protocol/index.ts';
import { splitAtCursor } from '../state/input-line.ts';
import { useTheme } from '../theme.ts';
import type { LogFrame } from './log-lines.ts';
import { PaneTitle } from './PaneTitle.tsx';
import { Rows } from './Rows.tsx';
import { oneLine } from './text.ts';

export interface LogPaneProps {
  goal: Goal | null;
  frame: LogFrame;
  focused: boolean;
  tabs: boolean;
  width: number;
  height: number;
  /** Keys named in the search line. */
  nextMatchKey: string;
}

export function LogPane({ goal, frame, focused, tabs, width, height, nextMatchKey }: LogPaneProps) {
  const info = goal ? [`#${goal.id} ${oneLine(goal.title)}`, frame.position].filter(Boolean).join(' · ') : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <PaneTitle pane="log" focused={focused} tabs={tabs} info={info} width={width} />
      <Rows rows={frame.rows} keys={frame.keys} width={width} height={frame.contentRows} />
      {frame.search && <SearchLine search={frame.search} nextMatchKey={nextMatchKey} />}
    </Box>
  );
}

function SearchLine({ search, nextMatchKey }: { search: NonNullable<LogFrame['search']>; nextMatchKey: string }) {
  const theme = useTheme();
  if (search.editing) {
    const { before, under, after } = splitAtCursor({ text: search.text, cursor: search.cursor });
    return (
      <Text wrap="truncate-end">
        <Text color={theme.accent}>/</Text>
        {before}
        <Text inverse>{under}</Text>
        {after}
        <Text dimColor>{'  Enter searches · Esc cancels'}</Text>
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end">
      <Text color={theme.accent}>/</Text>
      {search.text}
      <Text dimColor>
        {search.matches === 0
          ? '  no match in the lines held'
          : `  ${search.matches} match${search.matches === 1 ? '' : 'es'} · ${nextMatchKey} next · Esc clears`}
      </Text>
    </Text>
  );
}
