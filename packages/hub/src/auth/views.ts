import type { ApiTokenRow, UserRow } from '../storage/identity.js';

/** What the API shows of users and tokens: never a hash, never a secret. */
export interface UserView {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface TokenView {
  id: string;
  name: string;
  role: string;
  ownerId: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function userView(user: UserRow): UserView {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabled: user.disabled,
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
  };
}

export function tokenView(token: ApiTokenRow): TokenView {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    ownerId: token.ownerId,
    createdAt: iso(token.createdAt),
    expiresAt: isoOrNull(token.expiresAt),
    revokedAt: isoOrNull(token.revokedAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
  };
}
