/**
 * Stable error codes shared by every Flotilla transport. They appear in `error` frames, in
 * HTTP error bodies (`{"error":{"code","message"}}`) and in metrics labels, so they never change
 * meaning once published. docs/protocol.md lists them.
 */
export const ErrorCodes = {
  /** The frame is not valid UTF-8 JSON. */
  BAD_JSON: 'bad_json',
  /** The frame is JSON but does not match the envelope or its payload schema. */
  BAD_FRAME: 'bad_frame',
  /** The envelope's `type` is not a message type this hub knows. */
  UNKNOWN_TYPE: 'unknown_type',
  /** The frame is larger than the transport accepts. */
  FRAME_TOO_LARGE: 'frame_too_large',
  /** The envelope's protocol version is not supported. */
  UNSUPPORTED_VERSION: 'unsupported_version',
  /** A frame other than `hello` arrived before the session was established. */
  NOT_REGISTERED: 'not_registered',
  /** The envelope names a device other than the one this connection speaks for. */
  DEVICE_MISMATCH: 'device_mismatch',
  /** A message type that is valid on the protocol but not in this direction. */
  WRONG_DIRECTION: 'wrong_direction',
  /** A subject or subject pattern is malformed. */
  BAD_SUBJECT: 'bad_subject',
  /** Another connection for the same device took over this session. */
  REPLACED: 'replaced',
  /** No token, or one that is neither this device's credential nor a usable enrollment token. */
  UNAUTHORIZED: 'unauthorized',
  /** The enrollment token presented has expired. */
  ENROLLMENT_EXPIRED: 'enrollment_expired',
  /** The enrollment token presented has no uses left. */
  ENROLLMENT_EXHAUSTED: 'enrollment_exhausted',
  /** The device's credential was revoked: it is refused until enrolled again. */
  CREDENTIAL_REVOKED: 'credential_revoked',
  /** The device sent more messages per second than the hub allows: this frame was refused, not processed. */
  RATE_LIMITED: 'rate_limited',
  /** The `csr` in `hello` is not a PKCS#10 request with a valid signature. */
  INVALID_CSR: 'invalid_csr',
  /** The client certificate presented over TLS was issued to another device id. */
  CERTIFICATE_MISMATCH: 'certificate_mismatch',
  /** The client certificate is not one the hub issued for the device's current credential (revoked, or replaced). */
  CERTIFICATE_REVOKED: 'certificate_revoked',
  /** The hub requires enrolled devices to present their client certificate, and none (valid) was presented. */
  CERTIFICATE_REQUIRED: 'certificate_required',
  /** An MQTT publish or subscription outside the device's own topics (docs/mqtt.md). */
  FORBIDDEN_TOPIC: 'forbidden_topic',
  /** A log line the hub did not store: too large, timestamp out of range, or the log queue is full (the message says which). */
  LOG_REFUSED: 'log_refused',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** An error with a stable code, raised by the protocol helpers (never for expected trouble). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
