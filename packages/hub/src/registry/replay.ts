import type { Device, StoredEvent } from '@flotilla/protocol';
import type { Storage } from '../storage/types.js';
import { DEVICE_EVENT_TYPES } from './projection.js';

/**
 * Reading the registry back at start: the latest `registry` snapshot, then every device event
 * after its position, in pages. What to do with each device and event is the caller's (the
 * registry folds them into its projection and index).
 */
export const REGISTRY_SNAPSHOT = 'registry';
/** Bumped when the snapshot's shape changes; a snapshot of another version is ignored and the whole log replayed. */
export const SNAPSHOT_VERSION = 1;
const PAGE = 1000;

export interface RegistrySnapshotState {
  version: number;
  devices: Device[];
}

export interface ReplayResult {
  /** Position of the snapshot used, or null when there was none (or it was ignored). */
  snapshotPosition: number | null;
  /** An unusable snapshot that was ignored. */
  ignoredSnapshot: boolean;
  /** Events replayed after the snapshot. */
  replayed: number;
}

export async function replay(
  storage: Pick<Storage, 'loadSnapshot' | 'readEvents'>,
  onDevice: (device: Device) => void,
  onEvent: (event: StoredEvent) => void,
): Promise<ReplayResult> {
  const snapshot = await storage.loadSnapshot<RegistrySnapshotState>(REGISTRY_SNAPSHOT);
  const usable = snapshot?.state?.version === SNAPSHOT_VERSION && Array.isArray(snapshot.state.devices);
  let cursor: number | undefined;
  if (snapshot && usable) {
    for (const device of snapshot.state.devices) onDevice(upgrade(device));
    cursor = snapshot.position;
  }
  let replayed = 0;
  for (;;) {
    const page = await storage.readEvents({ cursor, limit: PAGE, order: 'asc', types: [...DEVICE_EVENT_TYPES] });
    for (const event of page) onEvent(event);
    replayed += page.length;
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    cursor = last.position;
  }
  return {
    snapshotPosition: snapshot && usable ? snapshot.position : null,
    ignoredSnapshot: snapshot !== undefined && !usable,
    replayed,
  };
}

/**
 * A device from a snapshot taken before a field was added to the Device shape gets the field's
 * empty value (`teleoperation.indicators`), rather than invalidating the snapshot and replaying
 * the whole log.
 */
function upgrade(device: Device): Device {
  const teleoperation = device.teleoperation as Partial<Device['teleoperation']>;
  if (Array.isArray(teleoperation.indicators)) return device;
  return { ...device, teleoperation: { ...device.teleoperation, indicators: [] } };
}
