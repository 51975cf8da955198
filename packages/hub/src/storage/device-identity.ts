import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';

/**
 * Typed queries over the device-identity tables (migration 0004): enrollment tokens and device
 * credentials. Only hashes are stored; the enrollment module decides what they mean. Times are
 * epoch ms.
 */

export interface EnrollmentTokenRow {
  id: string;
  tokenHash: string;
  /** Null: unlimited. */
  usesAllowed: number | null;
  uses: number;
  expiresAt: number | null;
  labels: Record<string, string>;
  createdBy: string;
  revokedAt: number | null;
  created: number;
}

export interface DeviceCredentialRow {
  deviceId: string;
  secretHash: string;
  created: number;
  revokedAt: number | null;
  enrolledWith: string | null;
}

export type NewEnrollmentToken = Omit<EnrollmentTokenRow, 'uses' | 'revokedAt'>;

/** What `enroll` did: the device now has a credential, or it had a live one already, or the token could not be used. */
export type EnrollOutcome = 'enrolled' | 'credential_exists' | 'token_unusable';

const optNum = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toToken(row: {
  id: string;
  token_hash: string;
  uses_allowed: number | null;
  uses: number;
  expires_at: number | null;
  labels: string;
  created_by: string;
  revoked_at: number | null;
  created: number;
}): EnrollmentTokenRow {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    usesAllowed: optNum(row.uses_allowed),
    uses: Number(row.uses),
    expiresAt: optNum(row.expires_at),
    labels: JSON.parse(row.labels) as Record<string, string>,
    createdBy: row.created_by,
    revokedAt: optNum(row.revoked_at),
    created: Number(row.created),
  };
}

/** Thrown inside the enrollment transaction to roll it back; never escapes `enroll`. */
class Rollback extends Error {
  constructor(readonly outcome: EnrollOutcome) {
    super(outcome);
  }
}

export class DeviceIdentityStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async insertEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    await guard('creating an enrollment token', () =>
      this.#engine.db
        .insertInto('enrollment_tokens')
        .values({
          id: token.id,
          token_hash: token.tokenHash,
          uses_allowed: token.usesAllowed,
          expires_at: token.expiresAt,
          labels: JSON.stringify(token.labels),
          created_by: token.createdBy,
          revoked_at: null,
          created: token.created,
        })
        .execute(),
    );
  }

  /** Every enrollment token, oldest first. */
  async listEnrollmentTokens(): Promise<EnrollmentTokenRow[]> {
    const rows = await guard('listing enrollment tokens', () =>
      this.#engine.db.selectFrom('enrollment_tokens').selectAll().orderBy('created').orderBy('id').execute(),
    );
    return rows.map(toToken);
  }

  async getEnrollmentToken(id: string): Promise<EnrollmentTokenRow | undefined> {
    const row = await guard('reading an enrollment token', () =>
      this.#engine.db.selectFrom('enrollment_tokens').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toToken(row);
  }

  async findEnrollmentTokenByHash(tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
    const row = await guard('looking up an enrollment token', () =>
      this.#engine.db
        .selectFrom('enrollment_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst(),
    );
    return row && toToken(row);
  }

  /** Marks the token revoked. False when there is no such token or it was revoked already. */
  async revokeEnrollmentToken(id: string, at: number): Promise<boolean> {
    const result = await guard('revoking an enrollment token', () =>
      this.#engine.db
        .updateTable('enrollment_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async getCredential(deviceId: string): Promise<DeviceCredentialRow | undefined> {
    const row = await guard('reading a device credential', () =>
      this.#engine.db.selectFrom('device_credentials').selectAll().where('device_id', '=', deviceId).executeTakeFirst(),
    );
    return (
      row && {
        deviceId: row.device_id,
        secretHash: row.secret_hash,
        created: Number(row.created),
        revokedAt: optNum(row.revoked_at),
        enrolledWith: row.enrolled_with,
      }
    );
  }

  /**
   * Uses the enrollment token once and gives the device its credential, in one transaction:
   * the use is counted only when the credential is written, and the credential is written only
   * when the token was usable at `now` (not revoked, not expired, uses left) and the device has
   * no live credential (a revoked one is replaced). Concurrent enrollments cannot exceed a
   * token's uses: the count is checked and raised by one conditional UPDATE.
   */
  async enroll(request: {
    tokenId: string;
    deviceId: string;
    secretHash: string;
    now: number;
  }): Promise<EnrollOutcome> {
    const { tokenId, deviceId, secretHash, now } = request;
    try {
      await guard('enrolling a device', () =>
        this.#engine.db.transaction().execute(async (trx) => {
          const used = await trx
            .updateTable('enrollment_tokens')
            .set((eb) => ({ uses: eb('uses', '+', 1) }))
            .where('id', '=', tokenId)
            .where('revoked_at', 'is', null)
            .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
            .where((eb) => eb.or([eb('uses_allowed', 'is', null), eb('uses', '<', eb.ref('uses_allowed'))]))
            .executeTakeFirst();
          if (Number(used.numUpdatedRows) === 0) throw new Rollback('token_unusable');
          const written = await trx
            .insertInto('device_credentials')
            .values({
              device_id: deviceId,
              secret_hash: secretHash,
              created: now,
              revoked_at: null,
              enrolled_with: tokenId,
            })
            .onConflict((oc) =>
              oc
                .column('device_id')
                .doUpdateSet({ secret_hash: secretHash, created: now, revoked_at: null, enrolled_with: tokenId })
                .where('device_credentials.revoked_at', 'is not', null),
            )
            .executeTakeFirst();
          if (Number(written.numInsertedOrUpdatedRows ?? 0) === 0) throw new Rollback('credential_exists');
        }),
      );
    } catch (error) {
      const rollback = error instanceof Rollback ? error : (error as { cause?: unknown }).cause;
      if (rollback instanceof Rollback) return rollback.outcome;
      throw error;
    }
    return 'enrolled';
  }

  /** Marks the device's live credential revoked. False when it has none. */
  async revokeCredential(deviceId: string, at: number): Promise<boolean> {
    const result = await guard('revoking a device credential', () =>
      this.#engine.db
        .updateTable('device_credentials')
        .set({ revoked_at: at })
        .where('device_id', '=', deviceId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }
}
