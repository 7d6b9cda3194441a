/**
 * Holds the view state outside React, so code that acts on it (a key handler) reads the state as
 * reduced so far, not as last rendered: two keys can arrive before React renders the first.
 */
import { reduceAll, type ViewAction, type ViewState } from './view-state.ts';

export class ViewStore {
  private state: ViewState;
  private readonly listeners = new Set<() => void>();

  constructor(initial: ViewState) {
    this.state = initial;
  }

  readonly getState = (): ViewState => this.state;

  /** For React's useSyncExternalStore: `listener` is called after every change. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Applies the actions in order, then tells the listeners once. */
  dispatch(...actions: ViewAction[]): void {
    const next = reduceAll(this.state, actions);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
