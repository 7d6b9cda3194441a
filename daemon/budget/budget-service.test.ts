/** The spend ledger and the budget on real files: totals survive a restart, hostile lines are skipped, limits warn, hold and release. */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { EventEnvelope } from '../../protocol/index.ts';
import { defaultConfig, type RalphConfig } from '../config/schema.ts';
import { EventBus } from '../events/bus.ts';
import { ralphPaths } from '../paths.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { BudgetService, BudgetSpentError } from './budget-service.ts';
import { dayKey, monthKey, SpendLedger } from './ledger.ts';

interface Harness {
  repoRoot: string;
  clock: { at: Date };
  events: EventEnvelope[];
  logs: string[];
  holds: string[];
  notified: string[];
  budget: RalphConfig['budget'];
  open(): Promise<BudgetService>;
}

async function harness(t: TestContext, budget: Partial<RalphConfig['budget']>): Promise<Harness> {
  const repoRoot = await makeTempDir(undefined, 'ralph-budget-');
  const services: BudgetService[] = [];
  // One hook, services first: a ledger still writing would keep its folder from being removed.
  t.after(async () => {
    for (const service of services) await service.close();
    await rm(repoRoot, { recursive: true, force: true });
  });
  const h: Harness = {
    repoRoot,
    // Local time: the middle of a day, so the day's boundaries are where the test puts them.
    clock: { at: new Date(2026, 11, 3, 12, 0, 0) },
    events: [],
    logs: [],
    holds: [],
    notified: [],
    budget: { ...defaultConfig().budget, ...budget },
    async open() {
      const bus = new EventBus();
      bus.subscribe(({ envelope }) => h.events.push(envelope));
      const service = await BudgetService.open({
        repoRoot,
        bus,
        settings: () => h.budget,
        log: (line) => h.logs.push(line),
        // A long tick: the test drives the clock and the tick itself.
        clock: { now: () => h.clock.at, tickMs: 60_000 },
        notify: (content) => h.notified.push(content.body),
      });
      services.push(service);
      service.attach({
        hold: (message, until) => h.holds.push(`hold ${message} until ${until.toISOString()}`),
        release: () => h.holds.push('release'),
      });
      return service;
    },
  };
  return h;
}

const call = (costUsd: number | null, tokens = 100) => ({
  model: 'gpt-5.4-mini',
  usage: { inputTokens: tokens, cachedInputTokens: 0, outputTokens: 0 },
  costUsd,
});

/** Runs the service's clock tick now (the timer's own would come a minute later). */
async function tick(service: BudgetService): Promise<void> {
  await (service as unknown as { tick(): Promise<void> }).tick();
}

