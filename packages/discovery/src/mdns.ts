import os from 'node:os';
import makeMdns from 'multicast-dns';
import type { Answer, Question } from 'dns-packet';
import { systemClock, type Clock, type TimerHandle } from '@flotilla/protocol/clock';
import { ServiceBrowser, type BrowseOptions } from './browser.js';
import { DiscoveryError, DiscoveryErrorCodes } from './errors.js';
import { advertisedAddresses } from './interfaces.js';
import { advertRecords, fqdnOf, sameName, SERVICES_META, type HostInfo, type ServiceAdvert } from './records.js';
import { instanceLabel, type Txt } from './services.js';

export interface MdnsOptions {
  /** One interface by its IPv4 address; absent: every IPv4 interface. */
  interface?: string;
  /** Host label for A records (default: this machine's host name). */
  hostname?: string;
  clock?: Clock;
}

/** A service being advertised: its TXT can change (re-announced at once), and it can be withdrawn. */
export interface Advertisement {
  readonly fqdn: string;
  updateTxt(txt: Txt): void;
  /** Sends a goodbye (TTL 0) so browsers drop it at once, not when its records expire. */
  stop(): void;
}

/** RFC 6762 §8.3: announce at least twice, one second apart. */
const ANNOUNCE_REPEAT_MS = 1000;

type MulticastDns = ReturnType<typeof makeMdns>;

/**
 * One mDNS responder and querier on UDP 5353 (shared with any other responder on the machine
 * through SO_REUSEADDR): it answers queries for what it advertises, announces changes, says
 * goodbye on close, and runs browsers. Conflict probing (RFC 6762 §8.1) is not done: instance
 * names are hub and device ids, already unique in a fleet.
 */
export class Mdns {
  readonly #socket: MulticastDns;
  readonly #host: HostInfo;
  readonly #clock: Clock;
  readonly #adverts = new Map<string, ServiceAdvert>();
  readonly #timers = new Set<TimerHandle>();
  readonly #browsers = new Set<ServiceBrowser>();
  #closed = false;

  private constructor(socket: MulticastDns, host: HostInfo, clock: Clock) {
    this.#socket = socket;
    this.#host = host;
    this.#clock = clock;
    socket.on('query', (query) => this.#answer(query.questions));
    // A malformed packet from someone else on the link is theirs to fix, not ours to crash on.
    socket.on('warning', () => {});
  }

  /** Opens the socket; rejects with DiscoveryError `mdns_unavailable` when it cannot. */
  static async open(options: MdnsOptions = {}): Promise<Mdns> {
    const iface = options.interface;
    const socket = makeMdns(
      // Bound to the wildcard address: a socket bound to an interface's unicast address would
      // never see multicast. Sending is pinned to the interface by IP_MULTICAST_IF.
      iface === undefined ? {} : { interface: iface, bind: '0.0.0.0' },
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('ready', resolve);
      socket.once('error', (err: Error) => {
        socket.destroy();
        reject(
          new DiscoveryError(DiscoveryErrorCodes.MDNS_UNAVAILABLE, `cannot open mDNS (UDP 5353): ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
    const hostname = instanceLabel(options.hostname ?? os.hostname().split('.')[0] ?? 'flotilla');
    const host = {
      name: `${hostname}.local`,
      addresses: advertisedAddresses(iface === undefined ? 'on' : { address: iface }),
    };
    return new Mdns(socket, host, options.clock ?? systemClock);
  }

  /** Advertises a service and announces it now and a second later. */
  advertise(advert: ServiceAdvert): Advertisement {
    const current: ServiceAdvert = { ...advert, instance: instanceLabel(advert.instance), txt: { ...advert.txt } };
    const fqdn = fqdnOf(current);
    this.#adverts.set(fqdn.toLowerCase(), current);
    this.#announce(current);
    return {
      fqdn,
      updateTxt: (txt) => {
        if (this.#adverts.get(fqdn.toLowerCase()) !== current) return;
        current.txt = { ...txt };
        this.#announce(current);
      },
      stop: () => {
        if (this.#adverts.get(fqdn.toLowerCase()) !== current) return;
        this.#adverts.delete(fqdn.toLowerCase());
        this.#goodbye(current);
      },
    };
  }

  /** Browses for a service type until the browser is stopped or this closes. */
  browse(type: string, options: BrowseOptions = {}): ServiceBrowser {
    const browser = new ServiceBrowser(
      {
        query: (questions) => this.#query(questions),
        onResponse: (listener) => {
          this.#socket.on('response', listener);
          return () => this.#socket.off('response', listener);
        },
      },
      type,
      this.#clock,
      options,
      () => this.#browsers.delete(browser),
    );
    this.#browsers.add(browser);
    return browser;
  }

  /** Says goodbye for every advertisement, stops the browsers and closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    for (const browser of [...this.#browsers]) browser.stop();
    const goodbyes = [...this.#adverts.values()];
    this.#adverts.clear();
    await Promise.all(goodbyes.map((advert) => this.#goodbye(advert)));
    await new Promise<void>((resolve) => this.#socket.destroy(resolve));
  }

  #announce(advert: ServiceAdvert): void {
    const send = (): void => {
      const r = advertRecords(advert, this.#host);
      void this.#respond([r.ptr, r.srv, r.txt, ...r.a]);
    };
    send();
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#adverts.get(fqdnOf(advert).toLowerCase()) === advert) send();
    }, ANNOUNCE_REPEAT_MS);
    this.#timers.add(timer);
  }

  #goodbye(advert: ServiceAdvert): Promise<void> {
    const r = advertRecords(advert, this.#host, 0);
    return this.#respond([r.ptr, r.srv, r.txt]);
  }

  /** Answers the questions we hold records for, in one multicast response. */
  #answer(questions: readonly Question[]): void {
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const q of questions) {
      const any = (q.type as string) === 'ANY';
      for (const advert of this.#adverts.values()) {
        const r = advertRecords(advert, this.#host);
        const fqdn = fqdnOf(advert);
        if (sameName(q.name, advert.type) && (any || q.type === 'PTR')) {
          answers.push(r.ptr);
          additionals.push(r.srv, r.txt, ...r.a);
        } else if (sameName(q.name, SERVICES_META) && (any || q.type === 'PTR')) {
          answers.push(r.meta);
        } else if (sameName(q.name, fqdn)) {
          if (any || q.type === 'SRV') answers.push(r.srv);
          if (any || q.type === 'TXT') answers.push(r.txt);
          additionals.push(...r.a);
        } else if (sameName(q.name, this.#host.name) && (any || q.type === 'A')) {
          answers.push(...r.a);
        }
      }
    }
    if (answers.length === 0) return;
    void this.#respond(dedupe(answers), dedupe(additionals));
  }

  #query(questions: Question[]): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // A send that fails (interface gone) is retried by the next query.
    return new Promise((resolve) => this.#socket.query({ questions }, () => resolve()));
  }

  #respond(answers: Answer[], additionals: Answer[] = []): Promise<void> {
    // A send that fails (interface gone) is retried by the next announcement or query.
    return new Promise((resolve) => this.#socket.respond({ answers, additionals }, () => resolve()));
  }
}

function dedupe(records: Answer[]): Answer[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.type} ${r.name.toLowerCase()} ${JSON.stringify((r as { data?: unknown }).data)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
