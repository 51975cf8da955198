import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN } from '@flotilla/protocol';

/**
 * The shapes of reports, as JSON Schema (TypeBox): the request body, the statistics a report
 * holds, its summary and the API views. The TypeScript types are derived from these, so the
 * statistics the hub computes, stores and serves are one definition (docs/reports.md).
 */

const Ms = (description: string) => Type.Integer({ description });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Fraction = Nullable(
  Type.Number({ minimum: 0, maximum: 1, description: '0 … 1; null when nothing was measured' }),
);
const Metric = (description: string) => Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$', description });
const TIME = 'ISO 8601 date-time with a zone (`2024-05-01T12:00:00Z`) or milliseconds since the epoch';
const Time = (description: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 64 })], { description });

export const ReportScope = Type.Union([Type.Literal('fleet'), Type.Literal('device')]);

export const ReportMetrics = Type.Object(
  {
    battery: Type.Optional(Metric('Battery charge metric (default `battery.soc`, percent)')),
    temperature: Type.Optional(Metric('Temperature metric (default `system.temperature`, °C)')),
  },
  { additionalProperties: false },
);

export const ReportThresholds = Type.Object(
  {
    batteryBelow: Type.Optional(
      Type.Number({ description: 'Flag devices whose battery went below this (default 20)' }),
    ),
    temperatureAbove: Type.Optional(
      Type.Number({ description: 'Flag devices whose temperature went above this (default 70)' }),
    ),
    offlineAbove: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Flag devices offline more than this fraction of the range (default 0.1)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CreateReportBody = Type.Object(
  {
    scope: ReportScope,
    device: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN, description: 'The device (scope `device`)' })),
    selector: Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'Label selector of the devices (scope `fleet`; absent: every device)',
      }),
    ),
    from: Time(`Start of the range (inclusive): ${TIME}`),
    to: Type.Optional(Time(`End of the range (exclusive): ${TIME}; default and latest: now`)),
    metrics: Type.Optional(ReportMetrics),
    thresholds: Type.Optional(ReportThresholds),
  },
  { additionalProperties: false },
);
export type CreateReportBody = Static<typeof CreateReportBody>;

