/** `waitFor` for assertions: retries `check` until it stops throwing, then returns what it returned. */
import { waitFor } from '../wait.ts';

export async function eventually<T>(check: () => T, timeoutMs = 5_000): Promise<T> {
  const [value] = await waitFor(() => [check()] as const, { timeoutMs, message: 'the assertion to pass' });
  return value;
}
