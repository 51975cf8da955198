import {
  DeviceEventTypes,
  type Capability,
  type Device,
  type Hardware,
  type Network,
  type Software,
  type StoredEvent,
} from '@flotilla/protocol';
import { TeleoperationReports, activeTeleoperation, inactiveTeleoperation } from './teleoperation.js';

/**
 * The device registry as a fold over the event log. `apply` is the only place where events turn
 * into registry state: the live registry runs it after each append, a restart runs it over the
 * snapshot and the events after it, so both end in the same state.
 *
 * Contract of `apply`: it mutates the Map (insert, replace, delete) but never a Device object in
 * it. A changed device is a new object (copy on write), so a reference taken earlier (an array of
 * devices being written as a snapshot, a status message queued for a throttled subscriber) keeps
 * describing the state it was taken from.
 */
export type RegistryState = Map<string, Device>;

/** What a device states about itself in `hello`, as stored. `name` and `labels` are not facts: see DeviceRegisteredData. */
export interface DeviceFacts {
  type: string;
  model: string | null;
  hardware: Hardware;
  network: Network;
  software: Software;
  capabilities: Capability[];
}

/**
 * First `hello` of an unknown device. `name` and `labels` come from that hello; afterwards they
 * belong to operators (PATCH) and later hellos do not change them.
 */
export interface DeviceRegisteredData extends DeviceFacts {
  name: string;
  labels: Record<string, string>;
}

export interface DeviceConnectedData {
  sessionId: string;
  /** `ws` (later `mqtt`, `nats`). */
  transport: string;
  /** Set when this session took over a live one (duplicate connection): no DeviceDisconnected separates them. */
  replacedSessionId?: string;
}

export const DisconnectReasons = {
  /** The transport closed (the device went away, or the network dropped with a FIN/RST). */
  SOCKET_CLOSED: 'socket_closed',
  /** Nothing received for 3 heartbeat intervals. */
  HEARTBEAT_TIMEOUT: 'heartbeat_timeout',
  /** Found online when the hub started: the previous hub process ended without saying so. */
  HUB_RESTART: 'hub_restart',
  /**
   * Several hubs on NATS: the hub holding the session stopped answering (killed, cut off) and the
   * device did not come back through another hub; written by the fleet's leader hub.
   */
  HUB_LOST: 'hub_lost',
  /** The hub closed the session because it is shutting down. */
  HUB_SHUTDOWN: 'hub_shutdown',
  /** Disconnected because the device was decommissioned (followed by DeviceDecommissioned). */
  DECOMMISSIONED: 'decommissioned',
  /** The device's credential was revoked: the hub cut the session (followed by DeviceCredentialRevoked). */
  CREDENTIAL_REVOKED: 'credential_revoked',
  /** The hub could not store the session's telemetry (storage failure): it ended the session, the device sends again. */
  STORAGE_FAILED: 'storage_failed',
  /**
   * A frame over the device's message rate was refused unread while numbered telemetry was in
   * flight: acks would have passed over what it carried, so the session ends and the device sends again.
   */
  RATE_LIMITED: 'rate_limited',
} as const;
export type DisconnectReason = (typeof DisconnectReasons)[keyof typeof DisconnectReasons];

export interface DeviceDisconnectedData {
  /** The session that ended; null when unknown (hub_restart). */
  sessionId: string | null;
  reason: DisconnectReason;
}

/**
 * Only what changed. Fields other than `labels` replace the whole field; `labels` is a patch
 * (a null value removes that key).
 */
export interface DeviceUpdatedData extends Partial<DeviceFacts> {
  name?: string;
  labels?: Record<string, string | null>;
}

/** The device's own `event` frame, kept for the timeline. */
export interface DeviceReportedData {
  type: string;
  data: Record<string, unknown>;
}

export const DEVICE_EVENT_TYPES: readonly string[] = Object.values(DeviceEventTypes);

