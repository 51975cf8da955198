import { Type, type Static } from '@sinclair/typebox';

/**
 * Frames on `/ws/client` (consoles, tools). Clients subscribe to subject patterns; the hub
 * pushes every matching message as `{type:"message", subject, data}`.
 */
export const Throttle = Type.Object(
  {
    /** Most messages per second per subject. */
    rate: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
    strategy: Type.Union([Type.Literal('sample'), Type.Literal('latest'), Type.Literal('aggregate')]),
  },
  { additionalProperties: false },
);
export type Throttle = Static<typeof Throttle>;

export const SubscribeFrame = Type.Object(
  {
    type: Type.Literal('subscribe'),
    /** Client-chosen id echoed in the reply. */
    id: Type.Optional(Type.String({ maxLength: 128 })),
    subjects: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 256 }),
    throttle: Type.Optional(Throttle),
  },
  { additionalProperties: false },
);

export const UnsubscribeFrame = Type.Object(
  {
    type: Type.Literal('unsubscribe'),
    id: Type.Optional(Type.String({ maxLength: 128 })),
    subjects: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 256 }),
  },
  { additionalProperties: false },
);

export const PingFrame = Type.Object(
  { type: Type.Literal('ping'), id: Type.Optional(Type.String({ maxLength: 128 })) },
  { additionalProperties: false },
);

export const ClientFrame = Type.Union([SubscribeFrame, UnsubscribeFrame, PingFrame]);
export type SubscribeFrame = Static<typeof SubscribeFrame>;
export type UnsubscribeFrame = Static<typeof UnsubscribeFrame>;
export type ClientFrame = Static<typeof ClientFrame>;

/** Frames the hub sends to a client. */
export type ServerFrame =
  | { type: 'subscribed'; id?: string; subjects: string[] }
  | { type: 'unsubscribed'; id?: string; subjects: string[] }
  | { type: 'pong'; id?: string }
  | { type: 'message'; subject: string; data: unknown }
  | { type: 'error'; id?: string; error: { code: string; message: string } };
