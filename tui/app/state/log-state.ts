/**
 * The live log of one goal as the TUI holds it: a bounded window of the goal's log entries
 * (contiguous by index, at most LOG_BUFFER), followed live at its end or scrolled back, with older
 * or newer entries paged from the daemon (`logs.read`) when the view moves past the window.
 *
 * Pure: the reducer says what it wants read next (`want`); a hook reads it and hands the page back.
 * An entry is never shown twice or skipped: entries are placed by their index, what is already
 * held is ignored, and a gap (events missed while reconnecting) is filled by reading it.
 */
import type { LogEntry } from '../../../protocol/index.ts';
import { editLine, type InputLine, type LineEdit } from './input-line.ts';

/** Entries held at most (older ones are paged back from the daemon on scroll). */
export const LOG_BUFFER = 2000;
/** Entries per read. */
export const LOG_PAGE = 500;

/**
 * What a page is for: `tail`, a new window of the log's last `limit` entries (opening a log, jumping
 * to its end); `replace`, a new window starting at `from` (the top); `before`/`after`, entries
 * joining the window at either end.
 */
export type LogPlacement = 'tail' | 'replace' | 'before' | 'after';

export type LogWant = {
  id: number;
  goalId: number;
  limit: number;
} & ({ placement: 'tail' } | { placement: Exclude<LogPlacement, 'tail'>; from: number });

/** The `logs.read` params that answer a want: one request, whatever the length of the log. */
export function logReadParams(want: LogWant): { id: number; tail: number } | { id: number; from: number; limit: number } {
  return want.placement === 'tail' ? { id: want.goalId, tail: want.limit } : { id: want.goalId, from: want.from, limit: want.limit };
}

export interface LogPage {
  entries: readonly LogEntry[];
  next: number;
  total: number;
}

export interface LogSearch {
  query: string;
  /** The search being typed (after `/`), or null. */
  editing: InputLine | null;
  /** The log index of the match shown, or null. */
  match: number | null;
}

export interface LogView {
  goalId: number | null;
  entries: readonly LogEntry[];
  /** The index of entries[0] (where the window starts even when empty). */
  start: number;
  /** How many entries the goal's log has, as far as this terminal knows. */
  total: number;
  /** The first read has arrived. */
  loaded: boolean;
  /** Showing the end of the log as it grows. */
  follow: boolean;
  /** The index of the first row shown when not following (may lie before the window while that page loads). */
  top: number;
  want: LogWant | null;
  nextWantId: number;
  error: string | null;
  search: LogSearch;
  /**
   * The newest entries seen live that the window did not take (scrolled back with a full window, or a
   * window short of the end): contiguous, at most LOG_PAGE. Following again shows them at once, no read.
   */
  liveTail: LiveTail | null;
}

export interface LiveTail {
  start: number;
  entries: readonly LogEntry[];
}

/** A live tail this long fills a pane: following again shows it rather than read the tail. */
const LIVE_TAIL_SHOWN_FROM = 100;

const NO_SEARCH: LogSearch = { query: '', editing: null, match: null };

export function emptyLog(goalId: number | null, nextWantId = 1): LogView {
  const view: LogView = {
    goalId,
    entries: [],
    start: 0,
    total: 0,
    loaded: false,
    follow: true,
    top: 0,
    want: null,
    nextWantId,
    error: null,
    search: NO_SEARCH,
    liveTail: null,
  };
  return goalId === null ? view : wantTail(view);
}

export type LogAction =
  /** Show this goal's log (the selection moved). */
  | { kind: 'open'; goalId: number | null }
  /** Read the log afresh (after a new snapshot: the daemon may have restarted). */
  | { kind: 'reload' }
  | { kind: 'page'; want: LogWant; page: LogPage }
  | { kind: 'page-failed'; want: LogWant; message: string }
  | { kind: 'appended'; goalId: number; entries: readonly LogEntry[] }
  /** Move the view by rows (negative: back in time); `rows` is the height of the pane. */
  | { kind: 'scroll'; by: number; rows: number }
  | { kind: 'top' }
  | { kind: 'follow' }
  | { kind: 'search-start' }
  | { kind: 'search-edit'; edit: LineEdit }
  | { kind: 'search-submit'; rows: number }
  | { kind: 'search-cancel' }
  | { kind: 'search-step'; step: 1 | -1; rows: number };

export const logEnd = (view: LogView): number => view.start + view.entries.length;
export const logAtEnd = (view: LogView): boolean => logEnd(view) >= view.total;

