/** `ralph status`: the daemon, the pipeline (and what holds it), the goals, and spend today and this month against the budget. */
import { formatUsd, GOAL_STATES, type PipelineStatus, type SpendStatus, type SpendTotals } from '../../protocol/index.ts';
import type { CommandHandler } from './commands.ts';
import { formatDateTime, formatTable, print, printJson } from './output.ts';
import { withDaemon } from './session.ts';

export const statusCommand: CommandHandler = async (context) => {
  const status = await withDaemon(context, (client) => client.request('daemon.status', {}), { start: false });
  if (context.json) {
    printJson(status);
    return;
  }
  const counts = GOAL_STATES.filter((state) => (status.goals[state] ?? 0) > 0).map((state) => `${status.goals[state]} ${state}`);
  const rows: string[][] = [
    ['daemon', `running, pid ${status.daemon.pid}, ${status.url}`],
    ['repo', `${status.repo.root}${status.repo.branch ? ` (${status.repo.branch})` : ''}`],
    ...(status.pipeline ? [['pipeline', describePipeline(status.pipeline)]] : []),
    ['goals', counts.length ? counts.join(', ') : 'none'],
    ...(status.spend ? spendRows(status.spend) : []),
  ];
  for (const line of formatTable(rows)) print(line);
};

/** `active`, `paused (resume with: ralph pipeline resume)`, or what holds it and until when. */
export function describePipeline(pipeline: PipelineStatus): string {
  const { hold } = pipeline;
  if (hold) return `held: ${hold.message}${hold.until ? `; goes on by itself at ${formatDateTime(hold.until)}` : ''}`;
  return pipeline.paused ? 'paused (resume with: ralph pipeline resume)' : 'active';
}

/** Spend today and this month, each against its limit, and how near the nearest limit is. */
export function spendRows(spend: SpendStatus): string[][] {
  const { budget } = spend;
  const today = [
    spentOf(spend.today),
    budget.dailyUsd === undefined ? null : `of ${formatUsd(budget.dailyUsd)} a day`,
    budget.dailyTokens === undefined
      ? null
      : `(${spend.today.tokens.toLocaleString('en-US')} of ${budget.dailyTokens.toLocaleString('en-US')} tokens)`,
  ];
  const month = [spentOf(spend.thisMonth), budget.monthlyUsd === undefined ? null : `of ${formatUsd(budget.monthlyUsd)} a month`];
  const rows = [
    ['spend today', today.filter(Boolean).join(' ')],
    ['this month', month.filter(Boolean).join(' ')],
  ];
  if (spend.level !== 'ok' && spend.message)
    rows.push(['budget', `${spend.level === 'spent' ? 'used up' : 'nearly used up'}: ${spend.message}`]);
  else if (Object.keys(budget).length === 0) rows.push(['budget', 'none (set budget in ralph.config.ts)']);
  return rows;
}

function spentOf(totals: SpendTotals): string {
  const unpriced = totals.unpricedCalls > 0 ? ` + ${totals.unpricedCalls} calls at an unknown price` : '';
  return `${formatUsd(totals.usd)}${unpriced}, ${totals.calls} ${totals.calls === 1 ? 'call' : 'calls'}`;
}
