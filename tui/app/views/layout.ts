/**
 * Where each pane goes at a terminal size: side by side on a wide terminal (the pipeline above the
 * log on the left, the chat on the right), one pane at a time with tabs on a small one (80×24).
 * Pure: the App draws from it and the keys use the same numbers (how far a page scrolls).
 */
import type { Pane } from '../state/ui-state.ts';

/** From this many columns (and rows) the panes go side by side. */
export const SPLIT_MIN_COLUMNS = 120;
export const SPLIT_MIN_ROWS = 20;
/** The status bar and the footer. */
export const BOTTOM_ROWS = 2;

export interface PaneBox {
  width: number;
  /** Rows including the pane's title row. */
  height: number;
}

export interface Layout {
  mode: 'split' | 'tabs';
  columns: number;
  /** Rows the panes share. */
  paneRows: number;
  /** Each pane's box; null where it is not shown (tabs: all but the focused one). */
  panes: Record<Pane, PaneBox | null>;
  /** Width of the left column in split mode. */
  leftWidth: number;
}

/**
 * @param extraRows rows taken under the panes by notices and a prompt
 */
export function computeLayout(columns: number, rows: number, focus: Pane, extraRows: number): Layout {
  // One row short of the terminal: a frame as tall as the terminal makes Ink clear the screen on every render.
  const paneRows = Math.max(3, rows - 1 - BOTTOM_ROWS - extraRows);
  if (columns >= SPLIT_MIN_COLUMNS && rows >= SPLIT_MIN_ROWS) {
    const leftWidth = Math.floor(columns * 0.45);
    const pipelineHeight = Math.ceil(paneRows / 2);
    return {
      mode: 'split',
      columns,
      paneRows,
      leftWidth,
      // The left panes leave a column of air before the line between the sides.
      panes: {
        pipeline: { width: leftWidth - 1, height: pipelineHeight },
        log: { width: leftWidth - 1, height: paneRows - pipelineHeight },
        // Two columns for the line between the two sides and the air after it.
        chat: { width: columns - leftWidth - 2, height: paneRows },
      },
    };
  }
  const box = { width: columns, height: paneRows };
  return {
    mode: 'tabs',
    columns,
    paneRows,
    leftWidth: columns,
    panes: { pipeline: focus === 'pipeline' ? box : null, chat: focus === 'chat' ? box : null, log: focus === 'log' ? box : null },
  };
}
