/** The SDK's retry rules as mirrored to report its waits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sdkRetriesStatus, sdkRetryDelaySeconds } from './retry-waits.ts';

test('the wait comes from retry-after-ms, else retry-after (seconds or a date), else the backoff', () => {
  assert.equal(sdkRetryDelaySeconds(new Headers({ 'retry-after-ms': '250', 'retry-after': '1' }), 0), 0.25);
  assert.equal(sdkRetryDelaySeconds(new Headers({ 'retry-after': '20' }), 0), 20);
  const date = new Date(Date.now() + 60_000).toUTCString();
  const fromDate = sdkRetryDelaySeconds(new Headers({ 'retry-after': date }), 0);
  assert.ok(fromDate > 50 && fromDate <= 60, `about a minute, got ${fromDate}`);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((retry) => sdkRetryDelaySeconds(new Headers(), retry)),
    [0.5, 1, 2, 4, 8, 8],
  );
});

test('the SDK retries 408, 409, 429 and 5xx unless x-should-retry says otherwise', () => {
  const answer = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });
  assert.deepEqual(
    [400, 401, 404, 408, 409, 429, 500, 503].map((status) => sdkRetriesStatus(answer(status))),
    [false, false, false, true, true, true, true, true],
  );
  assert.equal(sdkRetriesStatus(answer(500, { 'x-should-retry': 'false' })), false);
  assert.equal(sdkRetriesStatus(answer(400, { 'x-should-retry': 'true' })), true);
});
