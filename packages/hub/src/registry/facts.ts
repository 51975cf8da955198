import type { Device, HelloPayload } from '@flotilla/protocol';
import type { DeviceFacts, DeviceRegisteredData, DeviceUpdatedData } from './projection.js';

/**
 * From a `hello` to registry events: the data of DeviceRegistered for a new device, and for a
 * known one the facts that differ (DeviceUpdated carries only those, and is not written at all
 * when nothing changed, which is the common reconnect). The hello's `token`, `uptime` and
 * `resources` never reach the log: the first is a secret, the others change all the time and
 * live in memory and snapshots (see registry.ts).
 */

/** Type of a device that does not say. */
export const DEFAULT_DEVICE_TYPE = 'generic';

export function registrationData(id: string, hello: HelloPayload): DeviceRegisteredData {
  return {
    name: hello.name ?? id,
    labels: { ...(hello.labels ?? {}) },
    type: hello.type ?? DEFAULT_DEVICE_TYPE,
    model: hello.model ?? hello.hardware?.model ?? null,
    hardware: hello.hardware ?? {},
    network: hello.network ?? {},
    software: hello.software ?? {},
    capabilities: hello.capabilities ?? [],
  };
}

/**
 * Facts stated in `hello` that differ from the device's. A fact the hello leaves out is not
 * stated, so it keeps its value (an agent that cannot read its serial does not erase it).
 */
export function factsDiff(device: Device, hello: HelloPayload): DeviceUpdatedData | undefined {
  const diff: Partial<DeviceFacts> = {};
  let changed = false;
  const model = hello.model ?? hello.hardware?.model;
  if (hello.type !== undefined && hello.type !== device.type) {
    diff.type = hello.type;
    changed = true;
  }
  if (model !== undefined && model !== device.model) {
    diff.model = model;
    changed = true;
  }
  if (hello.hardware !== undefined && !sameJson(hello.hardware, device.hardware)) {
    diff.hardware = hello.hardware;
    changed = true;
  }
  if (hello.network !== undefined && !sameJson(hello.network, device.network)) {
    diff.network = hello.network;
    changed = true;
  }
  if (hello.software !== undefined && !sameJson(hello.software, device.software)) {
    diff.software = hello.software;
    changed = true;
  }
  if (hello.capabilities !== undefined && !sameJson(hello.capabilities, device.capabilities)) {
    diff.capabilities = hello.capabilities;
    changed = true;
  }
  return changed ? diff : undefined;
}

/** The part of a label patch that changes something (setting a key to its value, or removing an absent key, does not). */
export function effectiveLabelPatch(
  labels: Readonly<Record<string, string>>,
  patch: Readonly<Record<string, string | null>>,
): Record<string, string | null> | undefined {
  let effective: Record<string, string | null> | undefined;
  for (const [key, value] of Object.entries(patch)) {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    if (value === null ? !has : has && labels[key] === value) continue;
    (effective ??= {})[key] = value;
  }
  return effective;
}

/**
 * Structural equality of JSON values, insensitive to object key order (a device may list its
 * facts in any order) but not to array order (capabilities and IPs are ordered lists).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const key in ao) {
    if (ao[key] === undefined) continue;
    count++;
    if (!sameJson(ao[key], bo[key])) return false;
  }
  for (const key in bo) if (bo[key] !== undefined) count--;
  return count === 0;
}
