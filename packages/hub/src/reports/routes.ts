import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { eventMetadata } from '../http/request-context.js';
import { ErrorRef, commonErrorResponses } from '../http/schemas.js';
import { CreateReportBody, ReportView } from './schema.js';
import type { ReportService, StoredReport } from './service.js';

const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, description: 'Report id' }) },
  { additionalProperties: false },
);
/** Longest a GET may wait for a pending report, so no proxy times the request out. */
export const MAX_WAIT_SECONDS = 60;
const GetQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_SECONDS,
        description: 'Seconds to wait for a pending report to be generated before answering (long poll)',
      }),
    ),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
const ListView = Type.Object(
  {
    items: Type.Array(Type.Omit(ReportView, ['statistics']), {
      description: 'Newest first, without statistics (GET /reports/{id} has them)',
    }),
  },
  { additionalProperties: false },
);

/**
 * A report document's own policy: inline styles and SVG only, nothing fetched, no script. Its
 * text comes from devices (ids, names), so a browser must not run anything that slipped through.
 */
const HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function reportPath(id: string): string {
  return `/api/v1/reports/${encodeURIComponent(id)}`;
}

function view(row: StoredReport, withStatistics: boolean): Static<typeof ReportView> {
  const { request } = row;
  const self = reportPath(row.id);
  return {
    id: row.id,
    scope: row.scope,
    device: request.device,
    selector: request.selector,
    from: row.from,
    to: row.to,
    metrics: request.metrics,
    thresholds: request.thresholds,
    status: row.status,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    summary: row.summary,
    ...(withStatistics && { statistics: row.statistics }),
    links: { self, html: `${self}/html`, pdf: `${self}/pdf` },
  };
}

/** `report-2024-05-01-fleet-<id8>.pdf`: a name that sorts by date and says what it is. */
function fileName(row: StoredReport, extension: string): string {
  const date = new Date(row.from).toISOString().slice(0, 10);
  return `report-${date}-${row.scope}-${row.id.slice(0, 8)}.${extension}`;
}

/** Reports over REST. docs/reports.md. */
export function registerReportRoutes(app: FastifyInstance, deps: { reports: ReportService }): void {
  const { reports } = deps;

  app.post<{ Body: Static<typeof CreateReportBody> }>(
    '/api/v1/reports',
    {
      config: { permission: 'reports:write' },
      schema: {
        tags: ['reports'],
        summary: 'Request a report over a time range (202: generated in the background; poll GET /reports/{id})',
        body: CreateReportBody,
        response: { 202: Type.Omit(ReportView, ['statistics']), 404: ErrorRef, 429: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const row = await reports.create(request.body, eventMetadata(request));
      return reply.code(202).header('location', reportPath(row.id)).send(view(row, false));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/reports',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['reports'],
        summary: 'Reports, newest first',
        querystring: ListQuery,
        response: { 200: ListView, ...commonErrorResponses },
      },
    },
    async (request) => ({ items: (await reports.list(request.query.limit ?? 100)).map((row) => view(row, false)) }),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof GetQuery> }>(
    '/api/v1/reports/:id',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['reports'],
        summary: 'One report: its status, summary and statistics (JSON); `wait` long-polls a pending one',
        params: IdParams,
        querystring: GetQuery,
        response: { 200: ReportView, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => view(await reports.get(request.params.id, (request.query.wait ?? 0) * 1000), true),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/reports/:id/html',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['reports'],
        summary: 'The report as one self-contained HTML page (inline CSS and SVG charts)',
        params: IdParams,
        produces: ['text/html'],
        response: { 200: Type.String({ description: 'HTML' }), 404: ErrorRef, 409: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const { row, body } = await reports.html(request.params.id);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', HTML_POLICY)
        .header('content-disposition', `inline; filename="${fileName(row, 'html')}"`)
        .send(body);
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/reports/:id/pdf',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['reports'],
        summary: 'The report as a PDF, with the same text and charts (vector) as the HTML',
        params: IdParams,
        produces: ['application/pdf'],
        response: {
          200: Type.String({ description: 'PDF', format: 'binary' }),
          404: ErrorRef,
          409: ErrorRef,
          ...commonErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const { row, body } = await reports.pdf(request.params.id);
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${fileName(row, 'pdf')}"`)
        .send(body);
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/reports/:id',
    {
      config: { permission: 'reports:delete' },
      schema: {
        tags: ['reports'],
        summary: 'Delete a report (admins)',
        params: IdParams,
        response: { 204: Type.Null(), 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      await reports.delete(request.params.id, eventMetadata(request));
      return reply.code(204).send();
    },
  );
}
