import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCodes, type Clock, type EventMetadata } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { PeerCertificate } from '../tls/device-certificates.js';
import type { DeviceIdentityStore, EnrollmentTokenRow } from '../storage/device-identity.js';
import type { Storage } from '../storage/types.js';
import { hashSecret, newDeviceSecret, newEnrollmentToken, secretMatches, ENROLLMENT_TOKEN_PREFIX } from './secrets.js';
import { appendAndPublish, DeviceIdentityEventTypes } from './security.js';

/**
 * Device identity: enrollment tokens and the per-device credentials they hand out, and the
 * decision on each `hello`. Transport-independent: the WebSocket gateway calls `authenticate`,
 * and an MQTT listener will call it with the CONNECT password.
 *
 * The rule for a hello (`token` = what the device presented):
 * - the device has a live credential → only that credential is accepted; an enrollment token
 *   does not let anyone take over an enrolled id (`unauthorized`);
 * - the device's credential was revoked → its old secret gets `credential_revoked`; a valid
 *   enrollment token enrolls it again (revocation is how an operator lets a device re-enroll);
 * - the device has no credential → a valid enrollment token enrolls it: the token's use is
 *   counted, a new secret is stored hashed and returned once, the token's labels are applied.
 *   Refused: `enrollment_expired`, `enrollment_exhausted`, `unauthorized` (revoked or unknown).
 */

/** A token as listed by the API: everything but the secret and its hash. */
export interface EnrollmentTokenInfo {
  id: string;
  uses: number | null;
  used: number;
  expiresAt: number | null;
  labels: Record<string, string>;
  createdBy: string;
  created: number;
  revokedAt: number | null;
}

export interface CreatedEnrollmentToken extends EnrollmentTokenInfo {
  /** The secret itself (`fle_…`): returned by `createToken` only, never stored. */
  token: string;
}

export interface CreateTokenRequest {
  /** How many devices may enroll with it; null or absent: unlimited. */
  uses?: number | null;
  /** Lifetime in ms from now; null or absent: no expiry. */
  expiresInMs?: number | null;
  labels?: Record<string, string>;
}

export type HelloAuthResult =
  | {
      ok: true;
      /** Set when this hello enrolled the device: its new secret, to send in `welcome` once. */
      credential?: string;
      /** Labels to apply to the device (from the enrollment token). */
      labels?: Record<string, string>;
      enrolledWith?: string;
      /** A client certificate (PEM) issued for the hello's `csr`, to send in `welcome`. */
      certificate?: string;
      /** The CA (PEM) the device should verify the hub with, sent with `certificate`. */
      ca?: string;
    }
  | { ok: false; code: HelloRefusalCode; message: string };

export type HelloRefusalCode =
  | typeof ErrorCodes.UNAUTHORIZED
  | typeof ErrorCodes.ENROLLMENT_EXPIRED
  | typeof ErrorCodes.ENROLLMENT_EXHAUSTED
  | typeof ErrorCodes.CREDENTIAL_REVOKED
  | typeof ErrorCodes.INVALID_CSR
  | typeof ErrorCodes.CERTIFICATE_MISMATCH
  | typeof ErrorCodes.CERTIFICATE_REVOKED
  | typeof ErrorCodes.CERTIFICATE_REQUIRED;

export interface HelloAuthRequest {
  device: string;
  /** The hello's `token`: a device credential or an enrollment token. */
  token: string | undefined;
  transport: string;
  sessionId: string;
  /** The hello's `csr` (PEM), when it asks for a client certificate. */
  csr?: string;
  /** The client certificate the connection presented, when TLS verified it against the hub CA. */
  certificate?: PeerCertificate;
}

/** Told when a device's credential is revoked, so transports cut its live session. */
export type RevocationHook = (deviceId: string) => void;

export interface DeviceEnrollmentOptions {
  storage: Pick<Storage, 'appendEvents' | 'deviceIdentity'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
}

function refusal(code: HelloRefusalCode, message: string): HelloAuthResult {
  return { ok: false, code, message };
}

function info(row: EnrollmentTokenRow): EnrollmentTokenInfo {
  return {
    id: row.id,
    uses: row.usesAllowed,
    used: row.uses,
    expiresAt: row.expiresAt,
    labels: row.labels,
    createdBy: row.createdBy,
    created: row.created,
    revokedAt: row.revokedAt,
  };
}

export class DeviceEnrollment {
  private readonly store: DeviceIdentityStore;
  private readonly hooks = new Set<RevocationHook>();

  constructor(private readonly options: DeviceEnrollmentOptions) {
    this.store = options.storage.deviceIdentity;
  }

  async createToken(request: CreateTokenRequest, meta: EventMetadata): Promise<CreatedEnrollmentToken> {
    const now = this.options.clock.now();
    const token = newEnrollmentToken();
    const row: EnrollmentTokenRow = {
      id: `et_${randomBytes(9).toString('base64url')}`,
      tokenHash: hashSecret(token),
      usesAllowed: request.uses ?? null,
      uses: 0,
      expiresAt: request.expiresInMs == null ? null : now + request.expiresInMs,
      labels: { ...request.labels },
      createdBy: meta.actor,
      revokedAt: null,
      created: now,
    };
    await this.store.insertEnrollmentToken(row);
    const created = info(row);
    await this.event(row.id, DeviceIdentityEventTypes.EnrollmentTokenCreated, { ...created }, meta, false);
    return { ...created, token };
  }

