/**
 * A pane's first row: its name (the focused one marked), or on a small terminal the tabs of every
 * pane with the focused one shown, then what the pane is showing.
 */
import { Box, Text } from 'ink';
import { PANES, type Pane } from '../state/ui-state.ts';
import { useTheme } from '../theme.ts';
import { capitalize } from './text.ts';

export interface PaneTitleProps {
  pane: Pane;
  focused: boolean;
  /** Draw every pane's tab (one pane shown at a time). */
  tabs: boolean;
  /** What the pane shows ("#3 Add a lock file · following"). */
  info?: string;
  width: number;
}

export function PaneTitle({ pane, focused, tabs, info, width }: PaneTitleProps) {
  const theme = useTheme();
  return (
    <Box width={width} flexShrink={0}>
      <Box flexShrink={0}>
        {tabs ? (
          <Text>
            {PANES.map((name, i) => (
              <Text key={name}>
                {i > 0 ? '  ' : ''}
                <Text
                  bold={name === pane}
                  inverse={name === pane}
                  color={name === pane ? theme.accent : undefined}
                  dimColor={name !== pane}
                >
                  {` ${capitalize(name)} `}
                </Text>
              </Text>
            ))}
          </Text>
        ) : (
          <Text bold={focused} color={focused ? theme.accent : undefined} dimColor={!focused}>
            {focused ? '▸ ' : '  '}
            {capitalize(pane)}
          </Text>
        )}
      </Box>
      {info ? (
        <Box flexShrink={1} flexGrow={1} marginLeft={2}>
          <Text dimColor wrap="truncate-end">
            {info}
          </Text>
        </Box>
      ) : null}
    </Box>
  );
}
