import { Type } from '@sinclair/typebox';

/**
 * A device id is one subject token: it must not contain the subject separator `.`, the
 * wildcards `*` and `>`, the MQTT separators `/`, `+`, `#`, or whitespace. Letters, digits,
 * `-` and `_`, starting with a letter or digit, at most 128 characters.
 */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$';
const deviceIdRe = new RegExp(DEVICE_ID_PATTERN);

export const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN, description: 'Device id' });

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && deviceIdRe.test(value);
}

/** Label keys follow Kubernetes' shape: an optional DNS prefix and a name. */
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';

export const Labels = Type.Record(
  Type.String({ pattern: LABEL_KEY_PATTERN, maxLength: 253 }),
  Type.String({ pattern: LABEL_VALUE_PATTERN, maxLength: 63 }),
  { description: 'Key/value labels used by selectors', additionalProperties: false, maxProperties: 64 },
);
