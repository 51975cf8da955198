import { FlotillaApiError, FlotillaClient, FlotillaConnectionError } from '@flotilla/sdk';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from './errors.js';
import { option } from './options.js';
import * as v from './values.js';

export const DEFAULT_HUB_URL = 'http://localhost:8080';

/** The options every command that talks to a running hub takes. */
export const hubClientOptions = {
  hub: option((raw, source) => v.url(raw, source, ['http:', 'https:']), {
    valueName: 'URL',
    env: ['FLOTILLA_HUB'],
    default: DEFAULT_HUB_URL,
    description: 'hub to talk to',
  }),
  token: option(v.nonEmpty, {
    valueName: 'TOKEN',
    env: ['FLOTILLA_TOKEN'],
    description: 'API token, sent as a Bearer token',
  }),
};

export function hubClient(values: { hub: string; token: string | undefined }): FlotillaClient {
  return new FlotillaClient(values.token ? { baseUrl: values.hub, token: values.token } : { baseUrl: values.hub });
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
    const hint = err.status === 401 || err.status === 403 ? ' (set --token or FLOTILLA_TOKEN)' : '';
    return new CliError(CliErrorCodes.FAILED, `${err.message}${hint}`, ExitCodes.FAILURE, { cause: err });
  }
  return err;
}
