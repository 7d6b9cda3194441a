/** The bottom lines: where we are (repository, branch), the link to the daemon, who else is attached, the keys. */
import { Box, Text } from 'ink';
import type { RepoInfo } from '../../../protocol/index.ts';
import type { ConnectionStatus } from '../connection.ts';
import { useTheme, type Theme } from '../theme.ts';
import { oneLine, plural } from './text.ts';

export const KEY_HINT = 'q quit · j/k move · enter queue';

export interface StatusBarProps {
  repo: RepoInfo | null;
  connection: ConnectionStatus;
  clients: number;
  changedFiles: number;
  width: number;
}

export function StatusBar({ repo, connection, clients, changedFiles, width }: StatusBarProps) {
  const theme = useTheme();
  const link = connectionLabel(connection, theme);
  return (
    <Box flexDirection="column" width={width}>
      <Box width={width}>
        <Box flexShrink={1}>
          <Text bold wrap="truncate-end">
            {repo ? `${oneLine(repo.name)} (${repo.branch === null ? 'detached' : oneLine(repo.branch)})` : 'no repository'}
          </Text>
        </Box>
        <Box flexShrink={0}>
          <Text>
            {'  '}
            <Text color={link.color}>{link.text}</Text>
            {`  ${plural(clients, 'client')}  ${changedFiles === 0 ? 'no files changed' : `${plural(changedFiles, 'file')} changed`}`}
          </Text>
        </Box>
      </Box>
      <Text dimColor wrap="truncate-end">
        {KEY_HINT}
      </Text>
    </Box>
  );
}

export function connectionLabel(status: ConnectionStatus, theme: Theme): { text: string; color: string | undefined } {
  switch (status) {
    case 'open':
      return { text: '● connected', color: theme.success };
    case 'connecting':
      return { text: '◌ connecting…', color: theme.warning };
    case 'reconnecting':
      return { text: '◌ reconnecting…', color: theme.warning };
    case 'closed':
      return { text: '✗ disconnected', color: theme.error };
  }
}
