import type { Role } from './permissions.js';
import { ROLE_PERMISSIONS } from './permissions.js';

/** Who a request authenticated as. */
export interface Principal {
  /** For event metadata and logs: `user:<username>` or `token:<tokenId>`. */
  actor: string;
  /** The role the request acts with (an API token's own role, never above its owner's). */
  role: Role;
  userId: string;
  username: string;
  /** Set when the caller used an API token. */
  tokenId?: string;
  /** Set when the caller used a JWT access token: its id and expiry (epoch ms), for logout. */
  access?: { jti: string; expiresAt: number };
}

export const userActor = (username: string): string => `user:${username}`;
export const tokenActor = (tokenId: string): string => `token:${tokenId}`;

/** True when every permission of `role` is also one of `ceiling`'s (viewer ≤ operator ≤ admin, engineer ≤ admin). */
export function roleWithin(role: Role, ceiling: Role): boolean {
  for (const permission of ROLE_PERMISSIONS[role]) if (!ROLE_PERMISSIONS[ceiling].has(permission)) return false;
  return true;
}
