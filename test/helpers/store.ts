/** Shared set-up for the goal store's tests: a temp repository, stores closed before it is removed. */
import { rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import type { EventEnvelope } from '../../protocol/index.ts';
import { EventBus } from '../../daemon/events/bus.ts';
import { GoalStore, type GoalStoreOptions } from '../../daemon/store/goal-store.ts';
import { makeTempDir } from './repo.ts';

export interface StoreFixture {
  repoRoot: string;
  bus: EventBus;
  /** Every event published on `bus`, in order. */
  events: EventEnvelope[];
  errors: Error[];
  open(options?: Partial<GoalStoreOptions>): Promise<GoalStore>;
}

export async function storeFixture(t: TestContext): Promise<StoreFixture> {
  // Not handed `t`: the folder must outlive the stores, which are closed first (after-hooks run in order).
  const repoRoot = await makeTempDir(undefined, 'ralph-store-');
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  const errors: Error[] = [];
  bus.subscribe((event) => events.push(event.envelope));
  const stores: GoalStore[] = [];
  t.after(async () => {
    for (const store of stores) await store.close();
    await rm(repoRoot, { recursive: true, force: true });
  });
  return {
    repoRoot,
    bus,
    events,
    errors,
    async open(options = {}) {
      const store = await GoalStore.open({ repoRoot, bus, onError: (error) => errors.push(error), ...options });
      stores.push(store);
      return store;
    },
  };
}
