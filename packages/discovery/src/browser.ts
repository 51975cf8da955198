import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import type { Answer, Question } from 'dns-packet';
import type { Clock, TimerHandle } from '@flotilla/protocol/clock';
import { HOST_TTL_S, sameName } from './records.js';
import { decodeTxt, type Txt } from './services.js';

/** A service instance seen on the network. */
export interface FoundService {
  /** Instance label (a hub or device id). */
  instance: string;
  fqdn: string;
  /** SRV target, `<host>.local`. */
  host: string;
  port: number;
  /** IPv4 addresses from its A records, else the address its answer came from. */
  addresses: string[];
  txt: Txt;
  firstSeen: number;
  lastSeen: number;
}

export interface BrowseOptions {
  /** Longest pause between queries (ms, default 60,000); they start at 1 s and double (RFC 6762 §5.2). */
  maxQueryIntervalMs?: number;
}

/** A resource record as received: the parts we read, loosely typed (peers send anything). */
interface Rec {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

type ResponsePacket = { answers: Answer[]; additionals: Answer[] };

export interface BrowserTransport {
  query(questions: Question[]): Promise<void>;
  /** Subscribes to responses; returns the unsubscribe. */
  onResponse(listener: (packet: ResponsePacket, rinfo: RemoteInfo) => void): () => void;
}

const FIRST_QUERY_INTERVAL_MS = 1000;

/**
 * Follows the instances of one service type: `up` when one appears, `update` when its TXT,
 * port or addresses change, `down` when it says goodbye or its host records expire unrefreshed
 * (the repeated queries refresh every live one well before then).
 */
export class ServiceBrowser extends EventEmitter<{
  up: [FoundService];
  update: [FoundService];
  down: [FoundService];
}> {
  readonly #found = new Map<string, FoundService & { expiresAt: number }>();
  readonly #unsubscribe: () => void;
  #timer: TimerHandle | undefined;
  #intervalMs = FIRST_QUERY_INTERVAL_MS;
  #stopped = false;

  constructor(
    private readonly transport: BrowserTransport,
    readonly type: string,
    private readonly clock: Clock,
    private readonly options: BrowseOptions,
    private readonly onStop: () => void,
  ) {
    super();
    this.#unsubscribe = transport.onResponse((packet, rinfo) => this.#onResponse(packet, rinfo));
    this.#tick();
  }

  /** What is on the network now. */
  services(): FoundService[] {
    this.#expire();
    return [...this.#found.values()].map(({ expiresAt: _e, ...s }) => ({ ...s, addresses: [...s.addresses] }));
  }

  /** Asks again now (after a network change, or to refresh a listing at once). */
  refresh(): void {
    this.#intervalMs = FIRST_QUERY_INTERVAL_MS;
    this.#timer?.cancel();
    this.#tick();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#unsubscribe();
    this.onStop();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#expire();
    void this.transport.query([{ name: this.type, type: 'PTR' }]);
    this.#timer = this.clock.setTimeout(() => this.#tick(), this.#intervalMs);
    this.#intervalMs = Math.min(this.#intervalMs * 2, this.options.maxQueryIntervalMs ?? 60_000);
  }

  #expire(): void {
    const now = this.clock.now();
    for (const [key, s] of this.#found) {
      if (s.expiresAt > now) continue;
      this.#found.delete(key);
      this.emit('down', strip(s));
    }
  }

  #onResponse(packet: ResponsePacket, rinfo: RemoteInfo): void {
    if (this.#stopped) return;
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])] as Rec[];
    const now = this.clock.now();
    const missing: Question[] = [];
    for (const ptr of records) {
      if (ptr.type !== 'PTR' || !sameName(ptr.name, this.type) || typeof ptr.data !== 'string') continue;
      const fqdn = ptr.data;
      const key = fqdn.toLowerCase();
      if (ptr.ttl === 0) {
        const gone = this.#found.get(key);
        if (gone) {
          this.#found.delete(key);
          this.emit('down', strip(gone));
        }
        continue;
      }
      const srv = records.find((r) => r.type === 'SRV' && sameName(r.name, fqdn));
      const txt = records.find((r) => r.type === 'TXT' && sameName(r.name, fqdn));
      const known = this.#found.get(key);
      if (!srv || !txt) {
        // Some responders send the PTR alone: ask for the rest.
        if (!known) missing.push({ name: fqdn, type: 'SRV' }, { name: fqdn, type: 'TXT' });
        else known.expiresAt = now + HOST_TTL_S * 1000;
        continue;
      }
      this.#upsert(key, fqdn, srv, txt, records, rinfo, now);
    }
    // An answer to our follow-up question: SRV and TXT of an instance without its PTR.
    for (const srv of records) {
      if (srv.type !== 'SRV' || !srv.name.toLowerCase().endsWith(`.${this.type.toLowerCase()}`)) continue;
      const key = srv.name.toLowerCase();
      if (records.some((r) => r.type === 'PTR' && typeof r.data === 'string' && r.data.toLowerCase() === key)) continue;
      const txt = records.find((r) => r.type === 'TXT' && sameName(r.name, srv.name));
      if (txt && srv.ttl !== 0) this.#upsert(key, srv.name, srv, txt, records, rinfo, now);
    }
    if (missing.length > 0) void this.transport.query(missing);
  }

  #upsert(key: string, fqdn: string, srv: Rec, txtRecord: Rec, records: Rec[], rinfo: RemoteInfo, now: number): void {
    const target = srv.data as { target: string; port: number };
    const addresses = records
      .filter((r) => r.type === 'A' && sameName(r.name, target.target) && typeof r.data === 'string')
      .map((r) => r.data as string);
    const service: FoundService = {
      instance: fqdn.slice(0, fqdn.length - this.type.length - 1),
      fqdn,
      host: target.target,
      port: target.port,
      // The sender's address first: it is the one that reached us.
      addresses: [...new Set([rinfo.address, ...addresses])],
      txt: decodeTxt(txtRecord.data),
      firstSeen: now,
      lastSeen: now,
    };
    const ttlS = Math.min(srv.ttl ?? HOST_TTL_S, HOST_TTL_S);
    const known = this.#found.get(key);
    if (!known) {
      this.#found.set(key, { ...service, expiresAt: now + ttlS * 1000 });
      this.emit('up', service);
      return;
    }
    const changed =
      known.port !== service.port ||
      known.host !== service.host ||
      JSON.stringify(known.txt) !== JSON.stringify(service.txt) ||
      JSON.stringify(known.addresses) !== JSON.stringify(service.addresses);
    Object.assign(known, { ...service, firstSeen: known.firstSeen, expiresAt: now + ttlS * 1000 });
    if (changed) this.emit('update', strip(known));
  }
}

function strip(s: FoundService & { expiresAt: number }): FoundService {
  const { expiresAt: _e, ...rest } = s;
  return { ...rest, addresses: [...rest.addresses] };
}
