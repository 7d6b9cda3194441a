/** The TUI and the daemon's budget: spend in the status bar, the 80 % warning as a notice, a hold saying what pauses the pipeline. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpendStatus } from '../../protocol/index.ts';
import { FakeConnection } from '../../test/helpers/tui/fake-connection.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

const spend = (usd: number, level: SpendStatus['level']): SpendStatus => ({
  day: '2026-12-03',
  month: '2026-12',
  today: { usd, tokens: 1000, calls: 3, unpricedCalls: 0 },
  thisMonth: { usd: usd + 2, tokens: 9000, calls: 30, unpricedCalls: 0 },
  budget: { dailyUsd: 1 },
  level,
  message: `$${usd.toFixed(2)} of the daily $1.00 spent`,
});

test('spend today and this month in the status bar, the 80 % warning as a notice, the budget’s hold in place of “paused”', async (t) => {
  const connection = new FakeConnection({
    ...makeSnapshot({ goals: [makeGoal(1, 'running', 'Add a lock file')] }),
    spend: spend(0.5, 'ok'),
  });
  const app = renderApp(t, connection);
  app.resize(120, 24);
  await eventually(() => assert.match(app.frame(), /\$0\.50 today · \$2\.50 month/));

  connection.pushEvent(
    makeEvent(1, 'budget.warning', { message: '85 % of the budget: $0.85 of the daily $1.00 spent', spend: spend(0.85, 'warning') }),
  );
  await eventually(() => assert.match(app.frame(), /85 % of the budget: \$0\.85 of the daily \$1\.00 spent/));
  await eventually(() => assert.match(app.frame(), /\$0\.85 today · \$2\.85 month/));

  const until = new Date(2026, 11, 4, 0, 0).toISOString();
  connection.pushEvent(makeEvent(2, 'spend.changed', spend(1.06, 'spent')));
  connection.pushEvent(
    makeEvent(3, 'pipeline.changed', {
      paused: true,
      running: [1],
      hold: { reason: 'budget', message: 'the spend budget is used up', until },
    }),
  );
  await eventually(() => assert.match(app.frame(), /⏸ budget spent until 00:00 {2}\$1\.06 today · \$3\.06 month/));
  assert.doesNotMatch(app.frame(), /pipeline paused/);
});
