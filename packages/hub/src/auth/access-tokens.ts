import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import type { Clock } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { isRole, type Role } from './permissions.js';

/**
 * Short-lived JWT access tokens (HS256). The signing key lives in the database (`hub_secrets`),
 * so every hub on one PostgreSQL accepts the others' tokens; it never leaves the hub.
 */
export const JWT_KEY_SECRET = 'jwt-signing-key';
export const DEFAULT_ACCESS_TTL_MS = 15 * 60_000;

export interface AccessClaims {
  /** User id. */
  sub: string;
  role: Role;
  jti: string;
  /** Expiry, epoch ms. */
  expiresAt: number;
}

export function newSigningKey(): string {
  return randomBytes(32).toString('base64url');
}

/** A JWT is three base64url parts; anything else after `Bearer` is not one of our tokens. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/** Verified tokens remembered (a few hundred bytes each): more than any fleet's active sessions. */
const MAX_VERIFIED = 10_000;

export class AccessTokens {
  readonly #key: Uint8Array;
  readonly #clock: Clock;
  readonly ttlMs: number;
  /**
   * Tokens whose signature and claims checked out, with their claims: HMAC verification through
   * WebCrypto (key import, base64 decoding, JSON parsing) cost about as much as the rest of a
   * small request, for the same answer every time. Expiry is still checked on every use;
   * revocation and the user's state are checked by the caller, against storage.
   */
  readonly #verified = new Map<string, AccessClaims>();

  constructor(key: string, clock: Clock, ttlMs = DEFAULT_ACCESS_TTL_MS) {
    this.#key = Buffer.from(key, 'base64url');
    this.#clock = clock;
    this.ttlMs = ttlMs;
  }

  async sign(userId: string, role: Role): Promise<{ token: string; claims: AccessClaims }> {
    const now = this.#clock.now();
    const claims: AccessClaims = { sub: userId, role, jti: randomUUID(), expiresAt: now + this.ttlMs };
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setJti(claims.jti)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(claims.expiresAt / 1000))
      .sign(this.#key);
    return { token, claims };
  }

  /** The token's claims; throws the 401 ApiError that says what is wrong with it. */
  async verify(token: string): Promise<AccessClaims> {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      if (known.expiresAt > this.#clock.now()) return known;
      this.#verified.delete(token);
    }
    const claims = await this.#verifySignature(token);
    if (this.#verified.size >= MAX_VERIFIED) this.#verified.clear();
    this.#verified.set(token, claims);
    return claims;
  }

  async #verifySignature(token: string): Promise<AccessClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['sub', 'jti', 'exp'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ApiError(ApiErrors.EXPIRED_TOKEN);
      if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
        throw new ApiError(ApiErrors.MALFORMED_TOKEN, 'the bearer token is not a well-formed JWT');
      }
      throw new ApiError(ApiErrors.INVALID_TOKEN);
    }
    const { sub, jti, exp, role } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || !isRole(role)) {
      throw new ApiError(ApiErrors.INVALID_TOKEN);
    }
    return { sub, jti, role, expiresAt: exp * 1000 };
  }
}
