/**
 * Queue URLs (`executor.queue.url`, `ralph worker --queue`): what is wrong with one, and how one is
 * shown without its password. Here, not in daemon/queue/, because the command line checks a
 * worker's URL before it starts the worker process.
 */

/** A queue URL as it may be shown: the password (and a user's name with it) replaced by `***`. */
export function redactQueueUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // Not a URL: any part of it may be the password.
    return '(a queue URL that does not parse)';
  }
}

/** What is wrong with a queue URL, or null: `redis://` or `rediss://` with a host. */
export function queueUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `the queue URL ${redactQueueUrl(url)} is not a URL (expected redis://host:6379 or rediss://…)`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return `the queue URL ${redactQueueUrl(url)} must start with redis:// or rediss://`;
  }
  if (!parsed.hostname) return `the queue URL ${redactQueueUrl(url)} names no host`;
  return null;
}
