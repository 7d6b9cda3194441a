/** The help (`?`): every binding, by pane, over the panes; j/k scroll it when it is taller than they are. */
import { Box, Text } from 'ink';
import { Rows } from './Rows.tsx';
import type { Row } from './text.ts';

export interface HelpOverlayProps {
  rows: readonly Row[];
  scroll: number;
  width: number;
  height: number;
  closeKeys: string;
}

export function HelpOverlay({ rows, scroll, width, height, closeKeys }: HelpOverlayProps) {
  const bodyRows = Math.max(1, height - 1);
  const start = Math.min(scroll, Math.max(0, rows.length - bodyRows));
  const more = rows.length - start - bodyRows;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        Keys{' '}
        <Text
          dimColor
        >{`· ${closeKeys} closes${more > 0 || start > 0 ? ' · j/k scroll' : ''} · change them in ralph.config.ts (tui.keys)`}</Text>
      </Text>
      <Rows rows={rows.slice(start, start + bodyRows)} width={width} height={bodyRows} />
    </Box>
  );
}

/** How far the help can scroll in a pane area of `height` rows. */
export function helpMaxScroll(rows: number, height: number): number {
  return Math.max(0, rows - Math.max(1, height - 1));
}
