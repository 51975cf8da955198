import os from 'node:os';
import { DiscoveryError, DiscoveryErrorCodes } from './errors.js';

/**
 * Where mDNS runs: `on` (every IPv4 interface), `off`, or one interface named by its IPv4
 * address (`127.0.0.1` keeps it on this machine: tests and a hub only reachable locally).
 */
export type MdnsSetting = 'on' | 'off' | { address: string };

/** The IPv4 addresses of this machine's interfaces (loopback included). */
function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4')
    .map((i) => i!.address);
}

/** Parses `--mdns`: `on`, `off` or an IPv4 address of this machine; throws DiscoveryError otherwise. */
export function parseMdnsSetting(raw: string): MdnsSetting {
  const value = raw.trim().toLowerCase();
  if (value === 'on' || value === 'off') return value;
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) {
    throw new DiscoveryError(
      DiscoveryErrorCodes.INVALID_INTERFACE,
      `must be on, off or the IPv4 address of an interface, got ${JSON.stringify(raw)}`,
    );
  }
  if (!localAddresses().includes(value)) {
    throw new DiscoveryError(
      DiscoveryErrorCodes.INVALID_INTERFACE,
      `${value} is not an address of this machine (it has ${localAddresses().join(', ')})`,
    );
  }
  return { address: value };
}

/**
 * The setting a service listening on `host` should default to: a hub or agent bound to loopback
 * can only be reached from this machine, so it advertises there and nowhere else.
 */
export function defaultMdnsSetting(host: string | undefined): MdnsSetting {
  if (host === undefined) return 'on';
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h.startsWith('127.')) return { address: '127.0.0.1' };
  return 'on';
}

/** The IPv4 addresses to put in A records: the chosen interface's, or every external one. */
export function advertisedAddresses(setting: { address: string } | 'on'): string[] {
  if (setting !== 'on') return [setting.address];
  const external = Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
  return external.length > 0 ? external : ['127.0.0.1'];
}
