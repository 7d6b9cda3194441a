/**
 * Cleanups that run last-in, first-out. node:test runs `t.after` hooks in the order they were
 * registered, so a temporary repository made first would be deleted while the store, watcher or
 * daemon opened on it later still writes there. Everything deferred here runs newest first.
 */
import type { TestContext } from 'node:test';

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs `cleanup` after the test, before anything deferred earlier (LIFO). */
export function defer(t: TestContext, cleanup: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const created: (() => unknown)[] = [];
    stacks.set(t, created);
    stack = created;
    t.after(async () => {
      let failure: unknown;
      while (created.length > 0) {
        try {
          await created.pop()?.();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure) throw failure;
    });
  }
  stack.push(cleanup);
}
