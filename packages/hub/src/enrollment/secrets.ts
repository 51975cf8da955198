import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The secrets of device identity. Both are 256 random bits, so a plain SHA-256 is the right
 * hash (no salt or slow hash needed: nothing to guess), and the prefix says what a leaked
 * string is: `fle_` an enrollment token, `fld_` a device's own credential.
 */
export const ENROLLMENT_TOKEN_PREFIX = 'fle_';
export const DEVICE_SECRET_PREFIX = 'fld_';

export function newEnrollmentToken(): string {
  return ENROLLMENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function newDeviceSecret(): string {
  return DEVICE_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
