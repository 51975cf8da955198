import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, EventMetadata } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import type { IdentityStore, UserRow } from '../storage/identity.js';
import type { Storage } from '../storage/types.js';
import { AccessTokens, DEFAULT_ACCESS_TTL_MS, JWT_KEY_SECRET, looksLikeJwt, newSigningKey } from './access-tokens.js';
import { audit, IdentityEventTypes, SYSTEM_ACTOR } from './audit.js';
import { LoginLimiter } from './login-limiter.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { isRole, type Role } from './permissions.js';
import { roleWithin, tokenActor, userActor, type Principal } from './principal.js';
import type { Revocations } from './revocations.js';
import { API_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, randomPassword, randomSecret, sha256 } from './secrets.js';
import { userView, type UserView } from './views.js';

export const ADMIN_USERNAME = 'admin';
export const DEFAULT_REFRESH_TTL_MS = 30 * 24 * 3600_000;
export const MIN_PASSWORD_LENGTH = 8;
/** API tokens record their last use at most this often, so a busy token is not one write per request. */
const TOUCH_EVERY_MS = 60_000;

export interface IdentityOptions {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** Told of each logout, so connections opened with that access token close. */
  revocations?: Revocations;
  accessTtlMs?: number;
  refreshTtlMs?: number;
  limiter?: LoginLimiter;
  /** Called on every failed login, with why (`password`, `locked`), for metrics. */
  onLoginFailure?: (reason: 'credentials' | 'locked') => void;
}

export interface LoginResult {
  token: string;
  refreshToken: string;
  /** Seconds until `token` expires. */
  expiresIn: number;
  user: UserView;
}

/** Where a login comes from, for the limiter and the audit trail. */
export interface LoginContext {
  address: string;
  correlationId: string;
}

/**
 * Authentication: who a bearer token stands for, logins, refresh-token rotation, logout and the
 * bootstrap admin. Every check reads the user's current state, so disabling, deleting or
 * demoting a user takes effect on their next request, not when their access token expires.
 */
export class Identity {
  readonly #store: IdentityStore;
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #revocations: Revocations | undefined;
  readonly #access: AccessTokens;
  readonly #refreshTtlMs: number;
  readonly #onLoginFailure: (reason: 'credentials' | 'locked') => void;
  readonly limiter: LoginLimiter;
  /** A real hash to verify against for unknown usernames, so their logins take as long as others'. */
  #decoyHash: Promise<string> | undefined;

  private constructor(options: IdentityOptions, key: string) {
    this.#storage = options.storage;
    this.#store = options.storage.identity;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#revocations = options.revocations;
    this.#access = new AccessTokens(key, options.clock, options.accessTtlMs ?? DEFAULT_ACCESS_TTL_MS);
    this.#refreshTtlMs = options.refreshTtlMs ?? DEFAULT_REFRESH_TTL_MS;
    this.#onLoginFailure = options.onLoginFailure ?? (() => undefined);
    this.limiter = options.limiter ?? new LoginLimiter({ clock: options.clock });
  }

  static async open(options: IdentityOptions): Promise<Identity> {
    const key = await options.storage.identity.secret(JWT_KEY_SECRET, newSigningKey);
    return new Identity(options, key);
  }