  async listTokens(): Promise<EnrollmentTokenInfo[]> {
    return (await this.store.listEnrollmentTokens()).map(info);
  }

  /** Revokes an enrollment token (devices enrolled with it keep their credentials). False when unknown or already revoked. */
  async revokeToken(id: string, meta: EventMetadata): Promise<boolean> {
    if (!(await this.store.revokeEnrollmentToken(id, this.options.clock.now()))) return false;
    await this.event(id, DeviceIdentityEventTypes.EnrollmentTokenRevoked, { id }, meta, false);
    return true;
  }

  /**
   * Revokes the device's credential and tells the transports to cut its session at once. False
   * when the device has no live credential.
   */
  async revokeCredential(deviceId: string, meta: EventMetadata): Promise<boolean> {
    if (!(await this.store.revokeCredential(deviceId, this.options.clock.now()))) return false;
    for (const hook of this.hooks) {
      try {
        hook(deviceId);
      } catch (err) {
        this.options.logger.error({ err, device: deviceId }, 'revocation hook failed');
      }
    }
    await this.event(deviceId, DeviceIdentityEventTypes.DeviceCredentialRevoked, {}, meta, true);
    this.options.logger.info({ device: deviceId, actor: meta.actor }, 'device credential revoked');
    return true;
  }

  onRevoked(hook: RevocationHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Decides a hello (see the rule at the top of this file). Never throws for a refusal. */
  async authenticate(request: HelloAuthRequest): Promise<HelloAuthResult> {
    const { device, token } = request;
    if (token === undefined || token === '') return refusal(ErrorCodes.UNAUTHORIZED, 'hello carries no token');
    const credential = await this.store.getCredential(device);
    const live = credential !== undefined && credential.revokedAt === null;
    if (credential && secretMatches(token, credential.secretHash)) {
      return live ? { ok: true } : refusal(ErrorCodes.CREDENTIAL_REVOKED, 'this device credential was revoked');
    }
    if (live || !token.startsWith(ENROLLMENT_TOKEN_PREFIX)) {
      return refusal(ErrorCodes.UNAUTHORIZED, 'the token is not this device’s credential');
    }
    return this.enroll(request, token);
  }

  /**
   * A device another party has already authenticated (the external broker of an MQTT bridge,
   * which checks passwords the hub never sees): admitted when it is enrolled here with a live
   * credential, so only devices this hub enrolled take part and a revoked one stays out.
   */
  async vouched(request: HelloAuthRequest): Promise<HelloAuthResult> {
    const credential = await this.store.getCredential(request.device);
    if (credential === undefined)
      return refusal(ErrorCodes.UNAUTHORIZED, 'this device is not enrolled: enroll it with an enrollment token first');
    return credential.revokedAt === null
      ? { ok: true }
      : refusal(ErrorCodes.CREDENTIAL_REVOKED, 'this device credential was revoked');
  }

  private async enroll(request: HelloAuthRequest, token: string): Promise<HelloAuthResult> {
    const { device, sessionId } = request;
    const row = await this.store.findEnrollmentTokenByHash(hashSecret(token));
    const now = this.options.clock.now();
    if (!row) return refusal(ErrorCodes.UNAUTHORIZED, 'unknown enrollment token');
    const unusable = this.check(row, now);
    if (unusable) return unusable;
    const secret = newDeviceSecret();
    const outcome = await this.store.enroll({ tokenId: row.id, deviceId: device, secretHash: hashSecret(secret), now });
    if (outcome === 'credential_exists') {
      return refusal(ErrorCodes.UNAUTHORIZED, 'this device is enrolled already: present its credential');
    }
    if (outcome === 'token_unusable') {
      // Used up, expired or revoked between the read and the write: say which.
      const again = await this.store.getEnrollmentToken(row.id);
      return (again && this.check(again, now)) ?? refusal(ErrorCodes.ENROLLMENT_EXHAUSTED, 'enrollment token used up');
    }
    await this.event(
      device,
      DeviceIdentityEventTypes.DeviceEnrolled,
      { enrollmentToken: row.id, labels: row.labels, transport: request.transport },
      { actor: `device:${device}`, correlationId: sessionId, causationId: null },
      true,
    );
    this.options.logger.info({ device, enrollmentToken: row.id }, 'device enrolled');
    return { ok: true, credential: secret, labels: row.labels, enrolledWith: row.id };
  }

  /** Why a token cannot be used at `now`, or undefined when it can. */
  private check(row: EnrollmentTokenRow, now: number): HelloAuthResult | undefined {
    if (row.revokedAt !== null) return refusal(ErrorCodes.UNAUTHORIZED, 'enrollment token revoked');
    if (row.expiresAt !== null && row.expiresAt <= now)
      return refusal(ErrorCodes.ENROLLMENT_EXPIRED, 'enrollment token expired');
    if (row.usesAllowed !== null && row.uses >= row.usesAllowed)
      return refusal(ErrorCodes.ENROLLMENT_EXHAUSTED, 'enrollment token used up');
    return undefined;
  }

  private async event(
    aggregateId: string,
    type: string,
    data: Record<string, unknown>,
    meta: EventMetadata,
    publish: boolean,
  ): Promise<void> {
    if (publish) return appendAndPublish(this.options, aggregateId, type, data, meta);
    await this.options.storage.appendEvents([
      { id: randomUUID(), aggregateId, type, ts: this.options.clock.now(), data, metadata: meta },
    ]);
  }
}
