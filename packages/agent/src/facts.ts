import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Capability, HelloPayload } from '@flotilla/protocol';
import { AGENT_VERSION } from './version.js';

/** The facts part of a `hello`: everything but the token, which the agent adds itself. */
export type Facts = Omit<HelloPayload, 'token'>;

function readText(path: string): string | undefined {
  try {
    // device-tree strings end in NUL
    const text = readFileSync(path, 'utf8').replace(/\0+$/, '').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** NAME/VERSION_ID from os-release(5), falling back to the kernel's own names. */
function osRelease(): { os: string; osVersion: string } {
  const text = readText('/etc/os-release') ?? readText('/usr/lib/os-release');
  const field = (key: string): string | undefined => {
    const m = text?.match(new RegExp(`^${key}=("?)(.*)\\1$`, 'm'));
    return m?.[2] || undefined;
  };
  return { os: field('NAME') ?? os.type(), osVersion: field('VERSION_ID') ?? os.release() };
}

/** The first non-internal interface's MAC and every non-internal address. */
function network(): { mac?: string; ips: string[] } {
  let mac: string | undefined;
  const ips: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (mac === undefined && a.mac !== '00:00:00:00:00:00') mac = a.mac;
      if (ips.length < 64) ips.push(a.address);
    }
  }
  return mac === undefined ? { ips } : { mac, ips };
}

/**
 * Board model and serial: a Raspberry Pi (and most ARM boards) publish them in the device
 * tree; PCs publish the product name through DMI (their serial needs root, so it is left out).
 */
function board(): { model?: string; serial?: string } {
  const model = readText('/proc/device-tree/model') ?? readText('/sys/class/dmi/id/product_name');
  const serial = readText('/proc/device-tree/serial-number');
  return { ...(model ? { model } : {}), ...(serial ? { serial } : {}) };
}

let cached: Facts | undefined;

/**
 * The host's facts, collected once per process and shared by every agent in it: hardware,
 * network and OS do not change while the agent runs (a changed address shows on reconnect,
 * after a restart of the agent).
 */
export function collectFacts(): Facts {
  if (cached) return cached;
  const { mac, ips } = network();
  const { os: osName, osVersion } = osRelease();
  const hostname = os.hostname();
  cached = {
    hardware: { ...board(), arch: os.arch(), cpus: os.availableParallelism(), memoryBytes: os.totalmem() },
    network: { hostname, ips, ...(mac ? { mac } : {}) },
    software: { os: osName, osVersion, agentVersion: AGENT_VERSION },
    uptime: os.uptime(),
  };
  return cached;
}

/** Capabilities from several sources, one per name (a later source wins). */
export function mergeCapabilities(...lists: (readonly Capability[] | undefined)[]): Capability[] | undefined {
  const byName = new Map<string, Capability>();
  for (const list of lists) for (const c of list ?? []) byName.set(c.name, c);
  return byName.size === 0 ? undefined : [...byName.values()];
}

/**
 * Overlays `extra` on `base` one level deep: nested objects (hardware, network, software,
 * labels) merge key by key, capabilities merge by name, anything else in `extra` wins.
 */
export function mergeFacts(base: Facts, extra: Partial<HelloPayload> | undefined): Facts {
  if (!extra) return base;
  const { token: _token, ...overrides } = extra;
  const out: Facts = { ...base, ...overrides };
  for (const key of ['hardware', 'network', 'software', 'labels'] as const) {
    if (base[key] && overrides[key]) out[key] = { ...base[key], ...overrides[key] } as never;
  }
  const caps = mergeCapabilities(base.capabilities, overrides.capabilities);
  if (caps) out.capabilities = caps;
  return out;
}