export function reduceLog(view: LogView, action: LogAction): LogView {
  switch (action.kind) {
    case 'open':
      return action.goalId === view.goalId ? view : emptyLog(action.goalId, view.nextWantId);
    case 'reload':
      return { ...emptyLog(view.goalId, view.nextWantId), search: { ...view.search, match: null } };
    case 'page':
      return view.want?.id === action.want.id && action.want.goalId === view.goalId ? applyPage(view, action.want, action.page) : view;
    case 'page-failed':
      if (view.want?.id !== action.want.id) return view;
      return { ...view, want: null, error: action.message };
    case 'appended':
      return action.goalId === view.goalId ? applyAppended(view, action.entries) : view;
    case 'scroll':
      return scroll(view, action.by, action.rows);
    case 'top':
      return view.start === 0 ? { ...view, follow: false, top: 0 } : wantPage({ ...view, follow: false, top: 0 }, 0, LOG_PAGE, 'replace');
    case 'follow':
      if (logAtEnd(view)) return { ...view, follow: true, liveTail: null };
      return followLiveTail(view) ?? wantTail({ ...view, follow: true, liveTail: null });
    case 'search-start':
      return { ...view, search: { ...view.search, editing: { text: view.search.query, cursor: [...view.search.query].length } } };
    case 'search-edit':
      return view.search.editing ? { ...view, search: { ...view.search, editing: editLine(view.search.editing, action.edit) } } : view;
    case 'search-submit': {
      const query = view.search.editing?.text.trim() ?? view.search.query;
      const searched = { ...view, search: { query, editing: null, match: null } };
      if (query === '') return searched;
      // The newest match first: a log is read from its end.
      const matches = matchIndexes(searched);
      const match = matches.at(-1) ?? null;
      return match === null ? searched : showIndex({ ...searched, search: { ...searched.search, match } }, match, action.rows);
    }
    case 'search-cancel':
      if (view.search.editing) return { ...view, search: { ...view.search, editing: null } };
      return view.search.query === '' ? view : { ...view, search: NO_SEARCH };
    case 'search-step': {
      const matches = matchIndexes(view);
      if (matches.length === 0) return view;
      const current = view.search.match === null ? -1 : matches.indexOf(view.search.match);
      const next =
        current === -1 ? (action.step === 1 ? 0 : matches.length - 1) : (current + action.step + matches.length) % matches.length;
      const match = matches[next] ?? null;
      return match === null ? view : showIndex({ ...view, search: { ...view.search, match } }, match, action.rows);
    }
  }
}

function wantPage(view: LogView, from: number, limit: number, placement: Exclude<LogPlacement, 'tail'>): LogView {
  if (view.goalId === null || limit <= 0) return view;
  return {
    ...view,
    want: { id: view.nextWantId, goalId: view.goalId, from, limit, placement },
    nextWantId: view.nextWantId + 1,
    error: null,
  };
}

/** The log's last LOG_PAGE entries, however long it is (what a log opens on). */
function wantTail(view: LogView): LogView {
  if (view.goalId === null) return view;
  return {
    ...view,
    want: { id: view.nextWantId, goalId: view.goalId, limit: LOG_PAGE, placement: 'tail' },
    nextWantId: view.nextWantId + 1,
    error: null,
  };
}

function applyPage(view: LogView, want: LogWant, page: LogPage): LogView {
  const total = Math.max(view.total, page.total);
  const base: LogView = { ...view, want: null, total, error: null };
  switch (want.placement) {
    case 'tail': {
      // The tail ends at `next`: it starts that many entries before.
      const start = Math.max(0, page.next - page.entries.length);
      return catchUp({ ...base, entries: contiguousFrom(page.entries, start), start, loaded: true });
    }
    case 'replace':
      return catchUp({ ...base, entries: contiguousFrom(page.entries, want.from), start: want.from, loaded: true });
    case 'before': {
      const older = contiguousFrom(
        page.entries.filter((entry) => entry.index < view.start),
        want.from,
      );
      if (older.length === 0 || logEndOf(older, want.from) !== view.start) return { ...base, error: null };
      const entries = [...older, ...view.entries].slice(0, LOG_BUFFER); // the newest go when the window is full
      return { ...base, entries, start: want.from, follow: false };
    }
    case 'after': {
      const end = logEnd(view);
      const newer = contiguousFrom(
        page.entries.filter((entry) => entry.index >= end),
        end,
      );
      return catchUp(trimStart({ ...base, entries: [...view.entries, ...newer] }));
    }
  }
}

/** Entries of a page that continue from `from` without a gap (a page is contiguous; this guards it). */
function contiguousFrom(entries: readonly LogEntry[], from: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (const entry of entries) {
    if (entry.index !== from + out.length) break;
    out.push(entry);
  }
  return out;
}

function logEndOf(entries: readonly LogEntry[], from: number): number {
  return from + entries.length;
}

/** Following, and the window does not reach the end yet: read on. */
function catchUp(view: LogView): LogView {
  if (!view.follow || view.want || logAtEnd(view)) return view;
  return wantPage(view, logEnd(view), LOG_PAGE, 'after');
}

/** The window keeps its newest LOG_BUFFER entries. */
function trimStart(view: LogView): LogView {
  const excess = view.entries.length - LOG_BUFFER;
  if (excess <= 0) return view;
  return { ...view, entries: view.entries.slice(excess), start: view.start + excess };
}

