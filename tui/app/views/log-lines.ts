/**
 * The log pane's rows: one row per entry (`14:03:07 tool      text`), search matches marked. A
 * remote goal's lines name their queue worker, dim, where the worker changes (and on the first
 * row shown): `14:03:07 decision  [worker-a] text`. Pure.
 */
import { type LogEntry, workerName } from '../../../protocol/index.ts';
import { logAtEnd, logEnd, matchIndexes, visibleEntries, visibleTop, type LogView } from '../state/log-state.ts';
import { clockTime } from './format.ts';
import { oneLine, truncate, truncateRow, type Row, type Segment, type Style } from './text.ts';

const KIND_WIDTH = 10;
/** A worker's name at most, in columns, before a line's text. */
const WORKER_COLUMNS = 20;

const KIND_STYLES: Record<string, Style> = {
  error: { color: 'error', bold: true },
  warning: { color: 'warning', bold: true },
  check: { color: 'accent' },
  decision: { color: 'accent', bold: true },
  transition: { bold: true },
};

/** `worker`: the queue worker's name to show before the text (it changed here), or null. */
export function logRow(entry: LogEntry, width: number, query: string, current: boolean, worker: string | null = null): Row {
  const head: Segment[] = [
    { text: current ? '› ' : '  ', style: { color: 'accent', bold: true } },
    { text: `${clockTime(entry.time)} `, style: { dim: true } },
    { text: `${oneLine(entry.kind).slice(0, KIND_WIDTH).padEnd(KIND_WIDTH)} `, style: KIND_STYLES[entry.kind] ?? { dim: true } },
  ];
  if (worker) head.push({ text: `[${truncate(worker, WORKER_COLUMNS)}] `, style: { dim: true } });
  return truncateRow([...head, ...highlight(oneLine(entry.text), query)], width);
}

/**
 * Per entry, the worker's name to show with it: where the worker that wrote it differs from the one
 * that wrote the last line before it that names one (the first such line shown names it too). Lines
 * the daemon wrote itself, and a local goal's, name none.
 */
export function workerLabels(entries: readonly LogEntry[]): (string | null)[] {
  let last: string | null = null;
  return entries.map((entry) => {
    const worker = workerName(entry.worker);
    if (worker === null || worker === last) return null;
    last = worker;
    return worker;
  });
}

/** The text with every occurrence of the query (any case) shown inverse. */
export function highlight(text: string, query: string): Segment[] {
  if (query === '') return [{ text }];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const segments: Segment[] = [];
  let at = 0;
  for (let found = lower.indexOf(needle); found !== -1; found = lower.indexOf(needle, found + needle.length)) {
    if (found > at) segments.push({ text: text.slice(at, found) });
    segments.push({ text: text.slice(found, found + needle.length), style: { inverse: true } });
    at = found + needle.length;
  }
  if (at < text.length) segments.push({ text: text.slice(at) });
  return segments;
}

export interface LogFrame {
  rows: Row[];
  keys: string[];
  /** "following · 1,204 lines", "lines 300–320 of 1,204", "reading…" */
  position: string;
  /** "/query  3 matches · n next" or the search being typed; null when there is no search. */
  search: { editing: boolean; text: string; cursor: number; matches: number } | null;
  /** Rows the entries get. */
  contentRows: number;
}

export function logFrame(view: LogView, width: number, height: number): LogFrame {
  const searching = view.search.editing !== null || view.search.query !== '';
  const contentRows = Math.max(1, height - 1 - (searching ? 1 : 0));
  const search = searching
    ? {
        editing: view.search.editing !== null,
        text: view.search.editing?.text ?? view.search.query,
        cursor: view.search.editing?.cursor ?? 0,
        matches: matchIndexes(view).length,
      }
    : null;
  const message = (text: string, style: Style = { dim: true }): Row[] => [[{ text, style }]];
  if (view.goalId === null) return { rows: message('Select a goal to see its log.'), keys: ['none'], position: '', search, contentRows };
  if (!view.loaded) {
    const rows = view.error ? message(`✗ could not read the log: ${oneLine(view.error)}`, { color: 'error' }) : message('reading the log…');
    return { rows, keys: ['status'], position: '', search, contentRows };
  }
  if (view.entries.length === 0) return { rows: message('No log entries yet.'), keys: ['empty'], position: '', search, contentRows };
  const entries = visibleEntries(view, contentRows);
  const query = view.search.editing ? '' : view.search.query;
  const workers = workerLabels(entries);
  const rows = entries.map((entry, i) => logRow(entry, width, query, entry.index === view.search.match, workers[i]));
  const top = visibleTop(view, contentRows);
  const total = Math.max(view.total, logEnd(view));
  const position =
    view.follow && logAtEnd(view)
      ? `following · ${total.toLocaleString('en-US')} line${total === 1 ? '' : 's'}`
      : `lines ${(top + 1).toLocaleString('en-US')}–${(top + entries.length).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}${view.want ? ' · reading…' : ''}`;
  if (view.error) rows.push([{ text: `✗ ${oneLine(view.error)}`, style: { color: 'error' } }]);
  return { rows, keys: entries.map((entry) => `entry:${entry.index}`), position, search, contentRows };
}
