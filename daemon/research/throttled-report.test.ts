import assert from 'node:assert/strict';
import { it } from 'node:test';
import { waitFor } from '../../test/helpers/wait.ts';
import { ThrottledReport, type ReportChanges } from './throttled-report.ts';

it('ThrottledReport sends the first report at once, merges the ones that follow, and flushes on close', async () => {
  const sent: ReportChanges[] = [];
  const report = new ThrottledReport((changes) => sent.push(changes), 50);
  report.report({ done: 1, message: 'reading a.ts' });
  report.report({ message: 'reading b.ts' });
  report.report({ done: 2, tokens: 100 });
  assert.deepEqual(sent, [{ done: 1, message: 'reading a.ts' }], 'later reports wait for the interval');
  await waitFor(() => sent.length === 2, { message: 'the merged report' });
  assert.deepEqual(sent[1], { message: 'reading b.ts', done: 2, tokens: 100 });

  report.report({ message: 'writing' });
  report.report({ costUsd: null });
  report.close();
  assert.deepEqual(sent.slice(2), [{ message: 'writing', costUsd: null }], 'close sends what is pending');
  report.report({ message: 'after the end' });
  report.flush();
  assert.equal(sent.length, 3, 'nothing after close');
});
