/**
 * The TUI: the goal pipeline above, a status bar below. State lives in hooks (one per concern);
 * the views only draw what they are given.
 */
import { Box, Text, useApp, useInput, type Key } from 'ink';
import type { DaemonConnection } from './connection.ts';
import { useDaemonState } from './hooks/useDaemonState.ts';
import { useGoalActions } from './hooks/useGoalActions.ts';
import { useTerminalSize } from './hooks/useTerminalSize.ts';
import { changedFileCount, goalGroups, invalidGoals } from './state/view-state.ts';
import { useTheme } from './theme.ts';
import { GoalPipeline } from './views/GoalPipeline.tsx';
import { StatusBar } from './views/StatusBar.tsx';
import { oneLine } from './views/text.ts';

/** Rows the status bar takes. */
const STATUS_BAR_ROWS = 2;

export interface AppProps {
  connection: DaemonConnection;
}

export function App({ connection }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const theme = useTheme();
  const { state, current, dispatch } = useDaemonState(connection);
  const actions = useGoalActions(connection);

  const handleKey = (input: string, key: Key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) exit(); // the TUI goes; the daemon stays
    else if (input === 'j' || key.downArrow) dispatch({ kind: 'select', direction: 'next' });
    else if (input === 'k' || key.upArrow) dispatch({ kind: 'select', direction: 'previous' });
    else if (key.return || input === 'Q') {
      // The selection as of the keys before this one, even if React has not drawn it yet.
      const { selectedId } = current();
      if (selectedId !== null) actions.queue(selectedId);
    }
  };

  useInput((input, key) => {
    // Keys typed faster than the terminal is read arrive as one chunk ("jjk"): each is its own key.
    for (const one of plainKeys(input, key)) handleKey(one, key);
  });

  const notices = Object.entries({
    connection: state.connectionError,
    stopping: state.daemonStopping !== null ? `the daemon is stopping: ${state.daemonStopping}` : null,
    request: actions.error,
  }).filter((entry): entry is [string, string] => entry[1] !== null);
  // One row short of the terminal: a frame as tall as the terminal makes Ink clear the screen on every render.
  const pipelineRows = Math.max(1, rows - 1 - STATUS_BAR_ROWS - notices.length);

  return (
    <Box flexDirection="column" width={columns}>
      <GoalPipeline groups={goalGroups(state)} invalid={invalidGoals(state)} selectedId={state.selectedId} width={columns} height={pipelineRows} />
      {notices.map(([kind, notice]) => (
        <Text key={kind} color={theme.error} wrap="truncate-end">
          ✗ {oneLine(notice)}
        </Text>
      ))}
      <StatusBar
        repo={state.repo}
        connection={state.connection}
        clients={state.clients.length}
        changedFiles={changedFileCount(state)}
        width={columns}
      />
    </Box>
  );
}

/** The keys in one chunk of plain typed characters; anything with a modifier or special key is one key. */
export function plainKeys(input: string, key: Key): string[] {
  if (input.length <= 1 || key.ctrl || key.meta || key.return || key.escape) return [input];
  return [...input];
}
