/**
 * Errors the registry raises on purpose. Codes are stable: the HTTP layer maps them onto its
 * catalogue (`device_not_found` → 404, `bad_request` → 400) and docs/registry.md lists them.
 * Device trouble (offline, timed out) is state, never one of these.
 */
export const RegistryErrorCodes = {
  DEVICE_NOT_FOUND: 'device_not_found',
  /** An update would leave a device with more labels than the schema allows. */
  BAD_REQUEST: 'bad_request',
} as const;
export type RegistryErrorCode = (typeof RegistryErrorCodes)[keyof typeof RegistryErrorCodes];

export class RegistryError extends Error {
  override readonly name: string = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    /** The HTTP status this error answers with, for callers that speak HTTP. */
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class DeviceNotFoundError extends RegistryError {
  override readonly name = 'DeviceNotFoundError';
  constructor(readonly deviceId: string) {
    super(RegistryErrorCodes.DEVICE_NOT_FOUND, 404, `no device ${deviceId}`);
  }
}

export class LabelLimitError extends RegistryError {
  override readonly name = 'LabelLimitError';
  constructor(
    readonly deviceId: string,
    readonly limit: number,
  ) {
    super(RegistryErrorCodes.BAD_REQUEST, 400, `device ${deviceId} would have more than ${limit} labels`);
  }
}
