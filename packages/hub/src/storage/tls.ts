import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';

/**
 * Typed queries over the TLS tables (migration 0005): the hub's CA and the device certificates
 * it issued. The tls module decides what they mean. Times are epoch ms.
 */

export interface HubCaRow {
  /** PEM. */
  certificate: string;
  /** PKCS#8 PEM. Never leaves the hub: not logged, not in an event, not in a response. */
  privateKey: string;
  created: number;
}

export interface DeviceCertificateRow {
  /** Hex, lower case, as node's X509Certificate spells it (without leading zeros). */
  serial: string;
  deviceId: string;
  /** SHA-256 of the DER, hex. */
  fingerprint: string;
  notAfter: number;
  created: number;
  revokedAt: number | null;
}

const CA_NAME = 'hub';

export class TlsStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  /**
   * The hub's CA, made with `generate()` when there is none. With several hubs on one database
   * the first insert wins and every hub reads that one back (a loser's CA is thrown away unused).
   */
  async ca(generate: () => Promise<HubCaRow>): Promise<HubCaRow> {
    const existing = await this.#readCa();
    if (existing) return existing;
    const fresh = await generate();
    await guard('storing the hub CA', () =>
      this.#engine.db
        .insertInto('hub_ca')
        .values({
          name: CA_NAME,
          certificate: fresh.certificate,
          private_key: fresh.privateKey,
          created: fresh.created,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute(),
    );
    const stored = await this.#readCa();
    if (!stored) throw new Error('the hub CA vanished right after it was stored');
    return stored;
  }

  async #readCa(): Promise<HubCaRow | undefined> {
    const row = await guard('reading the hub CA', () =>
      this.#engine.db.selectFrom('hub_ca').selectAll().where('name', '=', CA_NAME).executeTakeFirst(),
    );
    return row && { certificate: row.certificate, privateKey: row.private_key, created: Number(row.created) };
  }

  async recordCertificate(row: Omit<DeviceCertificateRow, 'revokedAt'>): Promise<void> {
    await guard('recording a device certificate', () =>
      this.#engine.db
        .insertInto('device_certificates')
        .values({
          serial: row.serial,
          device_id: row.deviceId,
          fingerprint: row.fingerprint,
          not_after: row.notAfter,
          created: row.created,
          revoked_at: null,
        })
        .execute(),
    );
  }

  async getCertificate(serial: string): Promise<DeviceCertificateRow | undefined> {
    const row = await guard('reading a device certificate', () =>
      this.#engine.db.selectFrom('device_certificates').selectAll().where('serial', '=', serial).executeTakeFirst(),
    );
    return (
      row && {
        serial: row.serial,
        deviceId: row.device_id,
        fingerprint: row.fingerprint,
        notAfter: Number(row.not_after),
        created: Number(row.created),
        revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      }
    );
  }

  /** Marks every live certificate of the device revoked; returns how many. */
  async revokeCertificates(deviceId: string, at: number): Promise<number> {
    const result = await guard('revoking device certificates', () =>
      this.#engine.db
        .updateTable('device_certificates')
        .set({ revoked_at: at })
        .where('device_id', '=', deviceId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows);
  }
}
