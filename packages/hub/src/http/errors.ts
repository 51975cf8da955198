/**
 * The hub's error catalogue. Every error a client can see carries one of these stable codes,
 * in HTTP bodies (`{"error":{"code","message"}}`), in `/ws/client` error frames and in metrics
 * labels, so a code never changes meaning once published. docs/api.md lists each one; a test
 * (errors.test.ts) fails when a code is added here without being documented there.
 */

export interface ApiErrorSpec {
  readonly code: string;
  readonly statusCode: number;
  /** Default message when the thrower has nothing more specific to say. */
  readonly message: string;
}

function spec(code: string, statusCode: number, message: string): ApiErrorSpec {
  return { code, statusCode, message };
}

export const ApiErrors = {
  BAD_REQUEST: spec('bad_request', 400, 'the request is malformed'),
  BAD_CURSOR: spec('bad_cursor', 400, 'the cursor is malformed or belongs to another listing'),
  BAD_SELECTOR: spec('bad_selector', 400, 'the label selector cannot be parsed'),
  TOO_MANY_BUCKETS: spec('too_many_buckets', 400, 'the time range holds more buckets than one answer may hold'),
  MISSING_TOKEN: spec('missing_token', 401, 'this request needs a bearer token'),
  MALFORMED_TOKEN: spec('malformed_token', 401, 'the Authorization header is not a bearer token the hub can read'),
  INVALID_TOKEN: spec('invalid_token', 401, 'the token is not valid (unknown, tampered with or signed by another key)'),
  EXPIRED_TOKEN: spec('expired_token', 401, 'the token has expired'),
  REVOKED_TOKEN: spec('revoked_token', 401, 'the token has been revoked'),
  INVALID_CREDENTIALS: spec('invalid_credentials', 401, 'wrong username or password'),
  FORBIDDEN: spec('forbidden', 403, 'your role does not allow this'),
  NOT_FOUND: spec('not_found', 404, 'no such route'),
  USER_NOT_FOUND: spec('user_not_found', 404, 'no such user'),
  TOKEN_NOT_FOUND: spec('token_not_found', 404, 'no such API token'),
  USERNAME_TAKEN: spec('username_taken', 409, 'a user with this username exists'),
  DEVICE_NOT_FOUND: spec('device_not_found', 404, 'no such device'),
  COMMAND_NOT_FOUND: spec('command_not_found', 404, 'no such command'),
  COMMAND_NOT_RUNNING: spec('command_not_running', 409, 'the command is not running'),
  COMMAND_EXISTS: spec('command_exists', 409, 'a command with this id exists'),
  DEVICE_OFFLINE: spec('device_offline', 409, 'the device is offline'),
  UNKNOWN_CAPABILITY: spec('unknown_capability', 400, 'no such HAL capability'),
  UNKNOWN_COMMAND: spec('unknown_command', 400, 'the capability has no such command'),
  BAD_ARGS: spec('bad_args', 400, 'the arguments do not fit the command'),
  CAPABILITY_NOT_DECLARED: spec('capability_not_declared', 422, 'the device did not declare this capability'),
  SCHEMA_NOT_FOUND: spec('schema_not_found', 404, 'no such HAL capability'),
  ENROLLMENT_TOKEN_NOT_FOUND: spec(
    'enrollment_token_not_found',
    404,
    'no such enrollment token, or it is revoked already',
  ),
  CREDENTIAL_NOT_FOUND: spec('credential_not_found', 404, 'the device has no live credential'),
  TLS_DISABLED: spec('tls_disabled', 404, 'this hub does not serve TLS (start it with --tls)'),
  TLS_CA_UNAVAILABLE: spec(
    'tls_ca_unavailable',
    404,
    'the hub serves a certificate from files without --tls-ca: clients trust it through their system store',
  ),
  REPORT_NOT_FOUND: spec('report_not_found', 404, 'no such report'),
  REPORT_NOT_READY: spec('report_not_ready', 409, 'the report is still being generated, or its generation failed'),
  REPORT_QUEUE_FULL: spec('report_queue_full', 429, 'too many reports are waiting to be generated; retry later'),
  INVALID_ALERT_RULE: spec('invalid_alert_rule', 400, 'the alert rule is not valid'),
  ALERT_RULE_NOT_FOUND: spec('alert_rule_not_found', 404, 'no such alert rule'),
  ALERT_RULE_EXISTS: spec('alert_rule_exists', 409, 'an alert rule with this name exists'),
  TOO_MANY_ALERT_RULES: spec('too_many_alert_rules', 409, 'the hub holds as many alert rules as it allows'),
  ALERT_NOT_FOUND: spec('alert_not_found', 404, 'no such alert'),
  ALERT_RESOLVED: spec('alert_resolved', 409, 'the alert is resolved already'),
  LEADER_UNAVAILABLE: spec('leader_unavailable', 503, 'the hub that evaluates alerts did not answer in time; retry'),
  PAYLOAD_TOO_LARGE: spec('payload_too_large', 413, 'the request body is larger than the hub accepts'),
  UNSUPPORTED_MEDIA_TYPE: spec('unsupported_media_type', 415, 'the request body has an unsupported content type'),
  TOO_MANY_ATTEMPTS: spec('too_many_attempts', 429, 'too many failed logins; retry after the lockout'),
  RATE_LIMITED: spec('rate_limited', 429, 'too many requests with this token; slow down'),
  INTERNAL: spec('internal', 500, 'internal error'),
  STORAGE_UNAVAILABLE: spec('storage_unavailable', 503, 'storage is unreachable'),
  SHUTTING_DOWN: spec('shutting_down', 503, 'the hub is shutting down'),
} as const satisfies Record<string, ApiErrorSpec>;

