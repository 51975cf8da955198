import type { Logger } from 'pino';
import type { Clock } from '@flotilla/protocol';
import {
  DEVICE_SERVICE,
  HUB_SERVICE,
  Mdns,
  hubTxt,
  parseDeviceTxt,
  type FoundService,
  type MdnsSetting,
  type ServiceBrowser,
} from '@flotilla/discovery';
import type { Registry } from '../registry/registry.js';

/** A device that advertises itself on the network (`_flotilla-device._tcp`) and this hub has not enrolled. */
export interface DiscoveredDevice {
  id: string;
  type: string | null;
  /** What the device says of itself: `unenrolled`, or `enrolled` (with another hub, since this one does not know it). */
  enrollment: 'unenrolled' | 'enrolled';
  agentVersion: string;
  /** SRV target, `<host>.local`. */
  host: string;
  addresses: string[];
  firstSeen: number;
  lastSeen: number;
}

export interface HubDiscoveryOptions {
  setting: MdnsSetting;
  version: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
}

/**
 * The hub on mDNS: browses for devices from the start (so `GET /api/v1/discovered` can list the
 * ones not yet enrolled) and advertises `_flotilla._tcp` once it listens. With the setting `off`
 * it does neither and the listing is empty.
 */
export class HubDiscovery {
  #mdns: Mdns | undefined;
  #browser: ServiceBrowser | undefined;

  private constructor(private readonly options: HubDiscoveryOptions) {}

  static async open(options: HubDiscoveryOptions): Promise<HubDiscovery> {
    const discovery = new HubDiscovery(options);
    if (options.setting === 'off') return discovery;
    try {
      discovery.#mdns = await Mdns.open({
        ...(options.setting !== 'on' && { interface: options.setting.address }),
        clock: options.clock,
      });
    } catch (err) {
      // A hub without mDNS still serves everything else: agents can be given its URL.
      options.logger.warn({ err }, 'mDNS is unavailable: the hub is not advertised and finds no devices');
      return discovery;
    }
    discovery.#browser = discovery.#mdns.browse(DEVICE_SERVICE);
    discovery.#browser.on('up', (s) => options.logger.debug({ instance: s.instance }, 'device seen on mDNS'));
    return discovery;
  }

  get browsing(): boolean {
    return this.#browser !== undefined;
  }

  /** Advertises the hub on `port` as `hubId` (called once it listens). */
  advertise(port: number, tls: boolean, hubId: string): void {
    const { version, logger } = this.options;
    if (!this.#mdns) return;
    this.#mdns.advertise({
      instance: hubId,
      type: HUB_SERVICE,
      port,
      txt: hubTxt({ id: hubId, version, api: '/api/v1', ws: '/ws/agent', tls }),
    });
    logger.info({ hubId, port, service: HUB_SERVICE }, 'hub advertised on mDNS');
  }

  /**
   * Devices on the network that are not enrolled here: they advertise `unenrolled`, or this hub
   * has never seen them connect. Ordered by id.
   */
  discovered(): DiscoveredDevice[] {
    const devices: DiscoveredDevice[] = [];
    for (const service of this.#browser?.services() ?? []) {
      const device = toDevice(service);
      if (!device) continue;
      if (device.enrollment === 'enrolled' && this.options.registry.get(device.id)) continue;
      devices.push(device);
    }
    return devices.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Withdraws the advertisement (goodbye) and stops browsing. */
  async close(): Promise<void> {
    await this.#mdns?.close();
    this.#mdns = undefined;
    this.#browser = undefined;
  }
}

function toDevice(service: FoundService): DiscoveredDevice | undefined {
  const advert = parseDeviceTxt(service.txt);
  if (!advert) return undefined;
  return {
    id: advert.id,
    type: advert.type ?? null,
    enrollment: advert.enrollment,
    agentVersion: advert.version,
    host: service.host,
    addresses: service.addresses,
    firstSeen: service.firstSeen,
    lastSeen: service.lastSeen,
  };
}
