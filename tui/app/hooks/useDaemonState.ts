/**
 * The view state, live: starts from the connection's snapshot, then applies every event, snapshot
 * and status change the connection reports, batched to at most one render per frame.
 */
import { useCallback, useLayoutEffect, useMemo, useSyncExternalStore } from 'react';
import { messageOf, type EventEnvelope, type Snapshot } from '../../../protocol/index.ts';
import { fetchSnapshot, type ConnectionStatus, type DaemonConnection } from '../connection.ts';
import { initialViewState, type ViewAction, type ViewState } from '../state/view-state.ts';
import { ViewStore } from '../state/view-store.ts';
import { FrameBatcher } from './frame-batcher.ts';

export interface DaemonState {
  /** The state to draw. */
  state: ViewState;
  /** The state as reduced so far (what a key handler acts on): it may be ahead of the last render. */
  current: () => ViewState;
  /** For UI actions (keys); they apply at once, not batched: they are few, and a key should feel instant. */
  dispatch: (action: ViewAction) => void;
}

export function useDaemonState(connection: DaemonConnection): DaemonState {
  const store = useMemo(() => new ViewStore(initialViewState(connection.snapshot, connection.status)), [connection]);
  const state = useSyncExternalStore(store.subscribe, store.getState);

  // A layout effect: Ink renders synchronously, so this subscribes in the same tick as the first
  // render read the snapshot, and no event can arrive in between.
  useLayoutEffect(() => {
    const batcher = new FrameBatcher<ViewAction>((actions) => store.dispatch(...actions));
    let disposed = false;
    /** While a resync is under way: what the connection delivered meanwhile, to apply on top of it. */
    let arrivedDuringResync: ViewAction[] | null = null;

    const take = (action: ViewAction) => {
      arrivedDuringResync?.push(action);
      batcher.push(action);
    };
    const onEvent = (event: EventEnvelope) => take({ kind: 'event', event });
    const onSnapshot = (snapshot: Snapshot) => take({ kind: 'snapshot', snapshot });
    const onStatus = (status: ConnectionStatus) => take({ kind: 'connection', status });
    const onError = (error: Error) => take({ kind: 'connection-error', message: error.message });
    connection.on('event', onEvent);
    connection.on('snapshot', onSnapshot);
    connection.on('status', onStatus);
    connection.on('error', onError);
    take({ kind: 'connection', status: connection.status });

    // Events delivered before the TUI listened (the client connected, then the TUI loaded) are
    // gone; ask for the state as it is now rather than show a stale pipeline.
    if (connection.lastSeq > connection.snapshot.seq) {
      arrivedDuringResync = [];
      fetchSnapshot(connection).then(
        (snapshot) => {
          if (disposed) return;
          batcher.push({ kind: 'snapshot', snapshot }, ...(arrivedDuringResync ?? []));
          arrivedDuringResync = null;
        },
        (error: unknown) => {
          arrivedDuringResync = null;
          const message = `could not refresh the goals (the list may be out of date): ${messageOf(error)}`;
          if (!disposed) batcher.push({ kind: 'connection-error', message });
        },
      );
    }

    return () => {
      disposed = true;
      connection.off('event', onEvent);
      connection.off('snapshot', onSnapshot);
      connection.off('status', onStatus);
      connection.off('error', onError);
      batcher.dispose();
    };
  }, [connection, store]);

  // Stable across renders: effects that dispatch do not run again because the state changed.
  const dispatch = useCallback((action: ViewAction) => store.dispatch(action), [store]);
  return useMemo(() => ({ state, current: store.getState, dispatch }), [state, store, dispatch]);
}