/** Folds one event into the state. Returns the device after it, or undefined if it was removed or the event ignored. */
export function apply(state: RegistryState, event: StoredEvent): Device | undefined {
  const id = event.aggregateId;
  const prev = state.get(id);
  const next = reduce(prev, event);
  if (next === prev) return prev;
  if (next === undefined) state.delete(id);
  else state.set(id, next);
  return next;
}

/** Folds a sequence of events into a fresh (or given) state. */
export function fold(events: Iterable<StoredEvent>, state: RegistryState = new Map()): RegistryState {
  for (const event of events) apply(state, event);
  return state;
}

function reduce(prev: Device | undefined, event: StoredEvent): Device | undefined {
  const ts = event.ts;
  switch (event.type) {
    case DeviceEventTypes.Registered: {
      const d = event.data as unknown as DeviceRegisteredData;
      return {
        id: event.aggregateId,
        name: d.name,
        type: d.type,
        model: d.model,
        labels: { ...d.labels },
        hardware: d.hardware,
        network: d.network,
        software: d.software,
        capabilities: d.capabilities,
        status: { online: false, lastSeen: null, connectedAt: null, uptime: null, transport: null },
        resources: {},
        teleoperation: inactiveTeleoperation,
        registeredAt: ts,
        updatedAt: ts,
      };
    }
    case DeviceEventTypes.Connected: {
      if (!prev) return prev;
      const d = event.data as unknown as DeviceConnectedData;
      return {
        ...prev,
        status: { ...prev.status, online: true, connectedAt: ts, lastSeen: ts, transport: d.transport },
        updatedAt: ts,
      };
    }
    case DeviceEventTypes.Disconnected: {
      if (!prev) return prev;
      // Offline, nobody can tell whether it is still teleoperated; its agent reports an ongoing
      // session again when it reconnects.
      return {
        ...prev,
        status: { ...prev.status, online: false },
        teleoperation: inactiveTeleoperation,
        updatedAt: ts,
      };
    }
    case DeviceEventTypes.Updated: {
      if (!prev) return prev;
      const d = event.data as DeviceUpdatedData;
      const next: Device = { ...prev, updatedAt: ts };
      if (d.name !== undefined) next.name = d.name;
      if (d.type !== undefined) next.type = d.type;
      if (d.model !== undefined) next.model = d.model;
      if (d.hardware !== undefined) next.hardware = d.hardware;
      if (d.network !== undefined) next.network = d.network;
      if (d.software !== undefined) next.software = d.software;
      if (d.capabilities !== undefined) next.capabilities = d.capabilities;
      if (d.labels !== undefined) next.labels = patchLabels(prev.labels, d.labels);
      return next;
    }
    case DeviceEventTypes.Decommissioned:
      return undefined;
    case DeviceEventTypes.TeleoperationStarted:
      if (!prev) return prev;
      return { ...prev, teleoperation: activeTeleoperation(event.data, ts), updatedAt: ts };
    case DeviceEventTypes.TeleoperationStopped:
      if (!prev) return prev;
      return { ...prev, teleoperation: inactiveTeleoperation, updatedAt: ts };
    case DeviceEventTypes.Reported: {
      // Logs written before TeleoperationStarted/Stopped existed recorded sessions as reports.
      if (!prev) return prev;
      const d = event.data as unknown as DeviceReportedData;
      if (d.type === TeleoperationReports.STARTED)
        return { ...prev, teleoperation: activeTeleoperation(d.data, ts), updatedAt: ts };
      if (d.type === TeleoperationReports.STOPPED)
        return { ...prev, teleoperation: inactiveTeleoperation, updatedAt: ts };
      return prev;
    }
    default:
      // Other aggregates' events share the log; they are not the registry's business.
      return prev;
  }
}

export function patchLabels(
  labels: Readonly<Record<string, string>>,
  patch: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const next = { ...labels };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}
