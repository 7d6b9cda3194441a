/**
 * Reads the state asks for: the log pages the log pane wants (older lines on scroll, the tail after
 * a snapshot, a gap after a reconnect), older chat messages, and the provider settings (the model
 * in the status bar). Each answer goes back through the reducers, which drop answers no longer wanted.
 */
import { useEffect } from 'react';
import type { DaemonConnection } from '../connection.ts';
import type { ViewAction, ViewState } from '../state/view-state.ts';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function useDaemonReads(connection: DaemonConnection, state: ViewState, dispatch: (action: ViewAction) => void): void {
  const logWant = state.log.want;
  useEffect(() => {
    if (!logWant) return;
    connection.request('logs.read', { id: logWant.goalId, from: logWant.from, limit: logWant.limit }).then(
      (page) => dispatch({ kind: 'log', action: { kind: 'page', want: logWant, page } }),
      (error: unknown) => dispatch({ kind: 'log', action: { kind: 'page-failed', want: logWant, message: messageOf(error) } }),
    );
  }, [connection, dispatch, logWant]);

  const historyWant = state.chat.historyWant;
  useEffect(() => {
    if (!historyWant) return;
    connection.request('chat.history', { session: historyWant.session, before: historyWant.before, limit: 50 }).then(
      ({ messages, more }) => dispatch({ kind: 'chat', action: { kind: 'history', want: historyWant, messages, more } }),
      () => dispatch({ kind: 'chat', action: { kind: 'history-failed', want: historyWant } }),
    );
  }, [connection, dispatch, historyWant]);

  // The provider settings once per daemon run (config.changed brings later changes).
  const epoch = state.epoch;
  useEffect(() => {
    let live = true;
    connection.request('models.list', {}).then(
      ({ provider }) => {
        if (live) dispatch({ kind: 'provider', provider });
      },
      () => undefined, // an older daemon without it: the status bar shows no model
    );
    return () => {
      live = false;
    };
  }, [connection, dispatch, epoch]);
}
