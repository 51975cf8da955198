import { DiscoveryError, DiscoveryErrorCodes } from './errors.js';

/**
 * The DNS-SD services Flotilla advertises (RFC 6763) and what their TXT records carry. Values
 * are short strings, as DNS-SD asks; decoding is lenient about extra keys (a newer hub may add
 * some) and strict about the ones it needs.
 */
export const HUB_SERVICE = '_flotilla._tcp.local';
export const DEVICE_SERVICE = '_flotilla-device._tcp.local';
/** TXT `txtvers`: bumped only if a key changes meaning (RFC 6763 §6.7). */
export const TXT_VERSION = '1';

export interface HubAdvert {
  /** The hub's id (its instance name, unique on the link). */
  id: string;
  version: string;
  /** Path of the REST API, `/api/v1`. */
  api: string;
  /** Path of the agent socket, `/ws/agent`. */
  ws: string;
  tls: boolean;
}

export type EnrollmentState = 'unenrolled' | 'enrolled';

export interface DeviceAdvert {
  id: string;
  /** Device type (`lekiwi`, `linux`...), when the agent knows one. */
  type?: string;
  enrollment: EnrollmentState;
  /** Agent version. */
  version: string;
}

export type Txt = Record<string, string>;

export function hubTxt(hub: HubAdvert): Txt {
  return {
    txtvers: TXT_VERSION,
    id: hub.id,
    version: hub.version,
    api: hub.api,
    ws: hub.ws,
    tls: hub.tls ? '1' : '0',
  };
}

export function deviceTxt(device: DeviceAdvert): Txt {
  return {
    txtvers: TXT_VERSION,
    id: device.id,
    ...(device.type !== undefined && { type: device.type }),
    enrollment: device.enrollment,
    version: device.version,
  };
}

const PATH_RE = /^\/[A-Za-z0-9/_.-]{0,200}$/;

/** A hub's TXT record, or undefined when it lacks what an agent needs to connect. */
export function parseHubTxt(txt: Txt): HubAdvert | undefined {
  const { id, version, api, ws, tls } = txt;
  if (!id || !version || !api || !ws || !PATH_RE.test(api) || !PATH_RE.test(ws)) return undefined;
  if (tls !== '0' && tls !== '1') return undefined;
  return { id, version, api, ws, tls: tls === '1' };
}

/** A device's TXT record, or undefined when it is not one of ours. */
export function parseDeviceTxt(txt: Txt): DeviceAdvert | undefined {
  const { id, type, enrollment, version } = txt;
  if (!id || !version || (enrollment !== 'unenrolled' && enrollment !== 'enrolled')) return undefined;
  return { id, ...(type ? { type } : {}), enrollment, version };
}

/**
 * An instance name DNS-SD can carry as one label: at most 63 bytes, no dot (our DNS encoder
 * splits names on dots). Ids are already safe; a host name may not be.
 */
export function instanceLabel(name: string): string {
  const label = name.replace(/\./g, '-');
  if (label === '' || Buffer.byteLength(label) > 63) {
    throw new DiscoveryError(
      DiscoveryErrorCodes.INVALID_ADVERT,
      `service instance name ${JSON.stringify(name)} must be 1-63 bytes`,
    );
  }
  return label;
}

/** `key=value` strings of a TXT record; each must fit the 255-byte string DNS gives it. */
export function encodeTxt(txt: Txt): string[] {
  return Object.entries(txt).map(([k, v]) => {
    const entry = `${k}=${v}`;
    if (Buffer.byteLength(entry) > 255) {
      throw new DiscoveryError(DiscoveryErrorCodes.INVALID_ADVERT, `TXT entry ${k} is longer than 255 bytes`);
    }
    return entry;
  });
}

/** TXT strings back to keys and values; a key without `=` is a boolean flag (RFC 6763 §6.4), kept as ''. */
export function decodeTxt(data: unknown): Txt {
  const strings = Array.isArray(data) ? data : [data];
  const txt: Txt = {};
  for (const s of strings) {
    const text = Buffer.isBuffer(s) ? s.toString('utf8') : typeof s === 'string' ? s : '';
    if (text === '') continue;
    const eq = text.indexOf('=');
    const key = (eq === -1 ? text : text.slice(0, eq)).toLowerCase();
    // The first occurrence of a key wins (RFC 6763 §6.4).
    if (key !== '' && !(key in txt)) txt[key] = eq === -1 ? '' : text.slice(eq + 1);
  }
  return txt;
}
