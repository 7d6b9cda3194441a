/** Requests on goals from the keyboard, and the error line when the daemon refuses one. */
import { useCallback, useState } from 'react';
import type { DaemonConnection } from '../connection.ts';

export interface GoalActions {
  queue: (id: number) => void;
  /** The last failure, one line; cleared when the next request is sent. */
  error: string | null;
}

export function useGoalActions(connection: DaemonConnection): GoalActions {
  const [error, setError] = useState<string | null>(null);
  const queue = useCallback(
    (id: number) => {
      setError(null);
      // The pipeline updates from the daemon's goal.updated event, not from this answer.
      connection.request('goal.queue', { id }).catch((failure: unknown) => {
        setError(`could not queue #${id}: ${failure instanceof Error ? failure.message : String(failure)}`);
      });
    },
    [connection],
  );
  return { queue, error };
}
