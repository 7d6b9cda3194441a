/**
 * The bottom lines: where we are (repository, branch), the link to the daemon, who else is
 * attached, the model, files changed beside the editor, a paused pipeline; then the keys.
 */
import { Box, Text } from 'ink';
import type { RepoInfo } from '../../../protocol/index.ts';
import type { ConnectionStatus } from '../connection.ts';
import { useTheme, type Theme } from '../theme.ts';
import { StyledRow } from './Rows.tsx';
import { oneLine, plural, rowWidth, truncate, truncateRow, type ColorRole, type Row, type Segment } from './text.ts';

export interface StatusBarProps {
  repo: RepoInfo | null;
  connection: ConnectionStatus;
  clients: number;
  changedFiles: number;
  width: number;
  /** The chat's model (ralph.config.ts). */
  model?: string | null;
  pipelinePaused?: boolean;
  /** The keys line (footer). */
  keys?: string;
}

export function StatusBar({
  repo,
  connection,
  clients,
  changedFiles,
  width,
  model = null,
  pipelinePaused = false,
  keys = '',
}: StatusBarProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width}>
      <StyledRow row={statusRow({ repo, connection, clients, changedFiles, width, model, pipelinePaused }, theme)} />
      <Text dimColor wrap="truncate-end">
        {keys}
      </Text>
    </Box>
  );
}

/** The status line as a row: the repository gives way first, then the facts on the right are cut (the model first: a paused pipeline matters more). */
export function statusRow(
  { repo, connection, clients, changedFiles, width, model = null, pipelinePaused = false }: StatusBarProps,
  theme: Theme,
): Row {
  const link = connectionLabel(connection, theme);
  const facts = [plural(clients, 'client'), changedFiles === 0 ? 'no files changed' : `${plural(changedFiles, 'file')} changed`];
  const where = repo ? `${oneLine(repo.name)} (${repo.branch === null ? 'detached' : oneLine(repo.branch)})` : 'no repository';
  const right: Segment[] = [
    { text: '  ' },
    { text: link.text, style: link.role ? { color: link.role } : undefined },
    { text: `  ${facts.join('  ')}` },
  ];
  if (pipelinePaused) right.push({ text: '  ⏸ pipeline paused', style: { color: 'warning' } });
  if (model) right.push({ text: `  ${oneLine(model)}` });
  const rightWidth = Math.min(rowWidth(right), Math.max(0, width - 8));
  return [{ text: truncate(where, Math.max(1, width - rightWidth)), style: { bold: true } }, ...truncateRow(right, rightWidth)];
}

export function connectionLabel(status: ConnectionStatus, theme: Theme): { text: string; color: string | undefined; role: ColorRole } {
  const label = (text: string, role: ColorRole) => ({ text, role, color: theme[role] });
  switch (status) {
    case 'open':
      return label('● connected', 'success');
    case 'connecting':
      return label('◌ connecting…', 'warning');
    case 'reconnecting':
      return label('◌ reconnecting…', 'warning');
    case 'closed':
      return label('✗ disconnected', 'error');
  }
}
