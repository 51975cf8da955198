import { setTimeout as sleep } from 'node:timers/promises';
import { FlotillaApiError, FlotillaClient } from '@flotilla/sdk';
import { DEFAULT_HUB_URL, hubClientOptions, requestFailure } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import {
  CredentialsError,
  credentialStore,
  normalizeHubUrl,
  type CredentialsFile,
  type CredentialStore,
  type StoredLogin,
} from '../credentials.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const loginOptions = {
  hub: hubClientOptions.hub,
  username: option(v.nonEmpty, {
    short: 'u',
    valueName: 'NAME',
    description: 'user to log in as; asked on the terminal when not given',
  }),
  passwordStdin: flag({
    description:
      'read the password from stdin (its first line) even on a terminal; without a terminal, stdin is read anyway',
  }),
  token: option(v.nonEmpty, {
    valueName: 'TOKEN',
    description: 'store this API token (flt_…) instead of logging in with a password',
  }),
};

const help = helpText({
  usage: 'flotilla login [--hub URL] [--username NAME] [--password-stdin | --token TOKEN]',
  description:
    'Logs in to a hub and keeps the session (access and refresh token) in credentials.json, mode 0600, in $FLOTILLA_CONFIG_DIR, else $XDG_CONFIG_HOME/flotilla, else ~/.config/flotilla. devices, device, events and provision then use it for that hub, and that hub when no --hub is given; an expired access token is refreshed on the way. The password is asked without echo, or read from stdin when it is not a terminal.',
  options: loginOptions,
  notes:
    'Examples:\n  flotilla login --hub http://hub.local:8080 --username admin\n  printf \'%s\\n\' "$PASSWORD" | flotilla login --username admin --password-stdin\n  flotilla login --token flt_…',
});

/** The stored logins, or none when the file is unreadable (a new login replaces it). */
function readOrEmpty(store: CredentialStore): { file: CredentialsFile; problem?: CredentialsError } {
  try {
    return { file: store.read() };
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    return { file: { version: 1, current: null, hubs: {} }, problem: err };
  }
}

/** The first line of what was piped in, as `docker login --password-stdin` reads it. */
function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

async function password(values: { passwordStdin: boolean }, username: string, hub: string, io: Io): Promise<string> {
  if (values.passwordStdin || !io.stdin.isTTY) {
    const piped = firstLine(await io.stdin.readAll());
    if (piped === '') throw new UsageError('no password on stdin');
    return piped;
  }
  const typed = await io.stdin.ask(`Password for ${username} at ${hub}: `, { echo: false });
  if (typed === '') throw new CliError(CliErrorCodes.FAILED, 'no password given', ExitCodes.FAILURE);
  return typed;
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(loginOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return ExitCodes.OK;
  }
  if (values.token !== undefined && (values.username !== undefined || values.passwordStdin))
    throw new UsageError('--token stores an API token: it takes no --username or --password-stdin');
  const store = credentialStore(io.env);
  if (!store)
    throw new CliError(
      CliErrorCodes.FAILED,
      'no place for credentials: set FLOTILLA_CONFIG_DIR, XDG_CONFIG_HOME or HOME',
      ExitCodes.FAILURE,
    );
  const before = readOrEmpty(store);
  const hub = values.hub ?? before.file.current ?? DEFAULT_HUB_URL;

  let login: StoredLogin;
  let role: string;
  if (values.token !== undefined) {
    const client = new FlotillaClient({ baseUrl: hub, token: values.token });
    let me;
    try {
      me = await client.me();
    } catch (err) {
      if (err instanceof FlotillaApiError && err.status === 401)
        throw new CliError(CliErrorCodes.FAILED, `the hub refused the token: ${err.message}`, ExitCodes.FAILURE, {
          cause: err,
        });
      throw requestFailure(err);
    }
    login = { kind: 'token', username: me.user.username, token: values.token };
    role = me.role;
  } else {
    let username = values.username;
    if (username === undefined) {
      if (values.passwordStdin || !io.stdin.isTTY)
        throw new UsageError('--username is needed when the password comes from stdin');
      username = (await io.stdin.ask('Username: ', { echo: true })).trim();
      if (username === '') throw new CliError(CliErrorCodes.FAILED, 'no username given', ExitCodes.FAILURE);
    }
    const secret = await password(values, username, hub, io);
    let result;
    try {
      result = await new FlotillaClient({ baseUrl: hub }).login(username, secret);
    } catch (err) {
      throw requestFailure(err);
    }
    login = {
      kind: 'session',
      username: result.user.username,
      accessToken: result.token,
      refreshToken: result.refreshToken,
      expiresAt: io.clock.now() + result.expiresIn * 1000,
    };
    role = result.user.role;
  }

  const key = normalizeHubUrl(hub);
  const replaced = await store.locked(async () => {
    const { file } = readOrEmpty(store);
    const previous = file.hubs[key];
    file.hubs[key] = login;
    file.current = key;
    store.write(file);
    return previous;
  }, sleep);
  // The session this login replaces is of no use to anyone any more: end it on the hub too.
  if (replaced?.kind === 'session') {
    await new FlotillaClient({ baseUrl: hub, token: replaced.accessToken })
      .logout(replaced.refreshToken)
      .catch(() => {});
  }
  if (before.problem)
    io.stderr.write(`flotilla login: replaced ${store.path}, which was not a valid credentials file\n`);
  const how = login.kind === 'token' ? 'with an API token' : 'with a password';
  io.stdout.write(`Logged in to ${key} as ${login.username} (${role}) ${how}; saved in ${store.path}\n`);
  return ExitCodes.OK;
}

export const loginCommand: Command = { name: 'login', summary: 'Log in to a hub and keep the session', run };
