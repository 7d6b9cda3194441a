import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import type { ConnectionStatus } from '../connection.ts';
import { themeFor } from '../theme.ts';
import { StatusBar, statusRow } from './StatusBar.tsx';

const repo = { root: '/src/ralph', name: 'ralph', branch: 'main' };

function statusLine(props: Partial<Parameters<typeof StatusBar>[0]>): string {
  const { lastFrame, unmount } = render(<StatusBar repo={repo} connection="open" clients={1} changedFiles={0} width={80} {...props} />);
  const line = (lastFrame() ?? '').split('\n')[0]?.trimEnd() ?? '';
  unmount();
  return line;
}

test('each connection state has its label', () => {
  const labels: Record<ConnectionStatus, string> = {
    open: '● connected',
    connecting: '◌ connecting…',
    reconnecting: '◌ reconnecting…',
    closed: '✗ disconnected',
  };
  for (const [connection, label] of Object.entries(labels)) {
    assert.equal(statusLine({ connection: connection as ConnectionStatus }), `ralph (main)  ${label}  1 client  no files changed`);
  }
});

test('counts read as words, and a detached head says so', () => {
  assert.equal(statusLine({ clients: 3, changedFiles: 1 }), 'ralph (main)  ● connected  3 clients  1 file changed');
  assert.equal(
    statusLine({ changedFiles: 42, repo: { ...repo, branch: null } }),
    'ralph (detached)  ● connected  1 client  42 files changed',
  );
});

test('a long repository name is cut, the connection stays whole', () => {
  const line = statusLine({ repo: { ...repo, name: 'r'.repeat(120) }, width: 60 });
  assert.ok(line.length <= 60, line);
  assert.match(line, /^r+…\s+● connected {2}1 client {2}no files changed$/);
});

test('escape sequences in a branch name are not passed to the terminal', () => {
  const line = statusLine({ repo: { ...repo, branch: 'evil\u001b[2Jbranch' } });
  assert.ok(!line.includes('\u001b'), JSON.stringify(line));
  assert.match(line, /^ralph \(evil \[2Jbranch\)/);
});

test('what holds the pipeline, and spend today and this month, are on the status line', () => {
  const spend = {
    day: '2026-12-03',
    month: '2026-12',
    today: { usd: 1.06, tokens: 9000, calls: 4, unpricedCalls: 0 },
    thisMonth: { usd: 12.5, tokens: 90_000, calls: 40, unpricedCalls: 0 },
    budget: { dailyUsd: 1 },
    level: 'spent' as const,
    message: '$1.06 of the daily $1.00 spent',
  };
  const until = new Date(2026, 11, 4, 0, 0).toISOString();
  assert.equal(
    statusLine({ pipelinePaused: true, pipelineHold: { reason: 'budget', message: 'm', until }, spend, width: 120 }),
    'ralph (main)  ● connected  1 client  no files changed  ⏸ budget spent until 00:00  $1.06 today · $12.50 month',
  );
  assert.match(
    statusLine({
      pipelinePaused: true,
      pipelineHold: { reason: 'quota', message: 'm', until: new Date(2026, 0, 1, 14, 3).toISOString() },
      width: 120,
    }),
    /⏸ quota used up until 14:03$/,
  );
  assert.equal(
    statusLine({ spend: { ...spend, budget: {}, thisMonth: { ...spend.thisMonth, calls: 0 } } }),
    'ralph (main)  ● connected  1 client  no files changed',
    'nothing spent and no budget: nothing to say',
  );
});

test('a queue of workers that does not answer is a warning on the status line, whole at 80 columns; nothing while it answers', () => {
  const queue = { url: 'redis://q:6379', reachable: false };
  const line = statusLine({ queue, model: 'gpt-5.5', clients: 2, changedFiles: 3, width: 80 });
  assert.ok(line.length <= 80, line);
  assert.match(line, /● connected {2}2 clients {2}3 files changed {2}⚠ queue unreachable/);
  const row = statusRow({ repo, connection: 'open', clients: 1, changedFiles: 0, width: 80, queue }, themeFor({}));
  assert.deepEqual(row.find((segment) => segment.text.includes('queue unreachable'))?.style, { color: 'warning' }, 'in the warning colour');
  assert.equal(
    statusLine({ queue: { ...queue, reachable: true }, model: 'gpt-5.5' }),
    'ralph (main)  ● connected  1 client  no files changed  gpt-5.5',
  );
  assert.equal(statusLine({ queue: null }), 'ralph (main)  ● connected  1 client  no files changed', 'goals run here: no queue');
});
