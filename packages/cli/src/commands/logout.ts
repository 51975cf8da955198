import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_HUB_URL, HubConnection, LoginExpiredError, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { CredentialsError, credentialStore, normalizeHubUrl } from '../credentials.js';
import { ExitCodes } from '../errors.js';
import type { Io } from '../io.js';
import { parseOptions } from '../options.js';

export const logoutOptions = { hub: hubClientOptions.hub };

const help = helpText({
  usage: 'flotilla logout [--hub URL]',
  description:
    'Ends the session flotilla login stored for a hub (by default the hub of the latest login): the hub revokes its access and refresh tokens, and the stored credentials are deleted. When the hub cannot be reached they are deleted all the same, and logout says that the session stays valid on the hub until it expires. A stored API token is forgotten here only; revoke it on the hub (/api/v1/tokens).',
  options: logoutOptions,
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(logoutOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return ExitCodes.OK;
  }
  const store = credentialStore(io.env);
  let file;
  try {
    file = store?.read();
  } catch (err) {
    if (!(err instanceof CredentialsError) || !store) throw err;
    // Nothing in it can be used to revoke anything; removing it is all logout can do.
    store.remove();
    io.stderr.write(
      `flotilla logout: deleted ${store.path}, which was not a valid credentials file (nothing was revoked on the hub)\n`,
    );
    return ExitCodes.OK;
  }
  const hub = values.hub ?? file?.current ?? DEFAULT_HUB_URL;
  const key = normalizeHubUrl(hub);
  const login = file?.hubs[key];
  if (!store || !login) {
    io.stderr.write(`Not logged in to ${key}.\n`);
    return ExitCodes.OK;
  }

  let revoked = '';
  if (login.kind === 'session') {
    const connection = HubConnection.open({ hub, token: undefined }, io);
    try {
      // The connection refreshes an expired access token first: logging out needs a valid one.
      await connection.call((client) => client.logout(connection.refreshToken()));
      revoked = '; the hub revoked the session';
    } catch (err) {
      if (err instanceof LoginExpiredError) revoked = '; the session had already ended on the hub';
      else
        io.stderr.write(
          `flotilla logout: could not revoke the session on the hub (${(err as Error).message}); it stays valid there until it expires\n`,
        );
    }
  } else {
    revoked = '; the API token itself stays valid until revoked on the hub';
  }

  await store.locked(async () => {
    const latest = store.read();
    delete latest.hubs[key];
    if (latest.current === key) latest.current = null;
    store.write(latest);
  }, sleep);
  io.stdout.write(`Logged out of ${key}: deleted its credentials from ${store.path}${revoked}\n`);
  return ExitCodes.OK;
}

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'End the stored session and delete its credentials',
  run,
};
