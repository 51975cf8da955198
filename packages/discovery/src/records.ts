import type { Answer } from 'dns-packet';
import { encodeTxt, type Txt } from './services.js';

/** RFC 6762 §10: 120 s for records bound to a host (SRV, A), 75 min for the others. */
export const HOST_TTL_S = 120;
export const OTHER_TTL_S = 4500;
/** DNS-SD service type enumeration (RFC 6763 §9). */
export const SERVICES_META = '_services._dns-sd._udp.local';

export interface ServiceAdvert {
  /** Instance label, unique on the link (a hub or device id). */
  instance: string;
  /** `_flotilla._tcp.local` or `_flotilla-device._tcp.local`. */
  type: string;
  port: number;
  txt: Txt;
}

export interface HostInfo {
  /** `<name>.local`. */
  name: string;
  addresses: readonly string[];
}

export function fqdnOf(advert: { instance: string; type: string }): string {
  return `${advert.instance}.${advert.type}`;
}

/** The records of one advertisement, grouped as a query for each name would want them. */
export function advertRecords(advert: ServiceAdvert, host: HostInfo, ttlScale: 0 | 1 = 1) {
  const fqdn = fqdnOf(advert);
  const ptr: Answer = { name: advert.type, type: 'PTR', ttl: OTHER_TTL_S * ttlScale, data: fqdn };
  const srv: Answer = {
    name: fqdn,
    type: 'SRV',
    ttl: HOST_TTL_S * ttlScale,
    flush: true,
    data: { target: host.name, port: advert.port, priority: 0, weight: 0 },
  };
  const txt: Answer = {
    name: fqdn,
    type: 'TXT',
    ttl: OTHER_TTL_S * ttlScale,
    flush: true,
    data: encodeTxt(advert.txt),
  };
  const a: Answer[] = host.addresses.map((address) => ({
    name: host.name,
    type: 'A',
    ttl: HOST_TTL_S * ttlScale,
    flush: true,
    data: address,
  }));
  const meta: Answer = { name: SERVICES_META, type: 'PTR', ttl: OTHER_TTL_S * ttlScale, data: advert.type };
  return { ptr, srv, txt, a, meta };
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
