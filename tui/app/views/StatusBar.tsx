/**
 * The bottom lines: where we are (repository, branch), the link to the daemon, who else is
 * attached, the model, files changed beside the editor, a paused pipeline (and what holds it: the
 * budget, the provider's quota or rate limit), a queue of workers that does not answer, spend today
 * and this month; then the keys.
 */
import { Box, Text } from 'ink';
import type { PipelineHold, QueueStatus, RepoInfo, SpendStatus } from '../../../protocol/index.ts';
import type { ConnectionStatus } from '../connection.ts';
import { useTheme, type Theme } from '../theme.ts';
import { clockTime, formatCost } from './format.ts';
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
  /** Why the pipeline is held without a person pausing it. */
  pipelineHold?: PipelineHold | undefined;
  /** Spend today and this month against the budget. */
  spend?: SpendStatus | null;
  /** Questions agents asked that wait for an answer (the inbox). */
  openQuestions?: number;
  /** The queue goals run through on workers; null when they run on the daemon's machine. */
  queue?: Pick<QueueStatus, 'reachable'> | null;
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
  pipelineHold,
  spend = null,
  openQuestions = 0,
  queue = null,
  keys = '',
}: StatusBarProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width}>
      <StyledRow
        row={statusRow(
          { repo, connection, clients, changedFiles, width, model, pipelinePaused, pipelineHold, spend, openQuestions, queue },
          theme,
        )}
      />
      <Text dimColor wrap="truncate-end">
        {keys}
      </Text>
    </Box>
  );
}

/** The status line as a row: the repository gives way first, then the facts on the right are cut (the model first: a paused pipeline matters more). */
export function statusRow(
  {
    repo,
    connection,
    clients,
    changedFiles,
    width,
    model = null,
    pipelinePaused = false,
    pipelineHold,
    spend = null,
    openQuestions = 0,
    queue = null,
  }: StatusBarProps,
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
  // Before the pipeline's state: a question waiting for a person matters most.
  if (openQuestions > 0) right.push({ text: `  ? ${plural(openQuestions, 'question')}`, style: { color: 'warning', bold: true } });
  if (pipelineHold)
    right.push({ text: `  ⏸ ${holdLabel(pipelineHold)}`, style: { color: pipelineHold.reason === 'budget' ? 'error' : 'warning' } });
  else if (pipelinePaused) right.push({ text: '  ⏸ pipeline paused', style: { color: 'warning' } });
  // Remote goals wait while it does not answer (the daemon reconnects by itself); nothing to say while it does.
  if (queue && !queue.reachable) right.push({ text: '  ⚠ queue unreachable', style: { color: 'warning' } });
  const spent = spendLabel(spend);
  if (spent)
    right.push({
      text: `  ${spent}`,
      style: spend?.level === 'ok' ? undefined : { color: spend?.level === 'spent' ? 'error' : 'warning' },
    });
  if (model) right.push({ text: `  ${oneLine(model)}` });
  const rightWidth = Math.min(rowWidth(right), Math.max(0, width - 8));
  return [{ text: truncate(where, Math.max(1, width - rightWidth)), style: { bold: true } }, ...truncateRow(right, rightWidth)];
}

/** `budget spent`, `quota used up until 14:03`, `rate limited until 14:03`. */
export function holdLabel(hold: PipelineHold): string {
  const what = hold.reason === 'budget' ? 'budget spent' : hold.reason === 'quota' ? 'quota used up' : 'rate limited';
  return hold.until ? `${what} until ${clockTime(hold.until).slice(0, 5)}` : what;
}

/** `$0.12 today · $3.40 month`; null before anything is spent with no budget set. */
export function spendLabel(spend: SpendStatus | null): string | null {
  if (!spend) return null;
  const limited = Object.keys(spend.budget).length > 0;
  if (!limited && spend.thisMonth.calls === 0) return null;
  return `${formatCost(spend.today.usd)} today · ${formatCost(spend.thisMonth.usd)} month`;
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
