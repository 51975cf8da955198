import { createElement, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * A router of a few lines: the console's routes are a handful of fixed shapes, which a regular
 * expression each describes; the history API does the rest. The hub answers index.html for
 * every such path, so a reload or a shared link lands on the same page.
 */

function subscribe(onChange: () => void): () => void {
  addEventListener('popstate', onChange);
  return () => removeEventListener('popstate', onChange);
}

/** The current path (`/devices/robot-7`); re-renders on navigation. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

/** The current query (`?status=firing`), as a string so it compares by value. */
export function useSearch(): string {
  return useSyncExternalStore(subscribe, () => location.search);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** An anchor that navigates in the app on a plain click, and behaves as a link otherwise (new tab, copy). */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const { to, onClick, ...rest } = props;
  return createElement('a', {
    ...rest,
    href: to,
    onClick: (event: MouseEvent<HTMLAnchorElement>) => {
      onClick?.(event);
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      navigate(to);
    },
  });
}

export function devicePath(id: string): string {
  return `/devices/${encodeURIComponent(id)}`;
}
