import { setTimeout as sleep } from 'node:timers/promises';
import { FlotillaApiError, FlotillaClient, FlotillaConnectionError } from '@flotilla/sdk';
import { credentialStore, normalizeHubUrl, type CredentialStore, type StoredLogin } from './credentials.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from './errors.js';
import type { Io } from './io.js';
import { option } from './options.js';
import * as v from './values.js';

export const DEFAULT_HUB_URL = 'http://localhost:8080';

function hubUrl(raw: string, source: string): string {
  return v.url(raw, source, ['http:', 'https:']);
}

/** `--hub` of commands that do not use a login (`sim`): flag, environment, or localhost. */
export const hubUrlOption = option(hubUrl, {
  valueName: 'URL',
  env: ['FLOTILLA_HUB'],
  default: DEFAULT_HUB_URL,
  description: 'hub to talk to',
});

/** The options every command that talks to a running hub as a user takes. */
export const hubClientOptions = {
  hub: option(hubUrl, {
    valueName: 'URL',
    env: ['FLOTILLA_HUB'],
    defaultText: `the hub of flotilla login, else ${DEFAULT_HUB_URL}`,
    description: 'hub to talk to',
  }),
  token: option(v.nonEmpty, {
    valueName: 'TOKEN',
    env: ['FLOTILLA_TOKEN'],
    description: 'API token, sent as a Bearer token; without it, the login flotilla login stored for the hub',
  }),
};

/** Refresh an access token this long before it expires, so it does not expire on the way. */
const REFRESH_MARGIN_MS = 30_000;

type Auth =
  | { kind: 'none'; store: CredentialStore | undefined }
  | { kind: 'given'; token: string }
  | { kind: 'stored'; store: CredentialStore; key: string; login: StoredLogin };

/**
 * A hub and the credentials to talk to it: `--token`/`FLOTILLA_TOKEN` first, else the login
 * `flotilla login` stored for that hub. The hub is `--hub`/`FLOTILLA_HUB`, else the hub of the
 * latest login, else localhost. A stored session whose access token expired is refreshed
 * transparently (the rotated refresh token is stored at once); one that cannot be refreshed ends
 * the command with one line saying to log in again.
 */
export class HubConnection {
  readonly hub: string;
  #auth: Auth;
  readonly #io: Io;

  private constructor(hub: string, auth: Auth, io: Io) {
    this.hub = hub;
    this.#auth = auth;
    this.#io = io;
  }

  static open(values: { hub: string | undefined; token: string | undefined }, io: Io): HubConnection {
    const store = credentialStore(io.env);
    // The file is read only when it has something to say: an explicit hub and token need nothing from it.
    const file = values.hub !== undefined && values.token !== undefined ? undefined : store?.read();
    const hub = values.hub ?? file?.current ?? DEFAULT_HUB_URL;
    if (values.token !== undefined) return new HubConnection(hub, { kind: 'given', token: values.token }, io);
    const key = normalizeHubUrl(hub);
    const login = file?.hubs[key];
    if (store && login) return new HubConnection(hub, { kind: 'stored', store, key, login }, io);
    return new HubConnection(hub, { kind: 'none', store }, io);
  }

