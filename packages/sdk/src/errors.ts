/**
 * Errors the SDK raises, each with a stable `code` (listed in the package README). Codes that
 * come from the hub (`FlotillaApiError.code`, e.g. `device_not_found`) are the hub's own; the
 * ones below are the SDK's.
 */
export const SdkErrorCodes = {
  /** The hub could not be reached: DNS failure, connection refused or reset, TLS failure. */
  HUB_UNREACHABLE: 'hub_unreachable',
  /** The hub answered with an error status but not the documented `{"error":{code,message}}` body. */
  HTTP_ERROR: 'http_error',
  /** A successful response whose body is not the JSON the contract promises. */
  BAD_RESPONSE: 'bad_response',
  /** A subject pattern passed to `subscribe` is malformed. */
  BAD_SUBJECT: 'bad_subject',
  /** The live client was closed; it takes no more subscriptions. */
  CLIENT_CLOSED: 'client_closed',
  /** A subscription's handler threw; the error is reported as a live event, delivery goes on. */
  HANDLER_FAILED: 'handler_failed',
} as const;
export type SdkErrorCode = (typeof SdkErrorCodes)[keyof typeof SdkErrorCodes];

/** Base class of every SDK error: `code` is stable, `message` is for people. */
export class FlotillaError extends Error {
  override readonly name: string = 'FlotillaError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The hub answered with a 4xx/5xx. `code` is the hub's error code (`device_not_found`, ...). */
export class FlotillaApiError extends FlotillaError {
  override readonly name = 'FlotillaApiError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The request never got an answer: the hub is down, unknown or unreachable from here. */
export class FlotillaConnectionError extends FlotillaError {
  override readonly name = 'FlotillaConnectionError';
  constructor(
    /** The URL that could not be reached. */
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const reason = connectionReason(options?.cause);
    super(SdkErrorCodes.HUB_UNREACHABLE, `cannot reach the hub at ${url}${reason ? ` (${reason})` : ''}`, options);
  }
}

/**
 * The most telling part of a fetch failure. Node's fetch throws `TypeError: fetch failed` with the
 * system error (`ECONNREFUSED`, `ENOTFOUND`) as its cause; browsers give only the TypeError.
 */
function connectionReason(cause: unknown): string {
  let err = cause;
  for (let depth = 0; depth < 4 && err instanceof Error; depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    err = err.cause;
  }
  return cause instanceof Error && cause.message !== 'fetch failed' ? cause.message : '';
}
