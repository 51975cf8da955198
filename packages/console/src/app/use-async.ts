import { useCallback, useEffect, useState, type DependencyList } from 'react';

export type AsyncState<T> =
  { status: 'loading'; data?: T } | { status: 'ok'; data: T } | { status: 'error'; error: unknown; data?: T };

/**
 * Runs an API call when its inputs change and keeps what it answered, or why it failed, as
 * state: pages render errors as messages instead of throwing. `reload` runs it again (after a
 * change the page made itself); live updates come from subscriptions, never from re-running.
 */
export function useAsync<T>(
  run: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): [AsyncState<T>, () => void, (update: (data: T) => T) => void] {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) =>
      'data' in previous && previous.data !== undefined
        ? { status: 'loading', data: previous.data }
        : { status: 'loading' },
    );
    run(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error });
      },
    );
    return () => controller.abort();
    // The caller names the inputs, as with useEffect.
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const update = useCallback(
    (change: (data: T) => T) =>
      setState((previous) => (previous.status === 'ok' ? { status: 'ok', data: change(previous.data) } : previous)),
    [],
  );
  return [state, reload, update];
}
