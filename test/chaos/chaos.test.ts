/**
 * The short chaos run (test/chaos/chaos-run.ts) in `npm test`: the real daemon process killed with
 * SIGKILL 10 times (at random moments, as a goal starts, while goals land, during log floods) and
 * restarted, while goals run, land and log; afterwards nothing may be lost, torn, duplicated, left
 * dangling or left running. The seed is random unless RALPH_CHAOS_SEED says otherwise; a failure
 * names it, and `npm run chaos -- --kills 10 --seed S --bundle` plays the same plan again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, randomSeed, runChaos, totalDefects } from './chaos-run.ts';

test('10 kill -9s of the daemon while goals run, land and log: nothing lost, torn, duplicated or left behind', async () => {
  const seed = process.env.RALPH_CHAOS_SEED ? Number(process.env.RALPH_CHAOS_SEED) : randomSeed();
  const report = await runChaos({ kills: 10, seed, daemonFrom: 'bundle', settleTimeoutMs: 60_000 });
  const table = formatReport(report);
  assert.equal(totalDefects(report), 0, `seed ${seed}:\n${table}\n${report.details.map((line) => `- ${line}`).join('\n')}`);
  // The run did what it is for: goals were created, ran, and landed between the kills.
  assert.equal(report.restarts, 10);
  assert.ok(report.goalsLanded >= 1, `goals landed (seed ${seed}):\n${table}`);
  assert.ok(report.logEntriesAcknowledged > 0, `log entries were written (seed ${seed})`);
  assert.ok(report.iterationCommits >= report.goalsLanded, `every landed goal committed its iterations (seed ${seed})`);
});
