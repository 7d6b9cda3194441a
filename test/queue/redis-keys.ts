/** The keys of a test's Redis, as an operator would list them. */
import type { Redis } from 'ioredis';

/** Every key matching `pattern` (SCAN, never KEYS), sorted. */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys.sort();
}
