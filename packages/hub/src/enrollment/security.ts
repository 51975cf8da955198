import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Clock } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { HubMetrics } from '../metrics.js';
import type { Storage } from '../storage/types.js';

/**
 * Security events: something a device did that the hub refused for identity reasons (a hello
 * without a valid token, a frame speaking for another device). Each is counted in
 * `flotilla_security_events_total{kind}`, logged at warn, and appended to the event log on the
 * device's aggregate so `GET /api/v1/events?device=` shows it. Secrets never reach any of the
 * three: callers pass the kind and ids, not the token.
 */

export const SECURITY_EVENTS_METRIC = 'flotilla_security_events_total';

export const DeviceIdentityEventTypes = {
  EnrollmentTokenCreated: 'EnrollmentTokenCreated',
  EnrollmentTokenRevoked: 'EnrollmentTokenRevoked',
  DeviceEnrolled: 'DeviceEnrolled',
  DeviceCredentialRevoked: 'DeviceCredentialRevoked',
  /** A hello refused: `{reason: <error code>, transport}`. */
  DeviceAuthFailed: 'DeviceAuthFailed',
  /** A session tried to speak for another device: `{claimed, transport, sessionId}`. */
  DeviceMismatch: 'DeviceMismatch',
  /** An MQTT publish or subscription outside the device's own topics: `{action, topic, transport, sessionId}`. */
  DeviceTopicForbidden: 'DeviceTopicForbidden',
} as const;

export interface SecurityEvent {
  /** The metric label: an error code (`unauthorized`, `enrollment_expired`, `device_mismatch`, ...). */
  kind: string;
  /** The device the event is recorded on (the id claimed in a refused hello). */
  device: string;
  transport: string;
  sessionId: string;
  /** For `device_mismatch`: the id the frame claimed. */
  claimed?: string;
  /** For `forbidden_topic` (MQTT): what the device tried, and on which topic or filter. */
  action?: 'publish' | 'subscribe';
  topic?: string;
  /**
   * The same session did this before: counted, but not logged or stored again, so one
   * misbehaving connection cannot flood the log and the event store.
   */
  repeat?: boolean;
}

export interface SecurityEventsOptions {
  storage: Pick<Storage, 'appendEvents'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics?: HubMetrics;
}

export class SecurityEvents {
  private readonly counter: Counter<'kind'> | undefined;

  constructor(private readonly options: SecurityEventsOptions) {
    const registry = options.metrics?.registry;
    if (registry) {
      // Other parts of the hub (login throttling) count into the same metric: share it.
      const existing = registry.getSingleMetric(SECURITY_EVENTS_METRIC) as Counter<'kind'> | undefined;
      this.counter =
        existing ??
        new Counter({
          name: SECURITY_EVENTS_METRIC,
          help: 'Refused attempts to authenticate or to act as someone else, by kind',
          labelNames: ['kind'] as const,
          registers: [registry],
        });
    }
  }

  record(event: SecurityEvent): void {
    const { kind, device, transport, sessionId, claimed, action, topic } = event;
    this.counter?.inc({ kind });
    if (event.repeat) return;
    this.options.logger.warn(
      { securityEvent: kind, device, claimed, action, topic, transport, sessionId },
      'device security event',
    );
    const [type, data] =
      kind === 'device_mismatch'
        ? [DeviceIdentityEventTypes.DeviceMismatch, { claimed, transport, sessionId }]
        : kind === 'forbidden_topic'
          ? [DeviceIdentityEventTypes.DeviceTopicForbidden, { action, topic, transport, sessionId }]
          : [DeviceIdentityEventTypes.DeviceAuthFailed, { reason: kind, transport, sessionId }];
    const metadata = { actor: `device:${device}`, correlationId: sessionId, causationId: null };
    appendAndPublish(this.options, device, type, data, metadata).catch((err: unknown) =>
      this.options.logger.error({ err, device }, 'cannot record a security event'),
    );
  }
}

/** Appends one event on `aggregateId` and publishes it where device events go on the bus. */
export async function appendAndPublish(
  deps: { storage: Pick<Storage, 'appendEvents'>; bus: Bus; clock: Clock },
  aggregateId: string,
  type: string,
  data: Record<string, unknown>,
  metadata: { actor: string; correlationId: string | null; causationId: string | null },
): Promise<void> {
  const [stored] = await deps.storage.appendEvents([
    { id: randomUUID(), aggregateId, type, ts: deps.clock.now(), data, metadata },
  ]);
  if (stored) deps.bus.publish(`flotilla.${aggregateId}.event.${type}`, stored);
}
