/** Bounded waiting for tests: a broken test fails with a clear message instead of hanging. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the timeout error. */
  message?: string;
}

/**
 * Calls `fn` until it returns something truthy and returns that. A throw counts as "not yet"
 * (e.g. a file not written yet); the last one is quoted if the wait times out.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 5000, intervalMs = 20, message }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message ?? 'a condition'}${reason}`);
    }
    await sleep(intervalMs);
  }
}

/** Waits a fixed time: only for asserting that something does NOT happen within a window. */
export function pause(ms: number): Promise<void> {
  return sleep(ms).then(() => undefined);
}
