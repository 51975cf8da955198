import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { decodeAlertCursor, encodeAlertCursor } from '../http/cursor.js';
import { ApiError, ApiErrors } from '../http/errors.js';
import { eventMetadata } from '../http/request-context.js';
import { ErrorRef, commonErrorResponses } from '../http/schemas.js';
import { parseTime } from '../http/time.js';
import { ALERT_STATUSES, type AlertStatus } from '../storage/alerts.js';
import { RuleProblem, SEVERITIES, validateDefinition } from './definition.js';
import {
  AlertDetail,
  AlertList,
  AlertListQuery,
  AlertView,
  IdParams,
  RuleBody,
  RulePatchBody,
  RuleView,
} from './schemas.js';
import type { AlertService } from './service.js';
import { Type } from '@sinclair/typebox';

/** `/api/v1/alert-rules` and `/api/v1/alerts` (docs/alerts.md, docs/api.md). */
export function registerAlertRoutes(app: FastifyInstance, deps: { alerts: AlertService }): void {
  registerRuleRoutes(app, deps.alerts);
  registerAlertListRoutes(app, deps.alerts);
}

/**
 * A rule body the schema refused: the rule validator's message when it finds the problem (it
 * names the path: `condition.or[1].op: …`), else the schema's. Either way `invalid_alert_rule`.
 */
function refuseRule(request: FastifyRequest, partial: boolean): void {
  const error = request.validationError;
  if (!error) return;
  if (!partial) {
    try {
      validateDefinition(request.body);
    } catch (err) {
      if (err instanceof RuleProblem) throw new ApiError(ApiErrors.INVALID_ALERT_RULE, err.message);
    }
  }
  throw new ApiError(ApiErrors.INVALID_ALERT_RULE, error.message);
}

function registerRuleRoutes(app: FastifyInstance, alerts: AlertService): void {
  const rules = alerts.rules;
  app.get(
    '/api/v1/alert-rules',
    {
      config: { permission: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'Every alert rule, by name',
        response: { 200: Type.Object({ items: Type.Array(RuleView) }), ...commonErrorResponses },
      },
    },
    async () => ({ items: rules.list() }),
  );

  app.post<{ Body: Static<typeof RuleBody> }>(
    '/api/v1/alert-rules',
    {
      config: { permission: 'alerts:configure' },
      attachValidation: true,
      schema: {
        tags: ['alerts'],
        summary: 'Create an alert rule',
        body: RuleBody,
        response: { 201: RuleView, 409: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      refuseRule(request, false);
      return reply.code(201).send(await rules.create(request.body, eventMetadata(request)));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/alert-rules/:id',
    {
      config: { permission: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'One alert rule',
        params: IdParams,
        response: { 200: RuleView, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => rules.get(request.params.id),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof RulePatchBody> }>(
    '/api/v1/alert-rules/:id',
    {
      config: { permission: 'alerts:configure' },
      attachValidation: true,
      schema: {
        tags: ['alerts'],
        summary:
          'Change an alert rule (a new condition, selector or severity resolves its open alerts as rule_changed)',
        params: IdParams,
        body: RulePatchBody,
        response: { 200: RuleView, 404: ErrorRef, 409: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      refuseRule(request, true);
      return rules.update(request.params.id, request.body, eventMetadata(request));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/alert-rules/:id',
    {
      config: { permission: 'alerts:configure' },
      schema: {
        tags: ['alerts'],
        summary: 'Delete an alert rule (its open alerts resolve as rule_deleted)',
        params: IdParams,
        response: { 204: Type.Null(), 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      await rules.delete(request.params.id, eventMetadata(request));
      return reply.code(204).send();
    },
  );
}

/** Comma-separated or repeated values, each one of `allowed`. */
function oneOf<T extends string>(
  name: string,
  values: readonly string[] | undefined,
  allowed: readonly T[],
): T[] | undefined {
  if (!values) return undefined;
  const out = new Set<T>();
  for (const value of values.flatMap((v) => v.split(','))) {
    const t = value.trim();
    if (t === '') continue;
    if (!(allowed as readonly string[]).includes(t))
      throw new ApiError(
        ApiErrors.BAD_REQUEST,
        `querystring/${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(t)}`,
      );
    out.add(t as T);
  }
  return out.size > 0 ? [...out] : undefined;
}

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTime(value);
  if (ms === undefined)
    throw new ApiError(
      ApiErrors.BAD_REQUEST,
      `querystring/${name} must be an ISO 8601 date-time or milliseconds since the epoch`,
    );
  return ms;
}

function registerAlertListRoutes(app: FastifyInstance, alerts: AlertService): void {
  app.get<{ Querystring: Static<typeof AlertListQuery> }>(
    '/api/v1/alerts',
    {
      config: { permission: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first, filtered by status, device, severity, rule and time',
        querystring: AlertListQuery,
        response: { 200: AlertList, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const limit = query.limit ?? 100;
      const statuses = oneOf<AlertStatus>('status', query.status, ALERT_STATUSES);
      const severities = oneOf('severity', query.severity, SEVERITIES);
      const from = time('from', query.from);
      const to = time('to', query.to);
      const items = await alerts.list({
        ...(statuses && { statuses }),
        ...(severities && { severities }),
        ...(query.device !== undefined && { device: query.device }),
        ...(query.rule !== undefined && { rule: query.rule }),
        ...(from !== undefined && { from }),
        ...(to !== undefined && { to }),
        ...(query.cursor !== undefined && { before: decodeAlertCursor(query.cursor) }),
        // One more than asked tells whether another page exists without a second query.
        limit: limit + 1,
      });
      const more = items.length > limit;
      const page = more ? items.slice(0, limit) : items;
      const last = page[page.length - 1];
      return { items: page, nextCursor: more && last ? encodeAlertCursor(last) : null };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/alerts/:id',
    {
      config: { permission: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its history (events) and webhook deliveries',
        params: IdParams,
        response: { 200: AlertDetail, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => alerts.get(request.params.id),
  );

  for (const [action, summary] of [
    ['ack', 'Acknowledge a firing alert (acknowledging twice changes nothing)'],
    ['resolve', 'Resolve an alert by hand; it fires again only after its condition clears'],
  ] as const) {
    app.post<{ Params: Static<typeof IdParams> }>(
      `/api/v1/alerts/:id/${action}`,
      {
        config: { permission: 'alerts:ack' },
        schema: {
          tags: ['alerts'],
          summary,
          params: IdParams,
          response: { 200: AlertView, 404: ErrorRef, 409: ErrorRef, ...commonErrorResponses },
        },
      },
      async (request) => {
        const metadata = eventMetadata(request);
        return action === 'ack'
          ? alerts.acknowledge(request.params.id, metadata)
          : alerts.resolve(request.params.id, metadata);
      },
    );
  }
}
