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

/** The longest `retry-after` the SDK honours; beyond it the SDK retries on its own short backoff, which cannot help. */
const SDK_LONGEST_HONOURED_WAIT_SECONDS = 60;

/** OpenAI's `code` for a 429 that no wait cures: the account's quota is used up. */
export const QUOTA_ERROR_CODE = 'insufficient_quota';

/** `6m0s`, `1.5s`, `20ms`, `1h2m`: OpenAI's `x-ratelimit-reset-*` durations, in seconds; undefined when not one. */
export function parseResetDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) return undefined;
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, part) => sum + Number(part[1]) * unit[part[2] as keyof typeof unit], 0);
}

/**
 * When a rate limit resets, in seconds from now, as the answer says: `retry-after-ms`, else
 * `retry-after` (seconds or an HTTP date), else the later of `x-ratelimit-reset-requests` and
 * `x-ratelimit-reset-tokens`; undefined when it says none.
 */
export function limitResetSeconds(headers: Headers, now = Date.now()): number | undefined {
  const retryAfterMs = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(retryAfterMs) && retryAfterMs >= 0) return retryAfterMs / 1000;
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter.trim());
    if (Number.isFinite(seconds) && seconds >= 0) return seconds;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, (date - now) / 1000);
  }
  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((name) => headers.get(name))
    .filter((value): value is string => value !== null)
    .map(parseResetDuration)
    .filter((value): value is number => value !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}

/**
 * A 429 the SDK would retry in vain: the quota is used up, or the reset is later than the SDK waits
 * (it would retry on its short backoff, against the provider's word). Read from a copy of the body.
 */
async function retryIsFutile(response: Response): Promise<boolean> {
  if (response.status !== 429) return false;
  const reset = limitResetSeconds(response.headers);
  if (reset !== undefined && reset > SDK_LONGEST_HONOURED_WAIT_SECONDS) return true;
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } } | null;
    return body?.error?.code === QUOTA_ERROR_CODE;
  } catch {
    return false;
  }
}

/** The answer with `x-should-retry: false`: the SDK gives up at once and the error says why. */
function withoutRetry(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('x-should-retry', 'false');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
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
    if (!response.ok && sdkRetriesStatus(response) && (await retryIsFutile(response))) return withoutRetry(response);
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