function applyAppended(view: LogView, entries: readonly LogEntry[]): LogView {
  const last = entries.reduce((max, entry) => Math.max(max, entry.index), -1);
  const total = Math.max(view.total, last + 1);
  const wasAtEnd = logAtEnd(view);
  // The window does not take them: the view holds still, they are kept as the live tail.
  if (!view.loaded || !wasAtEnd) return { ...view, total, liveTail: withLive(view.liveTail, entries) };
  // Scrolled back with a full window: likewise.
  if (!view.follow && view.entries.length >= LOG_BUFFER) return { ...view, total, liveTail: withLive(view.liveTail, entries) };
  const end = logEnd(view);
  const newer = contiguousFrom(
    [...entries].filter((entry) => entry.index >= end).sort((a, b) => a.index - b.index),
    end,
  );
  const taken = newer.length > 0 ? [...view.entries, ...newer] : view.entries;
  // What lies past a gap is the start of the live tail (the gap itself is read below).
  const past = entries.filter((entry) => entry.index >= end + newer.length);
  const next = trimStart({ ...view, total, entries: taken, liveTail: withLive(null, past) });
  // A gap (entries missed while reconnecting): read what is missing.
  return !logAtEnd(next) && !next.want ? wantPage(next, logEnd(next), LOG_PAGE, 'after') : next;
}

/** The live tail with `entries` added: a gap (or older entries) starts it afresh from the entries that follow on. */
function withLive(tail: LiveTail | null, entries: readonly LogEntry[]): LiveTail | null {
  let start = tail?.start ?? 0;
  let held: LogEntry[] = tail ? [...tail.entries] : [];
  for (const entry of [...entries].sort((a, b) => a.index - b.index)) {
    const end = start + held.length;
    if (held.length > 0 && entry.index < end) continue; // held already
    if (held.length === 0 || entry.index !== end) {
      start = entry.index;
      held = [entry];
    } else held.push(entry);
  }
  if (held.length > LOG_PAGE) {
    start += held.length - LOG_PAGE;
    held = held.slice(-LOG_PAGE);
  }
  return held.length > 0 ? { start, entries: held } : null;
}

/**
 * Following again from the live tail, when it holds the log's end and either joins the window or
 * fills a pane by itself: the end is shown at once, without waiting for a read. Null otherwise.
 */
function followLiveTail(view: LogView): LogView | null {
  const tail = view.liveTail;
  if (!tail || tail.start + tail.entries.length < view.total) return null;
  const end = logEnd(view);
  const joins = tail.start <= end && view.start <= tail.start;
  if (!joins && tail.entries.length < LIVE_TAIL_SHOWN_FROM) return null;
  const entries = joins ? [...view.entries, ...tail.entries.slice(end - tail.start)] : tail.entries;
  // A read still on its way was for the window this replaces.
  return trimStart({ ...view, entries, start: joins ? view.start : tail.start, follow: true, want: null, liveTail: null });
}

/** The index of the first row shown in `rows` rows. */
export function visibleTop(view: LogView, rows: number): number {
  const end = logEnd(view);
  const lowest = Math.max(view.start, end - rows);
  if (view.follow) return lowest;
  return Math.min(Math.max(view.top, view.start), lowest);
}

/** The entries shown in `rows` rows. */
export function visibleEntries(view: LogView, rows: number): readonly LogEntry[] {
  const top = visibleTop(view, rows);
  return view.entries.slice(top - view.start, top - view.start + rows);
}

function scroll(view: LogView, by: number, rows: number): LogView {
  if (view.goalId === null || by === 0) return view;
  const top = visibleTop(view, rows) + by;
  const end = logEnd(view);
  if (by < 0) {
    const moved: LogView = { ...view, follow: false, top: Math.max(0, top) };
    if (moved.top >= view.start || view.start === 0 || view.want) return moved;
    const from = Math.max(0, view.start - LOG_PAGE);
    return wantPage(moved, from, view.start - from, 'before');
  }
  const lowest = Math.max(view.start, end - rows);
  if (top >= lowest && logAtEnd(view)) return { ...view, follow: true, top: lowest };
  const moved: LogView = { ...view, top: Math.min(top, lowest) };
  if (top > lowest && !view.want) return wantPage({ ...moved, top }, end, LOG_PAGE, 'after');
  return moved;
}

function showIndex(view: LogView, index: number, rows: number): LogView {
  const end = logEnd(view);
  if (view.follow && index >= end - rows) return view; // already in sight
  return { ...view, follow: false, top: Math.max(view.start, index - Math.floor(rows / 2)) };
}

/** Log indexes of the held entries that match the search (kind or text, any case). */
export function matchIndexes(view: LogView): number[] {
  const query = view.search.query.toLowerCase();
  if (query === '') return [];
  return view.entries.filter((entry) => entryMatches(entry, query)).map((entry) => entry.index);
}

export function entryMatches(entry: LogEntry, lowerQuery: string): boolean {
  return entry.text.toLowerCase().includes(lowerQuery) || entry.kind.toLowerCase().includes(lowerQuery);
}
