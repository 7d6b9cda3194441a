/**
 * Reads the state asks for: the log pages the log pane wants (its tail when it opens, older lines on
 * scroll, a gap after a reconnect) and older chat messages. Each answer goes back through the
 * reducers, which drop answers no longer wanted.
 */
import { useEffect } from 'react';
import { messageOf } from '../../../protocol/index.ts';
import type { DaemonConnection } from '../connection.ts';
import { logReadParams } from '../state/log-state.ts';
import type { ViewAction, ViewState } from '../state/view-state.ts';

export function useDaemonReads(connection: DaemonConnection, state: ViewState, dispatch: (action: ViewAction) => void): void {
  const logWant = state.log.want;
  useEffect(() => {
    if (!logWant) return;
    connection.request('logs.read', logReadParams(logWant)).then(
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
}
