import { metricChart, uptimeChart, type Chart } from './charts.js';
import { count, duration, percent, utc, utcRange, value } from './format.js';
import type { MetricStats, ReportStatistics, ReportSummary } from './schema.js';

/**
 * What a report document says, block by block, before it is HTML or PDF: both renderers
 * (html.ts, pdf.ts) walk these blocks, so the two formats carry the same text, tables and charts.
 */

export type Tone = 'good' | 'warn' | 'bad';

export type Block =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string; muted?: boolean }
  | { kind: 'figures'; items: { label: string; value: string; tone?: Tone }[] }
  | { kind: 'table'; columns: string[]; numeric: boolean[]; rows: string[][] }
  | { kind: 'chart'; chart: Chart };

export interface ReportDocument {
  title: string;
  subtitle: string;
  blocks: Block[];
  footer: string;
}

export interface ReportMeta {
  id: string;
  createdAt: number;
  createdBy: string;
  hubVersion: string;
}

/** Rows in a device table at most; the rest is counted in a line under it. */
export const TABLE_ROWS = 50;

export function reportDocument(meta: ReportMeta, stats: ReportStatistics, summary: ReportSummary): ReportDocument {
  const title = stats.scope === 'device' ? `Device report: ${stats.device ?? ''}` : 'Fleet report';
  const subtitle = [utcRange(stats.from, stats.to), stats.selector ? `selector ${stats.selector}` : undefined]
    .filter((s) => s !== undefined)
    .join(' · ');
  return {
    title,
    subtitle,
    blocks: [
      ...summaryBlocks(summary),
      ...figures(stats),
      ...uptime(stats),
      ...alerts(stats),
      ...metric(stats.battery, 'Battery', 'below'),
      ...metric(stats.temperature, 'Temperature', 'above'),
      ...activity(stats),
    ],
    footer: `Report ${meta.id} · requested by ${meta.createdBy} · generated ${utc(stats.generatedAt)} · Flotilla hub ${meta.hubVersion}`,
  };
}

function summaryBlocks(summary: ReportSummary): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', text: 'Summary' },
    { kind: 'paragraph', text: summary.text },
  ];
  if (summary.source === 'llm') {
    blocks.push({
      kind: 'paragraph',
      text: `Written by the model ${summary.model ?? ''} from the statistics of this report.`,
      muted: true,
    });
  } else if (summary.note) {
    blocks.push({ kind: 'paragraph', text: `Note: ${summary.note}`, muted: true });
  }
  return blocks;
}

function figures(stats: ReportStatistics): Block[] {
  const u = stats.uptime;
  const offline = stats.thresholds.offlineAbove;
  const rate = stats.activity.commands.successRate;
  return [
    { kind: 'heading', text: 'Key figures' },
    {
      kind: 'figures',
      items: [
        { label: 'Devices', value: count(stats.devices) },
        {
          label: 'Uptime',
          value: percent(u.fraction),
          tone: u.fraction === null ? undefined : 1 - u.fraction > offline ? 'warn' : 'good',
        },
        {
          label: `Offline > ${percent(offline)}`,
          value: count(u.overThreshold.length),
          tone: u.overThreshold.length > 0 ? 'warn' : 'good',
        },
        {
          label: 'Alerts',
          value: stats.alerts.available ? count(stats.alerts.total) : 'n/a',
          tone: stats.alerts.available ? (stats.alerts.total > 0 ? 'warn' : 'good') : undefined,
        },
        {
          label: 'Lowest battery',
          value: value(stats.battery.min),
          tone: stats.battery.flagged.length > 0 ? 'bad' : undefined,
        },
        {
          label: 'Highest temperature',
          value: value(stats.temperature.max),
          tone: stats.temperature.flagged.length > 0 ? 'bad' : undefined,
        },
        { label: 'Commands', value: count(stats.activity.commands.issued) },
        {
          label: 'Command success',
          value: percent(rate),
          tone: rate === null ? undefined : rate < 0.95 ? 'warn' : 'good',
        },
      ],
    },
  ];
}

function uptime(stats: ReportStatistics): Block[] {
  const u = stats.uptime;
  const blocks: Block[] = [{ kind: 'heading', text: 'Uptime' }];
  if (u.devices.length === 0) return [...blocks, { kind: 'paragraph', text: 'No device to measure in this range.' }];
  blocks.push({
    kind: 'paragraph',
    text: `Online ${percent(u.fraction)} of the measured time (${duration(u.onlineMs)} of ${duration(u.measuredMs)} over ${count(u.devices.length)} ${u.devices.length === 1 ? 'device' : 'devices'}), from the hub’s connection records.`,
  });
  blocks.push({ kind: 'chart', chart: uptimeChart(u, stats.thresholds.offlineAbove) });
  const listed = stats.scope === 'device' ? u.devices : u.devices.filter((d) => u.overThreshold.includes(d.device));
  if (listed.length > 0) {
    if (stats.scope === 'fleet') {
      blocks.push({
        kind: 'paragraph',
        text: `Devices offline more than ${percent(stats.thresholds.offlineAbove)} of the time:`,
      });
    }
    blocks.push(
      table(
        ['Device', 'Name', 'Online', 'Uptime', 'Connections'],
        [false, false, true, true, true],
        listed.map((d) => [d.device, d.name, duration(d.onlineMs), percent(d.fraction), count(d.connects)]),
      ),
    );
    blocks.push(...more(listed.length));
  }
  return blocks;
}

