/**
 * `defineConfig` for `ralph.config.ts`: the identity function, typed, so an editor checks the
 * config and completes its keys. Optional: a plain default-exported object works the same.
 *
 * ```ts
 * import { defineConfig } from 'ralph';
 * export default defineConfig({ model: 'gpt-5.4-mini', executor: { verify: 'npm test' } });
 * ```
 *
 * Type-only imports: loading a config that uses this pulls in nothing at run time.
 */
import type { RalphConfigInput } from './schema.ts';

export type { RalphConfigInput } from './schema.ts';

export function defineConfig<const T extends RalphConfigInput>(config: T): T {
  return config;
}
