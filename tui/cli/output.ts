/**
 * Writing results. Colors only reach a terminal: `styleText` drops them when the stream is not a
 * TTY and respects NO_COLOR / FORCE_COLOR. Everything printed passes through terminal-text.ts:
 * goal titles, logs, model text and command output may carry escape sequences meant to drive the
 * terminal, and only Ralph's own styles get through.
 */
import { styleText } from 'node:util';
import { jsonForTerminal, oneLine, stripControls, terminalSafe } from '../terminal-text.ts';

type Style = Parameters<typeof styleText>[0];

export function print(text = ''): void {
  process.stdout.write(`${terminalSafe(text)}\n`);
}

/** Text that arrives in pieces (a streamed reply), printed as it comes, without a newline of its own. */
export function printPiece(text: string): void {
  process.stdout.write(stripControls(text));
}

/** A value as pretty JSON (a goal as its object, a list as an array). */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(JSON.stringify(value, null, 2))}\n`);
}

/** One compact JSON value per line (streams: logs). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(JSON.stringify(value))}\n`);
}

/** A note for the person at the terminal, kept out of the way of stdout (which scripts read). */
export function note(text: string): void {
  process.stderr.write(`ralph: ${terminalSafe(text)}\n`);
}

/** A one-line error for stderr: whatever the message holds (a daemon's error may span lines), one clean line. */
export function errorLine(message: string): string {
  return oneLine(message) || 'unknown error';
}

/** Styled text; what it styles is cleaned first, so a painted title cannot carry sequences of its own. */
export function paint(style: Style, text: string): string {
  return styleText(style, stripControls(text), { stream: process.stdout });
}

/** Rows as aligned columns; the last column is not padded. `null` rows become blank separator lines. */
export function formatTable(rows: ReadonlyArray<readonly string[] | null>): string[] {
  const widths: number[] = [];
  for (const row of rows) for (const [i, cell] of (row ?? []).entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map((row) =>
    row === null
      ? ''
      : row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
  );
}

/** `2026-11-26 10:04:05` in local time: logs and histories read by a person. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `12s`, `5m 3s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** How long ago, coarsely: `just now`, `5m ago`, `3h ago`, `2d ago`; older than a month, the date. */
export function formatAgo(iso: string, now = Date.now()): string {
  const seconds = Math.floor((now - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  if (seconds < 30 * 86_400) return `${Math.floor(seconds / 86_400)}d ago`;
  return formatDateTime(iso).slice(0, 10);
}

/** Text cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
