import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogEntry } from '../../../protocol/index.ts';
import {
  emptyLog,
  LOG_BUFFER,
  LOG_PAGE,
  logAtEnd,
  logEnd,
  logReadParams,
  matchIndexes,
  reduceLog,
  visibleEntries,
  type LogAction,
  type LogView,
  type LogWant,
} from './log-state.ts';

const TIME = '2025-01-02T03:04:05.000Z';
const entry = (index: number, text = `line ${index}`): LogEntry => ({ goalId: 1, index, time: TIME, kind: 'note', text });
const entries = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => entry(from + i));
const run = (view: LogView, ...actions: LogAction[]) => actions.reduce(reduceLog, view);

/** Answers what the view wants from a log of `total` entries, as logs.read would. */
function answer(view: LogView, total: number): LogView {
  const want = view.want;
  assert.ok(want, 'the view wants a page');
  const params = logReadParams(want);
  const from = 'tail' in params ? Math.max(0, total - params.tail) : params.from;
  const page = entries(from, Math.min(total, 'tail' in params ? total : from + params.limit));
  return reduceLog(view, { kind: 'page', want, page: { entries: page, next: from + page.length, total } });
}

/** What a want asks for, in short. */
function asked(want: LogWant | null) {
  if (!want) return null;
  return want.placement === 'tail' ? { tail: want.limit } : { from: want.from, limit: want.limit, placement: want.placement };
}

/** Reads until the view wants nothing more. */
function settle(view: LogView, total: number): LogView {
  let current = view;
  for (let i = 0; current.want && i < 20; i++) current = answer(current, total);
  return current;
}

const shownText = (view: LogView, rows: number) => visibleEntries(view, rows).map((e) => e.index);

