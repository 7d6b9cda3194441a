/** Draws rows of styled text (laid out by the pure *-lines.ts modules), one Ink Text per row. */
import { Box, Text } from 'ink';
import { memo } from 'react';
import { useTheme, type Theme } from '../theme.ts';
import type { Row, Style } from './text.ts';

export function styleProps(style: Style | undefined, theme: Theme) {
  if (!style) return {};
  return {
    bold: style.bold,
    italic: style.italic,
    dimColor: style.dim,
    inverse: style.inverse,
    color: style.color ? theme[style.color] : undefined,
  };
}

/**
 * One row. Memoized: a row object that did not change (a finished message's rows are cached) is
 * not drawn again by React.
 */
export const StyledRow = memo(function StyledRow({ row }: { row: Row }) {
  const theme = useTheme();
  if (row.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {row.map((segment, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a row's segments have no identity but their place, and rows are drawn whole
        <Text key={i} {...styleProps(segment.style, theme)}>
          {segment.text}
        </Text>
      ))}
    </Text>
  );
});

export interface RowsProps {
  rows: readonly Row[];
  /** Stable keys for the rows (by default their position). */
  keys?: readonly string[];
  width: number;
  height?: number;
}

export function Rows({ rows, keys, width, height }: RowsProps) {
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {rows.map((row, i) => (
        <StyledRow key={keys?.[i] ?? i} row={row} />
      ))}
    </Box>
  );
}
