import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { ApiTokensTable, RefreshSessionsTable, UsersTable } from './schema.js';

/**
 * Typed queries over the identity tables (migration 0003). Rows come back as plain records; the
 * auth module decides what they mean (role checks, expiry, hashing). Times are epoch ms.
 */

export interface UserRow {
  id: string;
  username: string;
  role: string;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  tokenHash: string;
  role: string;
  ownerId: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface RefreshSessionRow {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export type UserPatch = Partial<Pick<UserRow, 'username' | 'role' | 'passwordHash' | 'disabled'>> & {
  updatedAt: number;
};

const num = (v: number | string): number => Number(v);
const optNum = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toUser(row: UsersTable): UserRow {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: Number(row.disabled) !== 0,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toToken(row: ApiTokensTable): ApiTokenRow {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    role: row.role,
    ownerId: row.owner_id,
    createdAt: num(row.created_at),
    expiresAt: optNum(row.expires_at),
    revokedAt: optNum(row.revoked_at),
    lastUsedAt: optNum(row.last_used_at),
  };
}

function toSession(row: RefreshSessionsTable): RefreshSessionRow {
  return {
    id: row.id,
    userId: row.user_id,
    tokenHash: row.token_hash,
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    revokedAt: optNum(row.revoked_at),
  };
}

export class IdentityStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  get #db() {
    return this.#engine.db;
  }

  /** Lookups made on every request: not behind the writer (EngineConnection.reader). */
  get #reader() {
    return this.#engine.reader ?? this.#engine.db;
  }

  /** False when the username is taken. */
  async insertUser(user: UserRow): Promise<boolean> {
    try {
      await this.#db
        .insertInto('users')
        .values({
          id: user.id,
          username: user.username,
          role: user.role,
          password_hash: user.passwordHash,
          disabled: user.disabled ? 1 : 0,
          created_at: user.createdAt,
          updated_at: user.updatedAt,
        })
        .execute();
      return true;
    } catch (error) {
      if (this.#engine.isUniqueViolation(error)) return false;
      return guard('inserting a user', () => Promise.reject(error));
    }
  }

  async userById(id: string): Promise<UserRow | undefined> {
    const row = await guard('reading a user', () =>
      this.#reader.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toUser(row);
  }

  async userByName(username: string): Promise<UserRow | undefined> {
    const row = await guard('reading a user', () =>
      this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst(),
    );
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRow[]> {
    const rows = await guard('listing users', () =>
      this.#db.selectFrom('users').selectAll().orderBy('username').execute(),
    );
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await guard('counting users', () =>
      this.#db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.n);
  }

  /** The updated user, or undefined when there is none with this id. */
  async updateUser(id: string, patch: UserPatch): Promise<UserRow | undefined> {
    await guard('updating a user', () =>
      this.#db
        .updateTable('users')
        .set({
          ...(patch.username !== undefined && { username: patch.username }),
          ...(patch.role !== undefined && { role: patch.role }),
          ...(patch.passwordHash !== undefined && { password_hash: patch.passwordHash }),
          ...(patch.disabled !== undefined && { disabled: patch.disabled ? 1 : 0 }),
          updated_at: patch.updatedAt,
        })
        .where('id', '=', id)
        .execute(),
    );
    return this.userById(id);
  }

  /** Deletes the user with their tokens and sessions; false when there was none. */
  async deleteUser(id: string): Promise<boolean> {
    return guard('deleting a user', () =>
      this.#db.transaction().execute(async (trx) => {
        await trx.deleteFrom('api_tokens').where('owner_id', '=', id).execute();
        await trx.deleteFrom('refresh_sessions').where('user_id', '=', id).execute();
        const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),
    );
  }

  async insertToken(token: ApiTokenRow): Promise<void> {
    await guard('inserting an API token', () =>
      this.#db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          name: token.name,
          token_hash: token.tokenHash,
          role: token.role,
          owner_id: token.ownerId,
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          revoked_at: token.revokedAt,
          last_used_at: token.lastUsedAt,
        })
        .execute(),
    );
  }

  async tokenByHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
    const row = await guard('reading an API token', () =>
      this.#reader.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    );
    return row && toToken(row);
  }

  async tokenById(id: string): Promise<ApiTokenRow | undefined> {
    const row = await guard('reading an API token', () =>
      this.#db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toToken(row);
  }

  /** Every token, or only those of one owner, oldest first. */
  async listTokens(ownerId?: string): Promise<ApiTokenRow[]> {
    const rows = await guard('listing API tokens', () => {
      let query = this.#db.selectFrom('api_tokens').selectAll();
      if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
      return query.orderBy('created_at').orderBy('id').execute();
    });
    return rows.map(toToken);
  }

  /** Marks a token revoked (keeping the first revocation time); false when there is none. */
  async revokeToken(id: string, at: number): Promise<boolean> {
    const result = await guard('revoking an API token', () =>
      this.#db
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async touchToken(id: string, at: number): Promise<void> {
    await guard('recording API token use', () =>
      this.#db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute(),
    );
  }

  async insertSession(session: RefreshSessionRow): Promise<void> {
    await guard('inserting a refresh session', () =>
      this.#db
        .insertInto('refresh_sessions')
        .values({
          id: session.id,
          user_id: session.userId,
          token_hash: session.tokenHash,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          revoked_at: session.revokedAt,
        })
        .execute(),
    );
  }

  async sessionByHash(tokenHash: string): Promise<RefreshSessionRow | undefined> {
    const row = await guard('reading a refresh session', () =>
      this.#db.selectFrom('refresh_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    );
    return row && toSession(row);
  }

  /**
   * Revokes a live session; true only for the one caller that revoked it, so two concurrent
   * refreshes with the same token cannot both rotate it.
   */
  async revokeSession(id: string, at: number): Promise<boolean> {
    const result = await guard('revoking a refresh session', () =>
      this.#db
        .updateTable('refresh_sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  /** Revokes every live session of a user (disabled, deleted or password changed). */
  async revokeUserSessions(userId: string, at: number): Promise<void> {
    await guard('revoking refresh sessions', () =>
      this.#db
        .updateTable('refresh_sessions')
        .set({ revoked_at: at })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .execute(),
    );
  }

  /** Records an access token id as revoked until it would have expired anyway. */
  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    await guard('revoking an access token', () =>
      this.#db
        .insertInto('revoked_access_tokens')
        .values({ jti, expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute(),
    );
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    const row = await guard('checking an access token', () =>
      this.#reader.selectFrom('revoked_access_tokens').select('jti').where('jti', '=', jti).executeTakeFirst(),
    );
    return row !== undefined;
  }

  /** Forgets revocations of tokens that have expired anyway, and sessions long dead. */
  async prune(now: number): Promise<void> {
    await guard('pruning expired credentials', async () => {
      await this.#db.deleteFrom('revoked_access_tokens').where('expires_at', '<', now).execute();
      await this.#db.deleteFrom('refresh_sessions').where('expires_at', '<', now).execute();
    });
  }

  /**
   * The named secret, created from `generate()` when absent. With several hubs on one database
   * the first insert wins and every hub reads that one back.
   */
  async secret(name: string, generate: () => string): Promise<string> {
    return guard(`reading secret ${name}`, async () => {
      await this.#db
        .insertInto('hub_secrets')
        .values({ name, value: generate() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await this.#db
        .selectFrom('hub_secrets')
        .select('value')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      return row.value;
    });
  }
}
