import type { Device, StoredEvent } from '@flotilla/protocol';

/** One page of a list endpoint. `nextCursor` is opaque; null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters of `GET /api/v1/devices`. Every field is optional; all given ones must hold. */
export interface DeviceFilter {
  online?: boolean;
  type?: string;
  /**
   * Label selectors (`site=lab`, `zone in (a,b)`, `!gpu`, comma-separated). Several selectors
   * are sent as repeated `label` parameters and must all hold.
   */
  label?: string | readonly string[];
  /** Case-insensitive substring of id, name, hostname, serial or model. */
  q?: string;
  /** Page size, 1..1000 (hub default 100). */
  limit?: number;
  cursor?: string;
}

/** A time bound: a Date, milliseconds since the epoch, or an ISO 8601 string. */
export type TimeBound = Date | number | string;

/** Filters of `GET /api/v1/events`. */
export interface EventFilter {
  device?: string;
  /** One event type or several (any of them). */
  type?: string | readonly string[];
  since?: TimeBound;
  until?: TimeBound;
  actor?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

/** Body of `PATCH /api/v1/devices/{id}`. A label set to null is removed; others are merged. */
export interface DevicePatch {
  name?: string;
  labels?: Record<string, string | null>;
}

export interface Health {
  status: 'ok';
  version: string;
  /** Seconds since the hub started. */
  uptime: number;
}

/** Readiness is a status, not an exception: a hub whose storage is down answers `ready: false`. */
export type Readiness = { ready: true } | { ready: false; code: string; message: string };

/** Per-call options. */
/** What `POST /api/v1/auth/login` answers. */
export interface LoginResult {
  /** JWT access token, sent as `Authorization: Bearer`. */
  token: string;
  /** Opaque; exchange at `/api/v1/auth/refresh` for a new pair. */
  refreshToken: string;
  /** Seconds until `token` expires. */
  expiresIn: number;
  user: { id: string; username: string; role: string; disabled: boolean; createdAt: string; updatedAt: string };
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export type { Device, StoredEvent };