describe('the spend budget', () => {
  it('counts every call in the ledger, which a restarted daemon reads back, per local day and month', async (t) => {
    const h = await harness(t, {});
    const first = await h.open();
    first.record({ goalId: 3, iteration: 1 }, call(0.25));
    first.record({ researchId: 'r-1' }, call(null, 50));
    h.clock.at = new Date(2026, 11, 4, 9, 0, 0);
    first.record({ chat: '2026-12-04-1' }, call(0.5));
    await first.close();

    const lines = (await readFile(path.join(ralphPaths(h.repoRoot).spend, '2026-12.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(
      await readFile(path.join(ralphPaths(h.repoRoot).spend, '.gitignore'), 'utf8'),
      '*\n',
      'kept out of git whatever .ralph/.gitignore says',
    );
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0]!).scope, { goalId: 3, iteration: 1 });
    assert.equal(JSON.parse(lines[1]!).costUsd, null);

    const second = await h.open();
    const status = second.status();
    assert.equal(status.day, '2026-12-04');
    assert.deepEqual(status.today, { usd: 0.5, tokens: 100, calls: 1, unpricedCalls: 0 });
    assert.deepEqual(status.thisMonth, { usd: 0.75, tokens: 250, calls: 3, unpricedCalls: 1 });
    assert.equal(status.level, 'ok');
  });

  it('reads a hostile ledger without failing: bad, huge and cut lines are skipped and reported; a link is not followed', async (t) => {
    const h = await harness(t, {});
    const dir = ralphPaths(h.repoRoot).spend;
    await mkdir(dir, { recursive: true });
    const good = (usd: number) =>
      JSON.stringify({
        ...call(usd),
        at: h.clock.at.toISOString(),
        scope: { chat: 's' },
        inputTokens: 1,
        cachedInputTokens: 0,
        outputTokens: 1,
      });
    await writeFile(
      path.join(dir, '2026-12.jsonl'),
      [good(0.1), 'not json', '{"at":"yesterday"}', `{"x":"${'y'.repeat(100_000)}"}`, good(0.2), '{"cut":'].join('\n'),
    );
    const service = await h.open();
    assert.equal(service.status().thisMonth.calls, 2);
    assert.ok(Math.abs(service.status().thisMonth.usd - 0.3) < 1e-9);
    assert.ok(
      h.logs.some((line) => /4 lines that are not spend entries skipped/.test(line)),
      h.logs.join('\n'),
    );
    // The next entry starts on a line of its own, after the cut one.
    service.record({ chat: 's' }, call(0.1));
    await service.flush();
    const again = await new SpendLedger(dir, () => {}).read('2026-12');
    assert.equal(again.length, 3);

    const outside = path.join(h.repoRoot, 'elsewhere.jsonl');
    await writeFile(outside, `${good(5)}\n`);
    await symlink(outside, path.join(dir, '2026-11.jsonl'));
    const logs: string[] = [];
    assert.deepEqual(await new SpendLedger(dir, (line) => logs.push(line)).read('2026-11'), []);
    assert.match(logs.join('\n'), /symbolic link/);
  });

  it('warns once at 80 %, holds the pipeline and refuses new work at 100 %, and lets go the next day', async (t) => {
    const h = await harness(t, { dailyUsd: 1 });
    const service = await h.open();
    service.record({ goalId: 1, iteration: 1 }, call(0.5));
    assert.equal(h.events.filter((event) => event.type === 'budget.warning').length, 0);
    service.record({ goalId: 1, iteration: 2 }, call(0.35));
    service.record({ goalId: 1, iteration: 3 }, call(0.01));
    const warnings = h.events.filter((event) => event.type === 'budget.warning');
    assert.equal(warnings.length, 1, 'warned once');
    assert.match(JSON.stringify(warnings[0]!.data), /85 % of the budget: \$0\.85 of the daily \$1\.00 spent/);
    assert.equal(service.status().level, 'warning');
    service.ensureAvailable('research');
    assert.deepEqual(h.holds, []);

    service.record({ goalId: 2, iteration: 1 }, call(0.2));
    assert.equal(service.isSpent(), true);
    assert.equal(h.holds.length, 1);
    assert.equal(
      h.holds[0],
      `hold the spend budget is used up: $1.06 of the daily $1.00 spent until ${new Date(2026, 11, 4).toISOString()}`,
    );
    assert.equal(h.notified.length, 1);
    assert.throws(
      () => service.ensureAvailable('research'),
      (error: unknown) => {
        assert.ok(error instanceof BudgetSpentError);
        assert.match(
          error.message,
          /^the spend budget is used up \(\$1\.06 of the daily \$1\.00 spent\): research waits until the day rolls over/,
        );
        return true;
      },
    );

    h.clock.at = new Date(2026, 11, 4, 0, 0, 5);
    // Before the clock's tick: a request on the new day finds the budget free, and the pipeline is let go.
    service.ensureAvailable('research');
    assert.deepEqual(h.holds.slice(1), ['release']);
    await tick(service);
    assert.deepEqual(h.holds.slice(1), ['release']);
    assert.equal(service.status().today.usd, 0);
    assert.equal(service.status().level, 'ok');
    service.ensureAvailable('research');
  });

  it('a monthly limit holds until the month rolls over; a daily token limit counts unpriced calls', async (t) => {
    const h = await harness(t, { monthlyUsd: 2, dailyTokens: 1000 });
    const service = await h.open();
    service.record({ chat: 's' }, call(null, 999));
    assert.equal(service.status().level, 'warning');
    service.record({ chat: 's' }, call(null, 1));
    assert.equal(service.status().level, 'spent');
    assert.match(service.status().message ?? '', /^1,000 of the daily 1,000 tokens used$/);
    h.clock.at = new Date(2026, 11, 4, 8);
    await tick(service);
    assert.equal(h.holds.at(-1), 'release');
    service.record({ chat: 's' }, call(2));
    assert.equal(
      h.holds.at(-1),
      `hold the spend budget is used up: $2.00 of the monthly $2.00 spent until ${new Date(2027, 0, 1).toISOString()}`,
    );
    h.clock.at = new Date(2026, 11, 5, 8);
    await tick(service);
    assert.equal(service.isSpent(), true, 'the next day is still the same month');
    h.clock.at = new Date(2027, 0, 1, 0, 1);
    await tick(service);
    assert.equal(h.holds.at(-1), 'release');
    assert.equal(service.status().month, monthKey(h.clock.at));
    assert.equal(service.status().day, dayKey(h.clock.at));
  });

  it('an iteration meter turns running totals into calls, and says when the budget is used up', async (t) => {
    const h = await harness(t, { dailyUsd: 0.1 });
    const service = await h.open();
    const meter = service.iterationMeter({ goalId: 4, iteration: 2 }, 'gpt-5.4-mini');
    assert.equal(meter({ inputTokens: 100, cachedInputTokens: 0, outputTokens: 10, calls: 1, costUsd: 0.04 }), false);
    assert.equal(meter({ inputTokens: 300, cachedInputTokens: 50, outputTokens: 30, calls: 2, costUsd: 0.12 }), true);
    await service.flush();
    const entries = await new SpendLedger(ralphPaths(h.repoRoot).spend, () => {}).read('2026-12');
    assert.deepEqual(
      entries.map((entry) => [entry.inputTokens, entry.cachedInputTokens, entry.outputTokens, Number(entry.costUsd?.toFixed(6))]),
      [
        [100, 0, 10, 0.04],
        [200, 50, 20, 0.08],
      ],
    );
    assert.deepEqual(entries[1]!.scope, { goalId: 4, iteration: 2 });
  });
});