/** The request as stored with the report, every default applied. */
export const ReportRequest = Type.Object(
  {
    scope: ReportScope,
    device: Nullable(Type.String()),
    selector: Nullable(Type.String()),
    metrics: Type.Object({ battery: Type.String(), temperature: Type.String() }, { additionalProperties: false }),
    thresholds: Type.Object(
      { batteryBelow: Type.Number(), temperatureAbove: Type.Number(), offlineAbove: Type.Number() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ReportRequest = Static<typeof ReportRequest>;

export const DeviceUptime = Type.Object(
  {
    device: Type.String(),
    name: Type.String(),
    onlineMs: Ms('Time online within the measured part of the range'),
    measuredMs: Ms('The range, from the device’s registration when that came later'),
    fraction: Fraction,
    connects: Type.Integer({ description: 'Connections that started in the range' }),
  },
  { additionalProperties: false },
);
export type DeviceUptime = Static<typeof DeviceUptime>;

export const UptimeStats = Type.Object(
  {
    fraction: Fraction,
    onlineMs: Type.Integer(),
    measuredMs: Type.Integer(),
    devices: Type.Array(DeviceUptime, { description: 'Least online first' }),
    offlineWholeRange: Type.Array(Type.String(), { description: 'Devices never online in the range' }),
    overThreshold: Type.Array(Type.String(), { description: 'Devices offline more than `offlineAbove` of the time' }),
  },
  { additionalProperties: false },
);
export type UptimeStats = Static<typeof UptimeStats>;

export const AlertSpan = Type.Object(
  {
    id: Type.String(),
    rule: Type.String(),
    device: Nullable(Type.String()),
    severity: Type.String(),
    firedAt: Type.Integer(),
    resolvedAt: Nullable(Type.Integer()),
    durationMs: Ms('Until resolved, or until the end of the range when still open then'),
  },
  { additionalProperties: false },
);

export const AlertStats = Type.Object(
  {
    available: Type.Boolean({ description: 'False when this hub keeps no alert history' }),
    note: Nullable(Type.String()),
    total: Type.Integer({ description: 'Alerts firing at some time in the range' }),
    open: Type.Integer({ description: 'Still firing at the end of the range' }),
    bySeverity: Type.Record(Type.String(), Type.Integer()),
    longest: Nullable(AlertSpan),
    byDevice: Type.Array(
      Type.Object({ device: Type.String(), count: Type.Integer() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type AlertStats = Static<typeof AlertStats>;

export const MetricDevice = Type.Object(
  { device: Type.String(), min: Type.Number(), avg: Type.Number(), max: Type.Number(), points: Type.Integer() },
  { additionalProperties: false },
);
export type MetricDevice = Static<typeof MetricDevice>;

export const MetricBucket = Type.Object(
  { ts: Type.Integer(), min: Type.Number(), avg: Type.Number(), max: Type.Number() },
  { additionalProperties: false },
);
export type MetricBucket = Static<typeof MetricBucket>;

export const MetricStats = Type.Object(
  {
    metric: Type.String(),
    source: Type.Union([Type.Literal('rollup_1m'), Type.Literal('rollup_1h')]),
    from: Ms('Start of the first rollup bucket read'),
    to: Ms('End of the last rollup bucket read'),
    bucketMs: Ms('Width of a chart bucket in `series`'),
    points: Type.Integer(),
    min: Nullable(Type.Number()),
    avg: Nullable(Type.Number()),
    max: Nullable(Type.Number()),
    threshold: Type.Number(),
    flagged: Type.Array(Type.String(), { description: 'Devices past the threshold at some point' }),
    devices: Type.Array(MetricDevice, { description: 'Devices with points, most extreme first' }),
    series: Type.Array(MetricBucket, { description: 'The fleet per chart bucket' }),
  },
  { additionalProperties: false },
);
export type MetricStats = Static<typeof MetricStats>;

export const DeviceActivity = Type.Object(
  { device: Type.String(), commands: Type.Integer(), telemetryPoints: Type.Integer() },
  { additionalProperties: false },
);
export type DeviceActivity = Static<typeof DeviceActivity>;

export const ActivityStats = Type.Object(
  {
    commands: Type.Object(
      {
        issued: Type.Integer(),
        succeeded: Type.Integer(),
        failed: Type.Integer(),
        timedOut: Type.Integer(),
        cancelled: Type.Integer(),
        open: Type.Integer({ description: 'Still waiting for the device when the report was made' }),
        successRate: Nullable(
          Type.Number({ description: 'succeeded / (succeeded + failed + timed out); null without any' }),
        ),
      },
      { additionalProperties: false },
    ),
    telemetryPoints: Type.Integer(),
    byCommands: Type.Array(DeviceActivity, { description: 'Busiest devices by commands issued' }),
    byTelemetry: Type.Array(DeviceActivity, { description: 'Busiest devices by telemetry points' }),
  },
  { additionalProperties: false },
);
export type ActivityStats = Static<typeof ActivityStats>;

export const ReportStatistics = Type.Object(
  {
    version: Type.Literal(1),
    scope: ReportScope,
    device: Nullable(Type.String()),
    selector: Nullable(Type.String()),
    from: Type.Integer(),
    to: Type.Integer(),
    generatedAt: Type.Integer(),
    thresholds: ReportRequest.properties.thresholds,
    devices: Type.Integer({ description: 'Devices the report covers' }),
    uptime: UptimeStats,
    alerts: AlertStats,
    battery: MetricStats,
    temperature: MetricStats,
    activity: ActivityStats,
  },
  { additionalProperties: false },
);
export type ReportStatistics = Static<typeof ReportStatistics>;

export const ReportSummary = Type.Object(
  {
    text: Type.String(),
    source: Type.Union([Type.Literal('llm'), Type.Literal('deterministic')]),
    model: Nullable(Type.String({ description: 'The model that wrote it (source `llm`)' })),
    note: Nullable(Type.String({ description: 'Why the deterministic summary stands in for the model’s' })),
  },
  { additionalProperties: false },
);
export type ReportSummary = Static<typeof ReportSummary>;

export const ReportStatus = Type.Union([Type.Literal('pending'), Type.Literal('ready'), Type.Literal('failed')], {
  description: 'pending → ready | failed',
});

export const ReportView = Type.Object(
  {
    id: Type.String(),
    scope: ReportScope,
    device: Nullable(Type.String()),
    selector: Nullable(Type.String()),
    from: Type.Integer(),
    to: Type.Integer(),
    metrics: ReportRequest.properties.metrics,
    thresholds: ReportRequest.properties.thresholds,
    status: ReportStatus,
    error: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: Type.Integer(),
    completedAt: Nullable(Type.Integer()),
    summary: Nullable(ReportSummary),
    statistics: Type.Optional(Nullable(ReportStatistics)),
    links: Type.Object(
      { self: Type.String(), html: Type.String(), pdf: Type.String() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ReportView = Static<typeof ReportView>;
