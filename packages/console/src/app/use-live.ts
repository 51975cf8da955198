import { useEffect, useRef, useState } from 'react';
import type { LiveClient, LiveMessage, LiveState } from '@flotilla/sdk';
import { useSession } from './session.tsx';

type Throttle = NonNullable<Parameters<LiveClient['subscribe']>[2]>;

/**
 * Subscribes to subjects on the app's one live connection while the component is mounted. The
 * handler may change every render; the subscription changes only with the patterns.
 */
export function useLive(
  patterns: readonly string[] | null,
  handler: (message: LiveMessage) => void,
  throttle?: Throttle,
): void {
  const { live } = useSession();
  const latest = useRef(handler);
  latest.current = handler;
  const key = patterns ? patterns.join('\n') : '';
  const throttleKey = throttle ? `${throttle.rate}/${throttle.strategy}` : '';
  useEffect(() => {
    if (!key) return;
    return live.subscribe(key.split('\n'), (message) => latest.current(message), throttle);
    // Keyed by value: a new array of the same patterns each render must not resubscribe.
  }, [live, key, throttleKey]);
}

/** The live connection's state, for the status indicator. */
export function useLiveState(): LiveState {
  const { live } = useSession();
  const [state, setState] = useState<LiveState>(live.state);
  useEffect(() => {
    setState(live.state);
    return live.on(() => setState(live.state));
  }, [live]);
  return state;
}
