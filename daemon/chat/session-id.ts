/**
 * Chat session ids: `2026-11-26-1`, `2026-11-26-2`, … — the local date the session began and its
 * number that day. They sort by time (date, then number), so the newest transcript names the current
 * session, and they are safe as file names (nothing else is accepted as one).
 */

const SESSION_ID = /^(\d{4}-\d{2}-\d{2})-([1-9]\d{0,8})$/;

export function isSessionId(text: string): boolean {
  return SESSION_ID.test(text);
}

function parts(id: string): { date: string; number: number } {
  const match = SESSION_ID.exec(id);
  if (!match) throw new Error(`not a chat session id: ${id}`);
  return { date: match[1]!, number: Number(match[2]) };
}

/** Orders session ids oldest first (`-10` after `-9`, which a plain string sort gets wrong). */
export function compareSessionIds(a: string, b: string): number {
  const left = parts(a);
  const right = parts(b);
  return left.date < right.date ? -1 : left.date > right.date ? 1 : left.number - right.number;
}

function localDate(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

/**
 * The id of a session begun now, newer than every id in `existing`: today's next number, or the
 * newest date's next number when the clock says an earlier day than a session already has.
 */
export function nextSessionId(existing: readonly string[], now: Date): string {
  const today = localDate(now);
  const newest = [...existing].sort(compareSessionIds).at(-1);
  if (!newest) return `${today}-1`;
  const { date, number } = parts(newest);
  return date < today ? `${today}-1` : `${date}-${number + 1}`;
}