  /** The bearer token to send now (refreshed first when a stored session's has expired). */
  async token(): Promise<string | undefined> {
    const auth = this.#auth;
    if (auth.kind === 'given') return auth.token;
    if (auth.kind === 'none') return undefined;
    if (auth.login.kind === 'token') return auth.login.token;
    if (auth.login.expiresAt - REFRESH_MARGIN_MS <= this.#io.clock.now()) await this.#refresh();
    return currentAccessToken(this.#auth);
  }

  /** The stored session's refresh token, to revoke it at logout. */
  refreshToken(): string | undefined {
    const auth = this.#auth;
    return auth.kind === 'stored' && auth.login.kind === 'session' ? auth.login.refreshToken : undefined;
  }

  /** A client with the current token. */
  async client(): Promise<FlotillaClient> {
    const token = await this.token();
    return new FlotillaClient(token === undefined ? { baseUrl: this.hub } : { baseUrl: this.hub, token });
  }

  /**
   * Runs one or more requests. When the hub says a stored session's access token has expired
   * (the clocks of this machine and the hub disagree), the session is refreshed and `work` runs
   * once more. Failures come back as CliErrors that say what to do.
   */
  async call<T>(work: (client: FlotillaClient) => Promise<T>): Promise<T> {
    try {
      try {
        return await work(await this.client());
      } catch (err) {
        const auth = this.#auth;
        if (
          auth.kind === 'stored' &&
          auth.login.kind === 'session' &&
          err instanceof FlotillaApiError &&
          err.status === 401 &&
          err.code === 'expired_token'
        ) {
          await this.#refresh();
          return await work(await this.client());
        }
        throw err;
      }
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** What the user should read when a request fails (see `requestFailure`), with the right hint for a 401. */
  failure(err: unknown): unknown {
    if (err instanceof CliError) return err;
    if (err instanceof FlotillaApiError && err.status === 401) {
      const auth = this.#auth;
      if (auth.kind === 'stored') return loginAgain(this.hub, err);
      const hint =
        auth.kind === 'given'
          ? 'check --token or FLOTILLA_TOKEN'
          : 'run flotilla login, or set --token or FLOTILLA_TOKEN';
      return new CliError(CliErrorCodes.FAILED, `${err.message} (${hint})`, ExitCodes.FAILURE, { cause: err });
    }
    return requestFailure(err);
  }

  /**
   * Exchanges the stored refresh token for a new pair under the credentials lock. When another
   * command refreshed the same session meanwhile, its new pair is used instead: presenting the
   * used-up refresh token would make the hub revoke every session of the user.
   */
  async #refresh(): Promise<void> {
    const auth = this.#auth;
    if (auth.kind !== 'stored' || auth.login.kind !== 'session') return;
    const used = auth.login.refreshToken;
    await auth.store.locked(async () => {
      const file = auth.store.read();
      const current = file.hubs[auth.key];
      if (current?.kind !== 'session') throw loginAgain(this.hub);
      if (current.refreshToken !== used) {
        this.#auth = { ...auth, login: current };
        return;
      }
      let result;
      try {
        result = await new FlotillaClient({ baseUrl: this.hub }).refresh(current.refreshToken);
      } catch (err) {
        if (err instanceof FlotillaApiError && err.status === 401) throw loginAgain(this.hub, err);
        throw requestFailure(err);
      }
      const next: StoredLogin = {
        ...current,
        accessToken: result.token,
        refreshToken: result.refreshToken,
        expiresAt: this.#io.clock.now() + result.expiresIn * 1000,
      };
      file.hubs[auth.key] = next;
      auth.store.write(file);
      this.#auth = { ...auth, login: next };
    }, sleep);
  }
}

function currentAccessToken(auth: Auth): string | undefined {
  return auth.kind === 'stored' && auth.login.kind === 'session' ? auth.login.accessToken : undefined;
}

/** The stored login no longer works: its refresh token expired or was revoked (logout elsewhere, a new password). */
export class LoginExpiredError extends CliError {
  override readonly name = 'LoginExpiredError';
  constructor(hub: string, options?: { cause?: unknown }) {
    super(
      CliErrorCodes.FAILED,
      `the login to ${hub} has expired or was revoked; run flotilla login again`,
      ExitCodes.FAILURE,
      options,
    );
  }
}

function loginAgain(hub: string, cause?: unknown): CliError {
  return new LoginExpiredError(hub, { cause });
}

/**
 * What the user should read when a request fails: the hub is not there (exit 1), the hub
 * refused the input (400: the command line was wrong, exit 2), or another refusal (exit 1).
 */
export function requestFailure(err: unknown): unknown {
  if (err instanceof FlotillaConnectionError) {
    return new CliError(
      CliErrorCodes.FAILED,
      `${err.message}; is the hub running? (set --hub or FLOTILLA_HUB)`,
      ExitCodes.FAILURE,
      { cause: err },
    );
  }
  if (err instanceof FlotillaApiError) {
    if (err.status === 400) return new UsageError(err.message);
    return new CliError(CliErrorCodes.FAILED, err.message, ExitCodes.FAILURE, { cause: err });
  }
  return err;
}
