import type { Capability, HelloPayload } from '@flotilla/protocol';
import type { Rng } from '../random.js';
import type { Kind } from './types.js';

export const SITES = ['lab', 'warehouse-a', 'warehouse-b', 'field'] as const;

function hex(rng: Rng, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += rng.int(16).toString(16);
  return s;
}

/** A locally administered unicast MAC (first octet 0x02), never a real vendor's. */
function mac(rng: Rng): string {
  const octets = [0x02, ...Array.from({ length: 5 }, () => rng.int(256))];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

export interface KindFacts {
  type: Kind;
  model: string;
  serialPrefix: string;
  hardware: NonNullable<HelloPayload['hardware']>;
  software: NonNullable<HelloPayload['software']>;
  capabilities: Capability[];
  /** Longest plausible uptime at simulation start (s). */
  maxUptimeS: number;
}

/**
 * One device's facts: the kind's hardware/software/capabilities objects are shared by every
 * device of the kind (10,000 devices, a handful of those objects); only serial, network,
 * labels and uptime are the device's own.
 */
export function deviceFacts(kind: KindFacts, id: string, rng: Rng): Partial<HelloPayload> {
  const siteIndex = rng.int(SITES.length);
  const site = SITES[siteIndex]!;
  return {
    type: kind.type,
    model: kind.model,
    labels: { kind: kind.type, site },
    hardware: { ...kind.hardware, serial: `${kind.serialPrefix}-${hex(rng, 10).toUpperCase()}` },
    network: { hostname: id, mac: mac(rng), ips: [`10.${10 + siteIndex}.${rng.int(256)}.${1 + rng.int(254)}`] },
    software: kind.software,
    capabilities: kind.capabilities,
    uptime: Math.floor(rng.range(60, kind.maxUptimeS)),
  };
}