  /**
   * Creates user `admin` when there are no users yet. Returns the password when the hub made
   * one up (to be shown once), undefined when it used `password` or users already existed.
   */
  async bootstrapAdmin(password: string | undefined): Promise<string | undefined> {
    if ((await this.#store.countUsers()) > 0) return undefined;
    const chosen = password ?? randomPassword();
    const now = this.#clock.now();
    const user: UserRow = {
      id: randomUUID(),
      username: ADMIN_USERNAME,
      role: 'admin',
      passwordHash: await hashPassword(chosen),
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    // Another hub on the same database may have won the race; then its admin stands.
    if (!(await this.#store.insertUser(user))) return undefined;
    await audit(
      this.#storage,
      now,
      userActor(user.username),
      IdentityEventTypes.UserCreated,
      { id: user.id, username: user.username, role: user.role, bootstrap: true },
      { actor: SYSTEM_ACTOR, correlationId: null, causationId: null },
    );
    this.#logger.info({ username: ADMIN_USERNAME }, 'created the initial admin user');
    return password === undefined ? chosen : undefined;
  }

  /** The principal a bearer token stands for; throws a 401 ApiError saying what is wrong. */
  async authenticate(token: string): Promise<Principal> {
    if (token.startsWith(API_TOKEN_PREFIX)) return this.#authenticateApiToken(token);
    if (!looksLikeJwt(token)) throw new ApiError(ApiErrors.MALFORMED_TOKEN);
    const claims = await this.#access.verify(token);
    if (await this.#store.isAccessTokenRevoked(claims.jti)) throw new ApiError(ApiErrors.REVOKED_TOKEN);
    const user = await this.#activeUser(claims.sub);
    return {
      actor: userActor(user.username),
      role: user.role,
      userId: user.id,
      username: user.username,
      access: { jti: claims.jti, expiresAt: claims.expiresAt },
    };
  }

  async #authenticateApiToken(token: string): Promise<Principal> {
    const row = await this.#store.tokenByHash(sha256(token));
    if (!row) throw new ApiError(ApiErrors.INVALID_TOKEN);
    const now = this.#clock.now();
    if (row.revokedAt !== null) throw new ApiError(ApiErrors.REVOKED_TOKEN);
    if (row.expiresAt !== null && row.expiresAt <= now) throw new ApiError(ApiErrors.EXPIRED_TOKEN);
    const owner = await this.#activeUser(row.ownerId);
    if (!isRole(row.role)) throw new ApiError(ApiErrors.INVALID_TOKEN);
    // An owner demoted since the token was made takes the token down with them.
    const role = roleWithin(row.role, owner.role) ? row.role : owner.role;
    if (row.lastUsedAt === null || now - row.lastUsedAt >= TOUCH_EVERY_MS) await this.#store.touchToken(row.id, now);
    return { actor: tokenActor(row.id), role, userId: owner.id, username: owner.username, tokenId: row.id };
  }

  async #activeUser(id: string): Promise<UserRow & { role: Role }> {
    const user = await this.#store.userById(id);
    if (!user || user.disabled || !isRole(user.role)) throw new ApiError(ApiErrors.INVALID_TOKEN);
    return user as UserRow & { role: Role };
  }

  async login(username: string, password: string, context: LoginContext): Promise<LoginResult> {
    const wait = this.limiter.retryAfter(username, context.address);
    const metadata = (actor: string): EventMetadata => ({
      actor,
      correlationId: context.correlationId,
      causationId: null,
    });
    if (wait > 0) {
      this.#onLoginFailure('locked');
      await this.#loginFailed(username, context, 'locked', metadata);
      throw new TooManyAttemptsError(wait);
    }
    const user = await this.#store.userByName(username);
    this.#decoyHash ??= hashPassword(randomPassword());
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.#decoyHash));
    if (!user || !ok || user.disabled || !isRole(user.role)) {
      this.limiter.failed(username, context.address);
      this.#onLoginFailure('credentials');
      await this.#loginFailed(username, context, user?.disabled ? 'disabled' : 'credentials', metadata);
      throw new ApiError(ApiErrors.INVALID_CREDENTIALS);
    }
    this.limiter.succeeded(username);
    const result = await this.#issue(user as UserRow & { role: Role });
    await audit(
      this.#storage,
      this.#clock.now(),
      userActor(user.username),
      IdentityEventTypes.LoginSucceeded,
      { username: user.username, address: context.address },
      metadata(userActor(user.username)),
    );
    return result;
  }

  async #loginFailed(
    username: string,
    context: LoginContext,
    reason: string,
    metadata: (actor: string) => EventMetadata,
  ): Promise<void> {
    this.#logger.warn({ username, address: context.address, reason }, 'login failed');
    await audit(
      this.#storage,
      this.#clock.now(),
      userActor(username),
      IdentityEventTypes.LoginFailed,
      { username, address: context.address, reason },
      metadata('api:anonymous'),
    );
  }

  async #issue(user: UserRow & { role: Role }): Promise<LoginResult> {
    const now = this.#clock.now();
    const refreshToken = randomSecret(REFRESH_TOKEN_PREFIX);
    await this.#store.insertSession({
      id: randomUUID(),
      userId: user.id,
      tokenHash: sha256(refreshToken),
      createdAt: now,
      expiresAt: now + this.#refreshTtlMs,
      revokedAt: null,
    });
    const { token } = await this.#access.sign(user.id, user.role);
    return { token, refreshToken, expiresIn: Math.round(this.#access.ttlMs / 1000), user: userView(user) };
  }

  /**
   * A new access token and a new refresh token for a live refresh token, which is used up. A
   * refresh token presented again after its rotation was stolen or replayed: every session of
   * that user is revoked, so the thief's copy dies with the owner's.
   */
  async refresh(refreshToken: string): Promise<LoginResult> {
    const session = await this.#store.sessionByHash(sha256(refreshToken));
    if (!session) throw new ApiError(ApiErrors.INVALID_TOKEN);
    const now = this.#clock.now();
    if (session.revokedAt !== null) {
      await this.#store.revokeUserSessions(session.userId, now);
      throw new ApiError(ApiErrors.REVOKED_TOKEN);
    }
    if (session.expiresAt <= now) throw new ApiError(ApiErrors.EXPIRED_TOKEN);
    if (!(await this.#store.revokeSession(session.id, now))) throw new ApiError(ApiErrors.REVOKED_TOKEN);
    const user = await this.#activeUser(session.userId);
    return this.#issue(user);
  }

  /** Revokes the caller's access token (until it would expire) and, when given, their refresh token. */
  async logout(principal: Principal, refreshToken: string | undefined, metadata: EventMetadata): Promise<void> {
    const now = this.#clock.now();
    if (principal.access) {
      await this.#store.revokeAccessToken(principal.access.jti, principal.access.expiresAt);
      this.#revocations?.revoked({ kind: 'access_token', jti: principal.access.jti });
    }
    if (refreshToken !== undefined) {
      const session = await this.#store.sessionByHash(sha256(refreshToken));
      if (session && session.userId === principal.userId) await this.#store.revokeSession(session.id, now);
    }
    await this.#store.prune(now);
    await audit(
      this.#storage,
      now,
      userActor(principal.username),
      IdentityEventTypes.LoggedOut,
      { username: principal.username },
      metadata,
    );
  }
}

/** 429 with how long to wait; the route turns `retryAfterMs` into a Retry-After header. */
export class TooManyAttemptsError extends ApiError {
  constructor(readonly retryAfterMs: number) {
    super(ApiErrors.TOO_MANY_ATTEMPTS, `too many failed logins: try again in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}
