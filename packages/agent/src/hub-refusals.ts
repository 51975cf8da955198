import { ErrorCodes } from '@flotilla/protocol';

/** Default wait after the hub refused our token (see AgentOptions.authRetryMs). */
export const DEFAULT_AUTH_RETRY_MS = 300_000;

/** Hub refusals of the device's identity: retrying at once cannot succeed. */
export const REFUSALS: ReadonlySet<string> = new Set([
  ErrorCodes.UNAUTHORIZED,
  ErrorCodes.CREDENTIAL_REVOKED,
  ErrorCodes.ENROLLMENT_EXPIRED,
  ErrorCodes.ENROLLMENT_EXHAUSTED,
  ErrorCodes.CERTIFICATE_REQUIRED,
  ErrorCodes.INVALID_CSR,
]);

/** Refusals of the client certificate the agent can fix itself: it drops the certificate and asks for a new one. */
export const CERTIFICATE_REFUSALS: ReadonlySet<string> = new Set([
  ErrorCodes.CERTIFICATE_MISMATCH,
  ErrorCodes.CERTIFICATE_REVOKED,
]);

/** What an operator should do about each refusal, for the log line. */
export const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  [ErrorCodes.UNAUTHORIZED]: 'start the agent with a valid enrollment token (--token fle_…)',
  [ErrorCodes.CREDENTIAL_REVOKED]:
    'an administrator revoked this device; remove "credential" from identity.json and enroll again with a new token',
  [ErrorCodes.ENROLLMENT_EXPIRED]: 'the enrollment token has expired; ask for a new one',
  [ErrorCodes.ENROLLMENT_EXHAUSTED]: 'the enrollment token has no uses left; ask for a new one',
  [ErrorCodes.CERTIFICATE_REQUIRED]:
    'the hub requires a client certificate and this device has none: revoke its credential and enroll it again over wss://',
  [ErrorCodes.INVALID_CSR]: 'the hub could not use the certificate request; this is a bug, please report it',
};