export type ApiErrorCode = (typeof ApiErrors)[keyof typeof ApiErrors]['code'];

const byCode = new Map<string, ApiErrorSpec>(Object.values(ApiErrors).map((s) => [s.code, s]));

/** The catalogue entry for a code, when the code is one of ours. */
export function apiErrorSpec(code: unknown): ApiErrorSpec | undefined {
  return typeof code === 'string' ? byCode.get(code) : undefined;
}

/** An error a route throws on purpose; the error handler turns it into the JSON error body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly statusCode: number;

  constructor(spec: (typeof ApiErrors)[keyof typeof ApiErrors], message?: string, options?: { cause?: unknown }) {
    super(message ?? spec.message, options);
    this.code = spec.code;
    this.statusCode = spec.statusCode;
  }
}

/**
 * Codes of `error` frames on `/ws/client` that are the hub's own (the frame-level ones, such as
 * `bad_json` and `bad_frame`, come from the protocol's ErrorCodes and are documented with it).
 */
export const ClientWsErrors = {
  TOO_MANY_SUBSCRIPTIONS: 'too_many_subscriptions',
  SLOW_CONSUMER: 'slow_consumer',
  FORBIDDEN: 'forbidden',
  /** The token the connection was opened with was revoked, or its user changed: the hub closes it (4401). */
  REVOKED_TOKEN: 'revoked_token',
} as const;

/**
 * Why a hub could not start. Each has one stable code and a one-line message meant to be printed
 * as is (`flotilla hub` shows it without a stack trace).
 */
export const HubStartErrorCodes = {
  BAD_CONFIG: 'bad_config',
  DATA_DIR_LOCKED: 'data_dir_locked',
  DATA_DIR_UNWRITABLE: 'data_dir_unwritable',
  DATABASE_UNREACHABLE: 'database_unreachable',
  STORAGE_FAILED: 'storage_failed',
  PORT_IN_USE: 'port_in_use',
  LISTEN_FAILED: 'listen_failed',
  TLS_INVALID: 'tls_invalid',
  MQTT_UNREACHABLE: 'mqtt_unreachable',
  NATS_UNREACHABLE: 'nats_unreachable',
} as const;
export type HubStartErrorCode = (typeof HubStartErrorCodes)[keyof typeof HubStartErrorCodes];

export class HubStartError extends Error {
  override readonly name = 'HubStartError';
  constructor(
    readonly code: HubStartErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
