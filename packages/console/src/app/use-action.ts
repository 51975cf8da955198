import { useCallback, useState } from 'react';

export interface Action {
  /** Runs a change the page makes (create, update, delete); false when it failed. */
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  busy: boolean;
  /** Why the last change failed, shown as a message; undefined once the next one starts. */
  error: unknown;
  setError: (error: unknown) => void;
}

/**
 * What every form and button that changes something shares: one change at a time marked busy,
 * its failure kept for an ErrorMessage rather than thrown, and `after` (a reload of the listing)
 * once it succeeded.
 */
export function useAction(after?: () => void): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = useCallback(
    async (action: () => Promise<unknown>): Promise<boolean> => {
      setBusy(true);
      setError(undefined);
      try {
        await action();
        after?.();
        return true;
      } catch (err) {
        setError(err);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [after],
  );
  return { run, busy, error, setError };
}
