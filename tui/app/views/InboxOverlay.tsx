/** The inbox (`I`): the questions agents asked, over the panes; a or Enter answers the picked one in $EDITOR. */
import { Box, Text } from 'ink';
import type { InboxView } from '../state/inbox-state.ts';
import { openCount } from '../state/inbox-state.ts';
import { inboxRows } from './inbox-lines.ts';
import { Rows } from './Rows.tsx';
import { plural } from './text.ts';

export interface InboxOverlayProps {
  inbox: InboxView;
  width: number;
  height: number;
  closeKeys: string;
}

export function InboxOverlay({ inbox, width, height, closeKeys }: InboxOverlayProps) {
  const bodyRows = Math.max(1, height - 1);
  const rows = inboxRows(inbox, width, Math.max(1, Math.floor(bodyRows / 2)));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        Inbox{' '}
        <Text
          dimColor
        >{`· ${plural(openCount(inbox), 'open question')} · j/k pick · a/Enter answer in $EDITOR · ${closeKeys} closes`}</Text>
      </Text>
      <Rows rows={rows.slice(0, bodyRows)} width={width} height={bodyRows} />
    </Box>
  );
}
