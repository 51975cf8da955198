import { randomUUID } from 'node:crypto';
import type { Clock, EventMetadata } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import type { IdentityStore, UserPatch } from '../storage/identity.js';
import type { Storage } from '../storage/types.js';
import { audit, IdentityEventTypes } from './audit.js';
import { MIN_PASSWORD_LENGTH } from './identity.js';
import { hashPassword } from './passwords.js';
import { roleAllows, type Role } from './permissions.js';
import { roleWithin, tokenActor, userActor, type Principal } from './principal.js';
import type { Revocations } from './revocations.js';
import { API_TOKEN_PREFIX, randomSecret, sha256 } from './secrets.js';
import { tokenView, userView, type TokenView, type UserView } from './views.js';

export interface NewUser {
  username: string;
  password: string;
  role: Role;
}

export interface UserChange {
  role?: Role;
  password?: string;
  disabled?: boolean;
}

export interface NewToken {
  name: string;
  /** Defaults to the creator's role; may not exceed it. */
  role?: Role;
  /** Lifetime in seconds; absent: the token lives until revoked. */
  expiresIn?: number;
}

/** User and API-token management. Every change is an event carrying the actor that made it. */
export class Accounts {
  readonly #store: IdentityStore;
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #revocations: Revocations | undefined;

  /** `revocations` is told of revoked tokens and changed users, so their live connections close. */
  constructor(options: { storage: Storage; clock: Clock; revocations?: Revocations }) {
    this.#storage = options.storage;
    this.#store = options.storage.identity;
    this.#clock = options.clock;
    this.#revocations = options.revocations;
  }

  async createUser(input: NewUser, metadata: EventMetadata): Promise<UserView> {
    checkPassword(input.password);
    const now = this.#clock.now();
    const user = {
      id: randomUUID(),
      username: input.username,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.#store.insertUser(user))) {
      throw new ApiError(ApiErrors.USERNAME_TAKEN, `a user named ${input.username} exists`);
    }
    await audit(
      this.#storage,
      now,
      userActor(user.username),
      IdentityEventTypes.UserCreated,
      { id: user.id, username: user.username, role: user.role },
      metadata,
    );
    return userView(user);
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.#store.listUsers()).map(userView);
  }

  async getUser(id: string): Promise<UserView> {
    const user = await this.#store.userById(id);
    if (!user) throw new ApiError(ApiErrors.USER_NOT_FOUND, `no user ${id}`);
    return userView(user);
  }

  /** A new password, a disabled account or another role also ends the user's refresh sessions. */
  async updateUser(id: string, change: UserChange, metadata: EventMetadata): Promise<UserView> {
    const now = this.#clock.now();
    const patch: UserPatch = { updatedAt: now };
    if (change.role !== undefined) patch.role = change.role;
    if (change.disabled !== undefined) patch.disabled = change.disabled;
    if (change.password !== undefined) {
      checkPassword(change.password);
      patch.passwordHash = await hashPassword(change.password);
    }
    const user = await this.#store.updateUser(id, patch);
    if (!user) throw new ApiError(ApiErrors.USER_NOT_FOUND, `no user ${id}`);
    if (change.password !== undefined || change.disabled === true || change.role !== undefined) {
      await this.#store.revokeUserSessions(id, now);
      // Live connections re-authenticate: with the new role, or not at all when disabled.
      this.#revocations?.revoked({ kind: 'user', userId: id });
    }
    await audit(
      this.#storage,
      now,
      userActor(user.username),
      IdentityEventTypes.UserUpdated,
      {
        id,
        username: user.username,
        ...(change.role !== undefined && { role: change.role }),
        ...(change.disabled !== undefined && { disabled: change.disabled }),
        ...(change.password !== undefined && { passwordChanged: true }),
      },
      metadata,
    );
    return userView(user);
  }

  async deleteUser(id: string, metadata: EventMetadata): Promise<void> {
    const user = await this.#store.userById(id);
    if (!user || !(await this.#store.deleteUser(id))) throw new ApiError(ApiErrors.USER_NOT_FOUND, `no user ${id}`);
    this.#revocations?.revoked({ kind: 'user', userId: id });
    await audit(
      this.#storage,
      this.#clock.now(),
      userActor(user.username),
      IdentityEventTypes.UserDeleted,
      { id, username: user.username },
      metadata,
    );
  }

  /** The new token's secret is in the result and nowhere else, ever. */
  async createToken(
    creator: Principal,
    input: NewToken,
    metadata: EventMetadata,
  ): Promise<TokenView & { token: string }> {
    const role = input.role ?? creator.role;
    if (!roleWithin(role, creator.role)) {
      throw new ApiError(ApiErrors.FORBIDDEN, `a ${creator.role} cannot create a token with role ${role}`);
    }
    const now = this.#clock.now();
    const secret = randomSecret(API_TOKEN_PREFIX);
    const row = {
      id: randomUUID(),
      name: input.name,
      tokenHash: sha256(secret),
      role,
      ownerId: creator.userId,
      createdAt: now,
      expiresAt: input.expiresIn === undefined ? null : now + input.expiresIn * 1000,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.#store.insertToken(row);
    await audit(
      this.#storage,
      now,
      tokenActor(row.id),
      IdentityEventTypes.TokenCreated,
      { id: row.id, name: row.name, role, ownerId: row.ownerId, expiresAt: row.expiresAt },
      metadata,
    );
    return { ...tokenView(row), token: secret };
  }

  /** The caller's own tokens, or everyone's when they may manage tokens and ask for all. */
  async listTokens(caller: Principal, all: boolean): Promise<TokenView[]> {
    if (all && !roleAllows(caller.role, 'tokens:manage')) throw new ApiError(ApiErrors.FORBIDDEN);
    return (await this.#store.listTokens(all ? undefined : caller.userId)).map(tokenView);
  }

  async revokeToken(caller: Principal, id: string, metadata: EventMetadata): Promise<void> {
    const row = await this.#store.tokenById(id);
    // Someone else's token is "not found" to a caller who may not manage it: no probing for ids.
    if (!row || (row.ownerId !== caller.userId && !roleAllows(caller.role, 'tokens:manage'))) {
      throw new ApiError(ApiErrors.TOKEN_NOT_FOUND, `no API token ${id}`);
    }
    if (!(await this.#store.revokeToken(id, this.#clock.now()))) return;
    this.#revocations?.revoked({ kind: 'api_token', tokenId: id });
    await audit(
      this.#storage,
      this.#clock.now(),
      tokenActor(id),
      IdentityEventTypes.TokenRevoked,
      { id, name: row.name, ownerId: row.ownerId },
      metadata,
    );
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(ApiErrors.BAD_REQUEST, `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}
