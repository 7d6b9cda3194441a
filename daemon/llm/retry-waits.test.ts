/** The SDK's retry rules as mirrored to report its waits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchReportingRetries, limitResetSeconds, parseResetDuration, sdkRetriesStatus, sdkRetryDelaySeconds } from './retry-waits.ts';

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

test("a rate limit's reset: retry-after-ms, retry-after, else the later of OpenAI's x-ratelimit-reset durations", () => {
  assert.equal(limitResetSeconds(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' })), 1.5);
  assert.equal(limitResetSeconds(new Headers({ 'retry-after': '120' })), 120);
  assert.equal(
    limitResetSeconds(new Headers({ 'retry-after': new Date(Date.UTC(2026, 0, 1, 0, 10)).toUTCString() }), Date.UTC(2026, 0, 1)),
    600,
  );
  assert.equal(limitResetSeconds(new Headers({ 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' })), 360);
  assert.equal(limitResetSeconds(new Headers({ 'x-ratelimit-reset-tokens': 'soon' })), undefined);
  assert.equal(limitResetSeconds(new Headers()), undefined);
  assert.deepEqual(['20ms', '1.5s', '1h2m3s', '7', '1x', ''].map(parseResetDuration), [0.02, 1.5, 3723, 7, undefined, undefined]);
});

test('a 429 no retry can cure (quota used up, a reset beyond what the SDK waits) is answered with x-should-retry: false', async () => {
  const answers = [
    new Response(JSON.stringify({ error: { code: 'insufficient_quota', message: 'You exceeded your current quota' } }), { status: 429 }),
    new Response('{}', { status: 429, headers: { 'retry-after': '3600' } }),
    new Response('{}', { status: 429, headers: { 'retry-after': '2' } }),
  ];
  const waits: number[] = [];
  const fetch = fetchReportingRetries({ maxRetries: 2, onWait: (wait) => waits.push(wait.seconds) }, async () => answers.shift()!);
  const quota = await fetch('http://127.0.0.1/', {});
  assert.equal(quota.headers.get('x-should-retry'), 'false');
  assert.match(await quota.text(), /insufficient_quota/, 'the body is still there for the error');
  assert.equal((await fetch('http://127.0.0.1/', {})).headers.get('x-should-retry'), 'false');
  assert.equal((await fetch('http://127.0.0.1/', {})).headers.get('x-should-retry'), null);
  assert.deepEqual(waits, [2], 'only the short wait is one the SDK takes');
});
