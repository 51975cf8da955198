import type { Call } from './client.js';
import type { RequestOptions, User } from './types.js';

/** Users (`client.users`, needs `users:manage`) and API tokens (`client.tokens`) over the hub's API. */

export type Role = 'admin' | 'engineer' | 'operator' | 'viewer';

export interface NewUser {
  username: string;
  /** 8 to 1024 characters. */
  password: string;
  role: Role;
}

export interface UserPatch {
  role?: Role;
  password?: string;
  /** Disabling a user ends their sessions. */
  disabled?: boolean;
}

/** An API token as the hub lists it: never its secret. Times are ISO 8601. */
export interface ApiToken {
  id: string;
  name: string;
  role: string;
  ownerId: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewApiToken {
  name: string;
  /** Up to the caller's own role (default: it). */
  role?: Role;
  /** Lifetime in seconds (60 s to 10 years); absent: never expires. */
  expiresIn?: number;
}

/** What creating a token answers: the secret (`flt_…`) is in this answer only. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

type Caller = <T>(method: string, path: string, call: Call) => Promise<T>;
const one = (base: string, id: string) => `${base}/${encodeURIComponent(id)}`;

export class UsersApi {
  readonly #call: Caller;

  constructor(call: Caller) {
    this.#call = call;
  }

  list(options: RequestOptions = {}): Promise<User[]> {
    return this.#call('GET', 'api/v1/users', { signal: options.signal });
  }

  create(user: NewUser, options: RequestOptions = {}): Promise<User> {
    return this.#call('POST', 'api/v1/users', { body: user, signal: options.signal });
  }

  update(id: string, patch: UserPatch, options: RequestOptions = {}): Promise<User> {
    return this.#call('PATCH', one('api/v1/users', id), { body: patch, signal: options.signal });
  }

  /** Deletes the user with their API tokens and sessions. */
  async delete(id: string, options: RequestOptions = {}): Promise<void> {
    await this.#call<void>('DELETE', one('api/v1/users', id), { signal: options.signal });
  }
}

export class TokensApi {
  readonly #call: Caller;

  constructor(call: Caller) {
    this.#call = call;
  }

  /** Your tokens, or everyone's with `all` (needs `tokens:manage`). */
  list(filter: { all?: boolean } = {}, options: RequestOptions = {}): Promise<ApiToken[]> {
    const query = new URLSearchParams();
    if (filter.all) query.set('all', 'true');
    return this.#call('GET', 'api/v1/tokens', { query, signal: options.signal });
  }

  create(token: NewApiToken, options: RequestOptions = {}): Promise<CreatedApiToken> {
    return this.#call('POST', 'api/v1/tokens', { body: token, signal: options.signal });
  }

  /** Revokes a token (yours, or anyone's with `tokens:manage`). */
  async revoke(id: string, options: RequestOptions = {}): Promise<void> {
    await this.#call<void>('DELETE', one('api/v1/tokens', id), { signal: options.signal });
  }
}
