/**
 * The chat pane: the shared conversation (laid out by chat-lines.ts, only the visible rows drawn),
 * the draft the agent proposed, what the turn is doing now, and the input line.
 */
import { useSpinner } from '@inkjs/ui';
import { Box, Text } from 'ink';
import { describeWait } from '../../../protocol/index.ts';
import type { ChatView } from '../state/chat-state.ts';
import { queuedReplies, streamingMessage } from '../state/chat-state.ts';
import { splitAtCursor, type InputLine } from '../state/input-line.ts';
import { useTheme } from '../theme.ts';
import type { ChatFrame } from './chat-lines.ts';
import { PaneTitle } from './PaneTitle.tsx';
import { Rows, StyledRow } from './Rows.tsx';
import { displayWidth, plural, takeEnd, truncate } from './text.ts';

export interface ChatPaneProps {
  chat: ChatView;
  frame: ChatFrame;
  input: InputLine;
  focused: boolean;
  tabs: boolean;
  width: number;
  height: number;
  /** Keys shown in the status and placeholder lines. */
  interruptKey: string;
  focusKey: string;
}

export function ChatPane({ chat, frame, input, focused, tabs, width, height, interruptKey, focusKey }: ChatPaneProps) {
  const queued = queuedReplies(chat);
  const info = [`session ${chat.session}`, queued > 0 ? `${plural(queued, 'reply', 'replies')} queued` : ''].filter(Boolean).join(' · ');
  return (
    <Box flexDirection="column" width={width} height={height}>
      <PaneTitle pane="chat" focused={focused} tabs={tabs} info={info} width={width} />
      {frame.hint.length > 0 && <Rows rows={frame.hint} width={width} />}
      <Rows rows={frame.rows} keys={frame.keys} width={width} height={frame.contentRows} />
      {frame.proposal && <StyledRow row={frame.proposal} />}
      <TurnStatus chat={chat} width={width} interruptKey={interruptKey} />
      <InputRow input={input} focused={focused} width={width} focusKey={focusKey} />
    </Box>
  );
}

/** What the turn does now: streaming (Esc interrupts), waiting to retry, replies queued; blank when idle. */
function TurnStatus({ chat, width, interruptKey }: { chat: ChatView; width: number; interruptKey: string }) {
  const theme = useTheme();
  if (chat.wait) {
    const { attempt } = chat.wait;
    return (
      <Text color={theme.warning} wrap="truncate-end">
        ⏳ {describeWait(chat.wait)} (try {attempt})
      </Text>
    );
  }
  if (streamingMessage(chat)) return <Streaming width={width} interruptKey={interruptKey} />;
  return <Text> </Text>;
}

function Streaming({ width, interruptKey }: { width: number; interruptKey: string }) {
  const theme = useTheme();
  const { frame } = useSpinner({ type: 'dots' });
  return (
    <Text wrap="truncate-end">
      <Text color={theme.accent}>{frame}</Text>
      <Text dimColor>{truncate(` writing… ${interruptKey} interrupts`, width - 2)}</Text>
    </Text>
  );
}

/** `› text▌`: the end of a long text is shown, up to the cursor. */
function InputRow({ input, focused, width, focusKey }: { input: InputLine; focused: boolean; width: number; focusKey: string }) {
  const theme = useTheme();
  const prompt = (
    <Text color={theme.accent} bold>
      {'› '}
    </Text>
  );
  if (!focused) {
    return (
      <Text wrap="truncate-end">
        {prompt}
        {input.text === '' ? <Text dimColor>{`${focusKey} here to talk to the agent`}</Text> : <Text>{input.text}</Text>}
      </Text>
    );
  }
  const { before, under, after } = splitAtCursor(input);
  const room = Math.max(1, width - 3);
  const shownBefore = takeEnd(before, Math.max(0, room - Math.min(displayWidth(after) + 1, Math.floor(room / 3))));
  const shownAfter = truncate(after, Math.max(0, room - displayWidth(shownBefore) - 1));
  return (
    <Text wrap="truncate-end">
      {prompt}
      {shownBefore}
      <Text inverse>{under}</Text>
      {input.text === '' ? <Text dimColor>{' ask, research, agree on a goal'}</Text> : shownAfter}
    </Text>
  );
}
