import { matchesSelector, type Device, type Requirement } from '@flotilla/protocol';

/**
 * Listing devices in id order with filters, over the in-memory registry. A hub holds up to about
 * 10,000 devices, so a filtered scan of a sorted id array answers in well under a millisecond;
 * the array is kept sorted as devices come and go, never re-sorted per request.
 */
export interface DeviceQuery {
  online?: boolean | undefined;
  type?: string | undefined;
  /** Only devices that are (true) or are not (false) teleoperated now. */
  teleoperated?: boolean | undefined;
  /** Label selector requirements (parseSelector), all of which must hold. */
  requirements?: readonly Requirement[] | undefined;
  /** Case-insensitive substring of id, name, hostname, serial or model. */
  q?: string | undefined;
  /** Start after this id (exclusive): the page cursor. */
  afterId?: string | undefined;
  limit: number;
}

export interface DevicePage {
  items: Device[];
  /** Id of the last item when more matches follow (the next page's `afterId`), else null. */
  nextId: string | null;
}

export class SortedIds {
  private readonly ids: string[] = [];

  get length(): number {
    return this.ids.length;
  }

  add(id: string): void {
    const i = lowerBound(this.ids, id);
    if (this.ids[i] !== id) this.ids.splice(i, 0, id);
  }

  delete(id: string): void {
    const i = lowerBound(this.ids, id);
    if (this.ids[i] === id) this.ids.splice(i, 1);
  }

  clear(): void {
    this.ids.length = 0;
  }

  /** Index of the first id strictly after `id`. */
  after(id: string): number {
    const i = lowerBound(this.ids, id);
    return this.ids[i] === id ? i + 1 : i;
  }

  at(i: number): string | undefined {
    return this.ids[i];
  }
}

/** First index whose id is not below `id` (ids compare by UTF-16 code units, as `<` does). */
function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as string) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function queryDevices(ids: SortedIds, devices: ReadonlyMap<string, Device>, query: DeviceQuery): DevicePage {
  const limit = Math.max(1, Math.floor(query.limit));
  const needle = query.q?.toLowerCase();
  const items: Device[] = [];
  for (let i = query.afterId === undefined ? 0 : ids.after(query.afterId); i < ids.length; i++) {
    const device = devices.get(ids.at(i) as string);
    if (!device || !matches(device, query, needle)) continue;
    if (items.length === limit) return { items, nextId: (items[limit - 1] as Device).id };
    items.push(device);
  }
  return { items, nextId: null };
}

function matches(device: Device, query: DeviceQuery, needle: string | undefined): boolean {
  if (query.online !== undefined && device.status.online !== query.online) return false;
  if (query.type !== undefined && device.type !== query.type) return false;
  if (query.teleoperated !== undefined && device.teleoperation.active !== query.teleoperated) return false;
  if (query.requirements && query.requirements.length > 0 && !matchesSelector(query.requirements, device.labels))
    return false;
  if (needle !== undefined && needle.length > 0) {
    return (
      contains(device.id, needle) ||
      contains(device.name, needle) ||
      contains(device.network.hostname, needle) ||
      contains(device.hardware.serial, needle) ||
      contains(device.model, needle) ||
      contains(device.hardware.model, needle)
    );
  }
  return true;
}

function contains(value: string | null | undefined, needle: string): boolean {
  return typeof value === 'string' && value.toLowerCase().includes(needle);
}
