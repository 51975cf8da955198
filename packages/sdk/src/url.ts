import type { DeviceFilter, EventFilter, LogFilter, TimeBound } from './types.js';

/**
 * Joins an API path to the hub's base URL. The base may carry a path prefix (a hub behind a
 * reverse proxy at `https://ops.example.com/flotilla`), which is kept.
 */
export function apiUrl(baseUrl: string, path: string, query?: URLSearchParams): string {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const url = new URL(path.replace(/^\//, ''), base);
  const qs = query?.toString();
  url.search = qs ? `?${qs}` : '';
  return url.toString();
}

/**
 * The `/ws/client` URL of a hub: `http://h:8080` → `ws://h:8080/ws/client`, `https` → `wss`.
 * A URL that already names a WebSocket endpoint is used as it is.
 */
export function liveUrl(hubUrl: string): string {
  const url = new URL(hubUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`hub URL must be http(s) or ws(s), got ${JSON.stringify(hubUrl)}`);
  }
  if (!url.pathname.endsWith('/ws/client')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws/client`;
  }
  return url.toString();
}

export function timeParam(value: TimeBound): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function add(params: URLSearchParams, key: string, value: string | number | boolean | undefined): void {
  if (value !== undefined) params.append(key, String(value));
}

function addAll(params: URLSearchParams, key: string, value: string | readonly string[] | undefined): void {
  if (value === undefined) return;
  for (const v of typeof value === 'string' ? [value] : value) params.append(key, v);
}

export function deviceQuery(filter: DeviceFilter = {}): URLSearchParams {
  const params = new URLSearchParams();
  add(params, 'online', filter.online);
  add(params, 'type', filter.type);
  add(params, 'teleoperated', filter.teleoperated);
  addAll(params, 'label', filter.label);
  add(params, 'q', filter.q);
  add(params, 'limit', filter.limit);
  add(params, 'cursor', filter.cursor);
  return params;
}

export function eventQuery(filter: EventFilter = {}): URLSearchParams {
  const params = new URLSearchParams();
  add(params, 'device', filter.device);
  addAll(params, 'type', filter.type);
  if (filter.since !== undefined) params.append('since', timeParam(filter.since));
  if (filter.until !== undefined) params.append('until', timeParam(filter.until));
  add(params, 'actor', filter.actor);
  add(params, 'order', filter.order);
  add(params, 'limit', filter.limit);
  add(params, 'cursor', filter.cursor);
  return params;
}

export function logQuery(filter: LogFilter = {}): URLSearchParams {
  const params = new URLSearchParams();
  addAll(params, 'device', filter.device);
  add(params, 'selector', filter.selector);
  add(params, 'type', filter.type);
  add(params, 'level', filter.level);
  add(params, 'text', filter.text);
  if (filter.since !== undefined) params.append('since', timeParam(filter.since));
  if (filter.until !== undefined) params.append('until', timeParam(filter.until));
  add(params, 'order', filter.order);
  add(params, 'limit', filter.limit);
  add(params, 'cursor', filter.cursor);
  return params;
}
