import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, Device, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, StoredEvent } from '@flotilla/protocol';

/**
 * Schemas shared by several routes. `Device`, `Event` and `Error` are added to the app once
 * (`app.addSchema`) and referenced by id, so OpenAPI shows each as one named component.
 */
export const DeviceRef = Type.Unsafe<Static<typeof Device>>(Type.Ref('Device'));
export const EventRef = Type.Unsafe<Static<typeof StoredEvent>>(Type.Ref('Event'));

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable error code (docs/api.md lists them)' }),
        message: Type.String({ description: 'Human-readable explanation' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'Error', description: 'Every 4xx/5xx response' },
);

export const sharedSchemas = [Device, StoredEvent, ErrorBody] as const;
export const ErrorRef = Type.Unsafe<Static<typeof ErrorBody>>(Type.Ref('Error'));

export const DeviceIdParam = Type.String({ pattern: DEVICE_ID_PATTERN, description: 'Device id' });

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (1..1000)' });
export const Cursor = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'Opaque cursor from the previous page’s `nextCursor`',
});

/** A label change: a string sets the label, `null` removes it. */
export const LabelPatch = Type.Record(
  Type.String({ pattern: LABEL_KEY_PATTERN, maxLength: 253 }),
  Type.Union([Type.String({ pattern: LABEL_VALUE_PATTERN, maxLength: 63 }), Type.Null()]),
  { additionalProperties: false, maxProperties: 64 },
);

/** Responses every route may give, so OpenAPI documents the error body once per status. */
export const commonErrorResponses = {
  400: ErrorRef,
  500: ErrorRef,
  503: ErrorRef,
} as const;
