import type { Clock } from '@flotilla/protocol/clock';
import { systemClock } from '@flotilla/protocol/clock';
import { DiscoveryError, DiscoveryErrorCodes } from './errors.js';
import { Mdns } from './mdns.js';
import { HUB_SERVICE, parseHubTxt, type HubAdvert } from './services.js';
import type { FoundService } from './browser.js';

export interface FindHubOptions {
  /** One interface by its IPv4 address; absent: every IPv4 interface. */
  interface?: string;
  /** How long to browse before giving up (ms, default 5,000). */
  timeoutMs?: number;
  /** Only this hub id (several hubs on one network); absent: the first that answers. */
  hubId?: string;
  clock?: Clock;
}

export interface FoundHub {
  /** `http(s)://address:port`: what an agent's `--hub` would be. */
  url: string;
  hub: HubAdvert;
  service: FoundService;
}

export const DEFAULT_FIND_TIMEOUT_MS = 5_000;

/**
 * Browses for `_flotilla._tcp` and resolves with the first hub that answers (or the one with
 * `hubId`). Rejects with DiscoveryError `no_hub_found` after `timeoutMs`.
 */
export async function findHub(options: FindHubOptions = {}): Promise<FoundHub> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FIND_TIMEOUT_MS;
  const mdns = await Mdns.open({ ...(options.interface !== undefined && { interface: options.interface }), clock });
  try {
    return await new Promise<FoundHub>((resolve, reject) => {
      const browser = mdns.browse(HUB_SERVICE);
      const consider = (service: FoundService): void => {
        const hub = parseHubTxt(service.txt);
        if (!hub || (options.hubId !== undefined && hub.id !== options.hubId)) return;
        timer.cancel();
        browser.stop();
        const address = service.addresses[0]!;
        resolve({ url: `${hub.tls ? 'https' : 'http'}://${address}:${service.port}`, hub, service });
      };
      const timer = clock.setTimeout(() => {
        browser.stop();
        const which = options.hubId === undefined ? 'no Flotilla hub' : `no Flotilla hub ${options.hubId}`;
        const where =
          options.interface === undefined ? 'on the local network' : `on the interface ${options.interface}`;
        reject(
          new DiscoveryError(
            DiscoveryErrorCodes.NO_HUB_FOUND,
            `${which} answered on mDNS (_flotilla._tcp) ${where} within ${timeoutMs} ms: start one, or give its URL with --hub`,
          ),
        );
      }, timeoutMs);
      browser.on('up', consider);
      browser.on('update', consider);
    });
  } finally {
    await mdns.close();
  }
}
