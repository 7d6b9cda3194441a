import path from 'node:path';

/**
 * Reading an agent CLI's JSON output lines, the same for every backend: a line is an object or it is
 * kept raw, and a field is read as text or a count only when it is one (the output is untrusted).
 */

/** One output line as a JSON object, or null (not JSON, or not an object): the caller keeps it raw. */
export function jsonObjectLine(raw: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a string, else ''. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The value when it is a whole number ≥ 0 (a token count), else 0. */
export function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** A tool's output as kept with its log line: its end, at most `max` characters; none when blank. */
export function excerpt(output: string, max: number): string | undefined {
  if (!output.trim()) return undefined;
  return output.length <= max ? output : `…${output.slice(output.length - max + 1)}`;
}

/** A path an agent CLI named, as a tool summary shows it: relative to the run's worktree when inside it, else as given. */
export function worktreePath(value: string, cwd: string | null): string {
  if (!cwd || !path.isAbsolute(value)) return value;
  const relative = path.relative(cwd, value);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : value;
}
