/**
 * The SDK retries 429 and 5xx answers itself (with backoff and `retry-after`); Ralph adds no retry
 * loop of its own. It only makes those waits visible: a `fetch` wrapper given to the call's SDK
 * client sees every answer, and when it is one the SDK will retry, reports how long the SDK is
 * about to wait. The rules below mirror the SDK's own (`shouldRetry`, `retryRequest` and
 * `calculateDefaultRetryTimeoutMillis` in openai/src/client.ts, v6).
 */

export interface RetryWait {
  reason: 'rate-limit' | 'server-error';
  seconds: number;
  /** The try that comes after the wait: 2 for the first retry. */
  attempt: number;
}

/** Whether the SDK retries this (non-2xx) answer, retries remaining. */
export function sdkRetriesStatus(response: Response): boolean {
  const shouldRetry = response.headers.get('x-should-retry');
  if (shouldRetry === 'true') return true;
  if (shouldRetry === 'false') return false;
  return response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
}

/**
 * How long the SDK waits before its next try: `retry-after-ms`, else `retry-after` (seconds or an
 * HTTP date), else its exponential backoff (0.5 s, 1 s, 2 s, … up to 8 s; the SDK takes up to 25%
 * off at random, so this is the longest it waits).
 */
export function sdkRetryDelaySeconds(headers: Headers, retryCount: number): number {
  let millis: number | undefined;
  const retryAfterMs = headers.get('retry-after-ms');
  if (retryAfterMs) {
    const parsed = parseFloat(retryAfterMs);
    if (!Number.isNaN(parsed)) millis = parsed;
  }
  const retryAfter = headers.get('retry-after');
  if (retryAfter && !millis) {
    const seconds = parseFloat(retryAfter);
    millis = Number.isNaN(seconds) ? Date.parse(retryAfter) - Date.now() : seconds * 1000;
  }
  if (millis === undefined || Number.isNaN(millis)) millis = Math.min(0.5 * 2 ** retryCount, 8) * 1000;
  return Math.max(0, millis) / 1000;
}

export interface RetryWatch {
  /** The client's `maxRetries`: after that many retries the SDK gives up instead of waiting. */
  maxRetries: number;
  /** Every HTTP request the SDK sends (first tries and retries). */
  onRequest?: () => void;
  onWait: (wait: RetryWait) => void;
}

/** A `fetch` for one call's SDK client that reports the waits before the SDK's retries. */
export function fetchReportingRetries(watch: RetryWatch, baseFetch: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    watch.onRequest?.();
    const response = await baseFetch(input, init);
    if (!response.ok && sdkRetriesStatus(response)) {
      // The SDK numbers its tries in this header (0 for the first).
      const retryCount = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? 0) || 0;
      if (retryCount < watch.maxRetries) {
        watch.onWait({
          reason: response.status === 429 ? 'rate-limit' : 'server-error',
          seconds: sdkRetryDelaySeconds(response.headers, retryCount),
          attempt: retryCount + 2,
        });
      }
    }
    return response;
  };
}