function alerts(stats: ReportStatistics): Block[] {
  const a = stats.alerts;
  const blocks: Block[] = [{ kind: 'heading', text: 'Alerts' }];
  if (!a.available)
    return [...blocks, { kind: 'paragraph', text: `Not available: ${a.note ?? 'no alert history'}.`, muted: true }];
  if (a.total === 0) return [...blocks, { kind: 'paragraph', text: 'No alert was firing in this range.' }];
  blocks.push({
    kind: 'paragraph',
    text: `${count(a.total)} ${a.total === 1 ? 'alert was' : 'alerts were'} firing in this range; ${count(a.open)} still open at its end.`,
  });
  blocks.push(
    table(
      ['Severity', 'Alerts'],
      [false, true],
      Object.entries(a.bySeverity)
        .sort((x, y) => y[1] - x[1])
        .map(([severity, n]) => [severity, count(n)]),
    ),
  );
  if (a.longest) {
    const l = a.longest;
    blocks.push({
      kind: 'paragraph',
      text: `Longest: ${l.rule}${l.device ? ` on ${l.device}` : ''} (${l.severity}), ${duration(l.durationMs)} from ${utc(l.firedAt)}${l.resolvedAt === null ? ', still open' : ''}.`,
    });
  }
  if (a.byDevice.length > 0) {
    blocks.push(
      table(
        ['Device', 'Alerts'],
        [false, true],
        a.byDevice.map((d) => [d.device, count(d.count)]),
      ),
    );
  }
  return blocks;
}

function metric(m: MetricStats, label: string, direction: 'below' | 'above'): Block[] {
  const blocks: Block[] = [{ kind: 'heading', text: `${label} (${m.metric})` }];
  if (m.points === 0)
    return [...blocks, { kind: 'paragraph', text: `No ${m.metric} data in this range.`, muted: true }];
  blocks.push({
    kind: 'paragraph',
    text: `Lowest ${value(m.min)}, average ${value(m.avg)}, highest ${value(m.max)} over ${count(m.points)} points (${m.source === 'rollup_1m' ? '1 min' : '1 h'} rollups, ${utcRange(m.from, m.to)}). ${m.flagged.length === 0 ? `No device went ${direction} ${value(m.threshold)}.` : `${count(m.flagged.length)} ${m.flagged.length === 1 ? 'device' : 'devices'} went ${direction} ${value(m.threshold)}.`}`,
  });
  if (m.series.length > 0) blocks.push({ kind: 'chart', chart: metricChart(m, `${label} over time`) });
  const rows = m.devices.slice(0, 10);
  blocks.push(
    table(
      ['Device', 'Lowest', 'Average', 'Highest', 'Points'],
      [false, true, true, true, true],
      rows.map((d) => [d.device, value(d.min), value(d.avg), value(d.max), count(d.points)]),
    ),
  );
  if (m.devices.length > rows.length) {
    blocks.push({
      kind: 'paragraph',
      text: `The ${rows.length} most ${direction === 'below' ? 'depleted' : 'heated'} of ${count(m.devices.length)} devices.`,
      muted: true,
    });
  }
  return blocks;
}

function activity(stats: ReportStatistics): Block[] {
  const a = stats.activity;
  const c = a.commands;
  const blocks: Block[] = [
    { kind: 'heading', text: 'Activity' },
    {
      kind: 'figures',
      items: [
        { label: 'Commands issued', value: count(c.issued) },
        { label: 'Succeeded', value: count(c.succeeded) },
        { label: 'Failed', value: count(c.failed), tone: c.failed > 0 ? 'warn' : undefined },
        { label: 'Timed out', value: count(c.timedOut), tone: c.timedOut > 0 ? 'warn' : undefined },
        { label: 'Cancelled', value: count(c.cancelled) },
        { label: 'Success rate', value: percent(c.successRate) },
        { label: 'Telemetry points', value: count(a.telemetryPoints) },
      ],
    },
  ];
  if (a.byCommands.length > 0) {
    blocks.push({ kind: 'paragraph', text: 'Busiest devices by commands issued:' });
    blocks.push(
      table(
        ['Device', 'Commands', 'Telemetry points'],
        [false, true, true],
        a.byCommands.map((d) => [d.device, count(d.commands), count(d.telemetryPoints)]),
      ),
    );
  }
  if (a.byTelemetry.length > 0) {
    blocks.push({ kind: 'paragraph', text: 'Busiest devices by telemetry points:' });
    blocks.push(
      table(
        ['Device', 'Telemetry points', 'Commands'],
        [false, true, true],
        a.byTelemetry.map((d) => [d.device, count(d.telemetryPoints), count(d.commands)]),
      ),
    );
  }
  return blocks;
}

function table(columns: string[], numeric: boolean[], rows: string[][]): Block {
  return { kind: 'table', columns, numeric, rows: rows.slice(0, TABLE_ROWS) };
}

function more(total: number): Block[] {
  return total > TABLE_ROWS ? [{ kind: 'paragraph', text: `and ${count(total - TABLE_ROWS)} more.`, muted: true }] : [];
}
