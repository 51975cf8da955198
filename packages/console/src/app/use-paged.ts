import { useCallback, useEffect, useState, type DependencyList } from 'react';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Paged<T> {
  items: T[];
  /** For live updates: change the items in place. */
  setItems: (change: (items: T[]) => T[]) => void;
  loading: boolean;
  error: unknown;
  /** True while the listing has another page. */
  hasMore: boolean;
  loadMore: () => void;
}

/**
 * A cursor-paged listing (alerts, events): the first page when the inputs change, the next one on
 * `loadMore`, appended. Live updates go through `setItems`; a failure is kept as `error`, shown
 * as a message by the page.
 */
export function usePaged<T>(
  fetchPage: (cursor: string | null, signal?: AbortSignal) => Promise<Page<T>>,
  deps: DependencyList,
): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);

  // The caller names the inputs of `fetchPage`, as with useEffect.
  const load = useCallback(async (after: string | null, signal?: AbortSignal) => {
    setLoading(true);
    try {
      const page = await fetchPage(after, signal);
      setItems((list) => (after ? [...list, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (err) {
      if (!signal?.aborted) setError(err);
    } finally {
      setLoading(false);
    }
  }, deps);

  useEffect(() => {
    const controller = new AbortController();
    void load(null, controller.signal);
    return () => controller.abort();
  }, [load]);

  return {
    items,
    setItems,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore: () => void load(cursor),
  };
}
