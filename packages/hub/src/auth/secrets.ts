import { createHash, randomBytes } from 'node:crypto';

/**
 * High-entropy random secrets (API tokens `flt_…`, refresh tokens) and their stored form. A
 * SHA-256 of 256 random bits cannot be brute-forced, so no slow hash is needed for them and a
 * lookup by hash stays one index probe.
 */
export const API_TOKEN_PREFIX = 'flt_';
export const REFRESH_TOKEN_PREFIX = 'flr_';

export function randomSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function sha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A random password for the bootstrap admin: 24 characters, easy to copy. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
