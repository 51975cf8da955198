import { ErrorCodes, SUBJECT_ROOT, isDeviceId } from '@flotilla/protocol';

/**
 * The MQTT topics of a device and who may use them (docs/mqtt.md). A device publishes only
 * under `flotilla/<its id>/` and only the device → hub kinds; it subscribes only to what the hub
 * sends it: its commands and cancels, its credential and its error topic. Pure functions: the broker hooks
 * (broker.ts) ask them and act on the answer.
 */

/** What a device publishes, by the topic level after its id. */
export const DEVICE_PUBLISH_KINDS = ['telemetry', 'status', 'event', 'log', 'result', 'progress'] as const;
export type DevicePublishKind = (typeof DEVICE_PUBLISH_KINDS)[number];

/** A publish the device may make: its kind and, for `telemetry/<metric>` and `event/<type>`, the name. */
export interface DeviceTopic {
  readonly device: string;
  readonly kind: DevicePublishKind;
  readonly name?: string;
}

/** Topics the hub publishes to a device. */
export const hubTopics = {
  command: (device: string, capability: string): string => `${SUBJECT_ROOT}/${device}/cmd/${capability}`,
  credential: (device: string): string => `${SUBJECT_ROOT}/${device}/credential`,
  error: (device: string): string => `${SUBJECT_ROOT}/${device}/error`,
  cancel: (device: string): string => `${SUBJECT_ROOT}/${device}/cancel`,
  status: (device: string): string => `${SUBJECT_ROOT}/${device}/status`,
};

export type TopicVerdict<T> =
  | { ok: true; value: T }
  /** The topic names another device: recorded as `device_mismatch`, like a frame speaking for another device. */
  | { ok: false; code: typeof ErrorCodes.DEVICE_MISMATCH; claimed: string }
  /** Outside the device's own topics, or one of its topics in the wrong direction. */
  | { ok: false; code: typeof ErrorCodes.FORBIDDEN_TOPIC };

const forbidden = { ok: false, code: ErrorCodes.FORBIDDEN_TOPIC } as const;

/** The id level of a topic that is not `device`: another device's, or no device's at all. */
function otherDevice(id: string | undefined): TopicVerdict<never> {
  return id !== undefined && isDeviceId(id) ? { ok: false, code: ErrorCodes.DEVICE_MISMATCH, claimed: id } : forbidden;
}

/** May `device` publish on `topic`? (`topic` has no wildcards: the broker refuses those in PUBLISH.) */
export function authorizeDevicePublish(device: string, topic: string): TopicVerdict<DeviceTopic> {
  const [root, id, kind, ...rest] = topic.split('/');
  if (root !== SUBJECT_ROOT) return forbidden;
  if (id !== device) return otherDevice(id);
  const name = rest[0];
  switch (kind) {
    case 'telemetry':
      if (rest.length === 0) return { ok: true, value: { device, kind } };
      return rest.length === 1 && name ? { ok: true, value: { device, kind, name } } : forbidden;
    case 'event':
      return rest.length === 1 && name ? { ok: true, value: { device, kind, name } } : forbidden;
    case 'status':
    case 'log':
    case 'result':
    case 'progress':
      return rest.length === 0 ? { ok: true, value: { device, kind } } : forbidden;
    default:
      return forbidden;
  }
}

/**
 * May `device` subscribe to `filter`? Only filters that match nothing but its own hub → device
 * topics: `flotilla/<id>/cmd/…` (any level or wildcard after `cmd/`), `flotilla/<id>/cancel`,
 * `flotilla/<id>/credential` and `flotilla/<id>/error`. A wildcard in place of the id would reach other devices' commands.
 */
export function authorizeDeviceSubscribe(device: string, filter: string): TopicVerdict<string> {
  const [root, id, kind, ...rest] = filter.split('/');
  if (root !== SUBJECT_ROOT) return forbidden;
  if (id !== device) return otherDevice(id);
  if (kind === 'cmd' && rest.length > 0) return { ok: true, value: filter };
  if ((kind === 'credential' || kind === 'error' || kind === 'cancel') && rest.length === 0) {
    return { ok: true, value: filter };
  }
  return forbidden;
}

/** Whether a message the broker is about to deliver to `device` is on one of its own topics. */
export function isOwnTopic(device: string, topic: string): boolean {
  return topic.startsWith(`${SUBJECT_ROOT}/${device}/`);
}
