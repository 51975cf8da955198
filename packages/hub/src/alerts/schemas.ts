import { Type } from '@sinclair/typebox';
import { DeviceIdParam, EventRef, Limit, Cursor } from '../http/schemas.js';
import { ALERT_STATUSES, DELIVERY_STATUSES } from '../storage/alerts.js';
import { LIMITS, SEVERITIES } from './definition.js';

/** Request and response schemas of the alerts API (OpenAPI at /api/docs; docs/alerts.md). */

const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description === undefined ? {} : { description },
  );

export const Severity = literals(SEVERITIES, 'info | warning | critical');

/**
 * The condition tree. Documented here and in docs/alerts.md, and checked by the alerts module's
 * own validator (definition.ts), whose messages name the exact path of a problem.
 */
export const Condition = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      '`{and: [...]}`, `{or: [...]}` or one condition: `{type: "threshold", metric, op, value, for?, clear?}`, ' +
      '`{type: "battery", below, for?, clear?}`, `{type: "offline", for}`, `{type: "no_data", for, metric?}`, ' +
      '`{type: "rate", metric, op, value, per?, window, for?, clear?}`. `op` is one of > >= < <=; durations are ' +
      '`30s`, `5m`, `1h30m` or milliseconds. docs/alerts.md has examples.',
  },
);

const Webhook = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: LIMITS.urlLength, description: 'http or https URL' }),
    secret: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: LIMITS.secretLength,
        description: 'signs deliveries: X-Flotilla-Signature: sha256=HMAC(secret, body)',
      }),
    ),
  },
  { additionalProperties: false },
);

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: LIMITS.nameLength }),
  description: Type.String({ maxLength: LIMITS.descriptionLength }),
  selector: Type.String({
    maxLength: 4096,
    description: 'label selector (`type=lekiwi,site=lab`); empty: every device',
  }),
  severity: Severity,
  enabled: Type.Boolean({ default: true }),
  condition: Condition,
  webhooks: Type.Array(Webhook, { maxItems: LIMITS.webhooks }),
};

export const RuleBody = Type.Object(
  {
    name: ruleFields.name,
    description: Type.Optional(ruleFields.description),
    selector: Type.Optional(ruleFields.selector),
    severity: ruleFields.severity,
    enabled: Type.Optional(ruleFields.enabled),
    condition: ruleFields.condition,
    webhooks: Type.Optional(ruleFields.webhooks),
  },
  { additionalProperties: false },
);

export const RulePatchBody = Type.Object(
  {
    name: Type.Optional(ruleFields.name),
    description: Type.Optional(Type.Union([ruleFields.description, Type.Null()])),
    selector: Type.Optional(Type.Union([ruleFields.selector, Type.Null()])),
    severity: Type.Optional(ruleFields.severity),
    enabled: Type.Optional(ruleFields.enabled),
    condition: Type.Optional(ruleFields.condition),
    webhooks: Type.Optional(ruleFields.webhooks),
  },
  { additionalProperties: false, description: 'Fields to change; null removes description or selector' },
);

export const RuleView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Optional(Type.String()),
    selector: Type.Optional(Type.String()),
    severity: Severity,
    enabled: Type.Boolean(),
    condition: Condition,
    webhooks: Type.Array(
      Type.Object(
        { url: Type.String(), signed: Type.Boolean({ description: 'has a secret (never shown)' }) },
        { additionalProperties: false },
      ),
    ),
    createdBy: Type.String(),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
  },
  { additionalProperties: false },
);

const nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) =>
  Type.Union([t, Type.Null()]);

export const AlertView = Type.Object(
  {
    id: Type.String(),
    rule: Type.String({ description: 'rule id' }),
    ruleName: Type.String(),
    device: Type.String(),
    severity: Severity,
    status: literals(ALERT_STATUSES, 'firing → acknowledged → resolved'),
    summary: Type.String(),
    details: Type.Object({}, { additionalProperties: true, description: 'each condition as it stood at firing' }),
    startedAt: Type.Number(),
    acknowledgedAt: nullable(Type.Number()),
    acknowledgedBy: nullable(Type.String()),
    resolvedAt: nullable(Type.Number()),
    resolvedBy: nullable(Type.String()),
    resolution: nullable(
      Type.String({
        description: 'cleared, manual, rule_changed, rule_disabled, rule_deleted, device_removed, out_of_scope',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DeliveryView = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    event: Type.String(),
    status: literals(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    lastError: nullable(Type.String()),
    lastStatusCode: nullable(Type.Number()),
    createdAt: Type.Number(),
    lastAttemptAt: nullable(Type.Number()),
    nextAttemptAt: nullable(Type.Number()),
    deliveredAt: nullable(Type.Number()),
  },
  { additionalProperties: false },
);

export const AlertDetail = Type.Composite(
  [
    AlertView,
    Type.Object({
      history: Type.Array(EventRef, {
        description: 'AlertFired, AlertAcknowledged, AlertResolved events, oldest first',
      }),
      deliveries: Type.Array(DeliveryView),
    }),
  ],
  { additionalProperties: false },
);

const TIME = 'ISO 8601 date-time or milliseconds since the epoch';

export const AlertListQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 3,
        description: 'firing, acknowledged, resolved; may repeat or be comma-separated (default: all)',
      }),
    ),
    device: Type.Optional(DeviceIdParam),
    severity: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 3, description: 'info, warning, critical' }),
    ),
    rule: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'rule id' })),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `alerts open at or after: ${TIME}` })),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `alerts started before: ${TIME}` })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const AlertList = Type.Object(
  {
    items: Type.Array(AlertView),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last' }),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