describe('log buffer', () => {
  test('a short log is read whole and shown from its end', () => {
    const view = settle(emptyLog(1), 30);
    assert.equal(view.entries.length, 30);
    assert.deepEqual(shownText(view, 5), [25, 26, 27, 28, 29]);
    assert.ok(view.follow && logAtEnd(view));
  });

  test('a long log: only its tail is read, with one request', () => {
    let view = emptyLog(1);
    assert.deepEqual(asked(view.want), { tail: LOG_PAGE });
    assert.deepEqual(logReadParams(view.want!), { id: 1, tail: LOG_PAGE });
    view = answer(view, 10_000);
    assert.equal(view.want, null, 'nothing more to read');
    assert.equal(view.start, 10_000 - LOG_PAGE);
    assert.equal(logEnd(view), 10_000);
    assert.deepEqual(shownText(view, 2), [9998, 9999]);
  });

  test('a tail shorter than asked (a short log) starts at index 0', () => {
    const view = answer(emptyLog(1), 3);
    assert.equal(view.start, 0);
    assert.deepEqual(
      view.entries.map((e) => e.index),
      [0, 1, 2],
    );
  });

  test('live entries append once; what is held already is ignored (a replay after a resume)', () => {
    let view = settle(emptyLog(1), 3);
    view = run(
      view,
      { kind: 'appended', goalId: 1, entries: [entry(3), entry(4)] },
      { kind: 'appended', goalId: 1, entries: [entry(4), entry(2)] },
    );
    assert.deepEqual(
      view.entries.map((e) => e.index),
      [0, 1, 2, 3, 4],
    );
    assert.equal(reduceLog(view, { kind: 'appended', goalId: 2, entries: [entry(9)] }), view, 'another goal: nothing');
  });

  test('a gap (entries missed while reconnecting) is read, so nothing is skipped', () => {
    let view = settle(emptyLog(1), 3);
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: [entry(7)] });
    assert.equal(logEnd(view), 3, 'not appended past a gap');
    assert.deepEqual(asked(view.want), { from: 3, limit: LOG_PAGE, placement: 'after' });
    view = settle(view, 8);
    assert.deepEqual(
      view.entries.map((e) => e.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  test('entries appended while the first read is on its way are caught up after it', () => {
    let view = reduceLog(emptyLog(1), { kind: 'appended', goalId: 1, entries: [entry(5)] });
    view = answer(view, 5); // the read saw 5 entries; the event says there are 6
    view = settle(view, 6);
    assert.equal(logEnd(view), 6);
  });

  test('the buffer is bounded: following a flood keeps the newest LOG_BUFFER entries', () => {
    let view = settle(emptyLog(1), 0);
    for (let i = 0; i < 5000; i += 100) view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(i, i + 100) });
    assert.equal(view.entries.length, LOG_BUFFER);
    assert.equal(view.start, 5000 - LOG_BUFFER);
    assert.equal(logEnd(view), 5000);
  });

  test('scrolling up past the buffer reads the page before it; scrolling back down resumes following', () => {
    let view = settle(emptyLog(1), 10_000);
    const firstHeld = view.start;
    view = reduceLog(view, { kind: 'scroll', by: -(LOG_PAGE - 20), rows: 10 });
    assert.equal(view.follow, false);
    assert.equal(view.want, null, 'still inside the buffer');
    view = reduceLog(view, { kind: 'scroll', by: -20, rows: 10 });
    assert.deepEqual(asked(view.want), { from: firstHeld - LOG_PAGE, limit: LOG_PAGE, placement: 'before' });
    view = answer(view, 10_000);
    assert.equal(view.start, firstHeld - LOG_PAGE);
    assert.equal(visibleEntries(view, 10)[0]?.index, 10_000 - 10 - (LOG_PAGE - 20) - 20);
    view = reduceLog(view, { kind: 'follow' });
    assert.ok(view.follow);
    assert.deepEqual(shownText(view, 2), [9998, 9999]);
  });

  test('the top, then the end again: each is one read, the end a tail', () => {
    let view = settle(emptyLog(1), 10_000);
    view = reduceLog(view, { kind: 'top' });
    assert.deepEqual(asked(view.want), { from: 0, limit: LOG_PAGE, placement: 'replace' });
    view = answer(view, 10_000);
    assert.deepEqual(shownText(view, 2), [0, 1]);
    view = reduceLog(view, { kind: 'follow' });
    assert.deepEqual(asked(view.want), { tail: LOG_PAGE });
    view = answer(view, 10_050); // 50 more lines were written meanwhile
    assert.equal(view.want, null);
    assert.ok(view.follow);
    assert.deepEqual(shownText(view, 2), [10_048, 10_049]);
  });

  test('scrolled back during a flood, following again shows the newest entries at once, without a read', () => {
    let view = settle(emptyLog(1), 0);
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(0, LOG_BUFFER) });
    view = reduceLog(view, { kind: 'scroll', by: -5, rows: 10 }); // the window is full: it holds still now
    const shown = shownText(view, 10);
    for (let i = LOG_BUFFER; i < LOG_BUFFER + 3000; i += 50)
      view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(i, i + 50) });
    assert.deepEqual(shownText(view, 10), shown, 'the view held still');
    assert.equal(view.liveTail?.entries.length, LOG_PAGE, 'the live tail is bounded');

    view = reduceLog(view, { kind: 'follow' });
    assert.equal(view.want, null, 'no read');
    assert.ok(view.follow && logAtEnd(view));
    assert.deepEqual(shownText(view, 3), [LOG_BUFFER + 2997, LOG_BUFFER + 2998, LOG_BUFFER + 2999]);
    assert.equal(view.start, LOG_BUFFER + 3000 - LOG_PAGE);
    assert.equal(view.liveTail, null);

    // Following on, and older entries are paged in when scrolled to.
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: [entry(LOG_BUFFER + 3000)] });
    assert.deepEqual(shownText(view, 1), [LOG_BUFFER + 3000]);
    view = reduceLog(view, { kind: 'scroll', by: -(LOG_PAGE + 5), rows: 10 });
    assert.equal(view.want?.placement, 'before');
  });

  test('a live tail with a gap, or too short to fill a pane on its own, is not shown: the tail is read', () => {
    let view = settle(emptyLog(1), 10_000);
    view = answer(reduceLog(view, { kind: 'top' }), 10_000); // the window: the first page, far from the end
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(10_000, 10_150) });
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(10_200, 10_210) }); // 50 missed
    assert.deepEqual(view.liveTail && [view.liveTail.start, view.liveTail.entries.length], [10_200, 10], 'a gap starts it afresh');
    view = reduceLog(view, { kind: 'follow' });
    assert.deepEqual(asked(view.want), { tail: LOG_PAGE });
    view = answer(view, 10_210);
    assert.deepEqual(shownText(view, 2), [10_208, 10_209]);
  });

  test('a live tail that joins the window is shown with it', () => {
    let view = settle(emptyLog(1), 300);
    view = reduceLog(view, { kind: 'scroll', by: -100, rows: 10 });
    // Not at the end as far as the window knows: a read of what follows was lost (the daemon restarted, say).
    view = { ...view, total: 305 };
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: entries(300, 310) });
    assert.equal(view.entries.length, 300, 'the window did not take them');
    view = reduceLog(view, { kind: 'follow' });
    assert.equal(view.want, null);
    assert.equal(view.start, 0);
    assert.deepEqual(shownText(view, 2), [308, 309]);
    assert.equal(logEnd(view), 310);
  });

  test('scrolled back, live entries do not move the view; the end is still known', () => {
    let view = settle(emptyLog(1), 100);
    view = reduceLog(view, { kind: 'scroll', by: -50, rows: 10 });
    const shown = shownText(view, 10);
    view = reduceLog(view, { kind: 'appended', goalId: 1, entries: [entry(100)] });
    assert.deepEqual(shownText(view, 10), shown);
    assert.equal(view.total, 101);
  });

  test('a page for an old want (another goal, a superseded read) is dropped', () => {
    const view = emptyLog(1);
    const stale = view.want!;
    const moved = reduceLog(view, { kind: 'open', goalId: 2 });
    assert.equal(reduceLog(moved, { kind: 'page', want: stale, page: { entries: entries(0, 3), next: 3, total: 3 } }), moved);
  });

  test('reload (after a snapshot) reads the log afresh', () => {
    let view = settle(emptyLog(1), 50);
    view = reduceLog(view, { kind: 'reload' });
    assert.equal(view.entries.length, 0);
    assert.equal(view.want?.placement, 'tail');
    assert.equal(settle(view, 52).entries.length, 52);
  });

  test('search: the newest match first, n/N walk the matches and wrap', () => {
    let view = settle(emptyLog(1), 40);
    view = run(
      view,
      { kind: 'search-start' },
      { kind: 'search-edit', edit: { kind: 'insert', text: 'LINE 1' } },
      { kind: 'search-submit', rows: 5 },
    );
    assert.deepEqual(matchIndexes(view), [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    assert.equal(view.search.match, 19);
    assert.ok(shownText(view, 5).includes(19));
    view = reduceLog(view, { kind: 'search-step', step: 1, rows: 5 });
    assert.equal(view.search.match, 1, 'wraps to the first');
    assert.ok(shownText(view, 5).includes(1), 'scrolled to it');
    view = reduceLog(view, { kind: 'search-step', step: -1, rows: 5 });
    assert.equal(view.search.match, 19);
    view = reduceLog(view, { kind: 'search-cancel' });
    assert.equal(view.search.query, '');
  });
});
