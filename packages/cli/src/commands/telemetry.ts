import type { TelemetrySeries } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { sparkline } from '../format/sparkline.js';
import { styleFor } from '../format/style.js';
import { renderTable } from '../format/table.js';
import { formatTimestamp } from '../format/time.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

const AGGS = ['avg', 'min', 'max', 'last', 'count'] as const;
/** Characters of the sparkline, so it fits a terminal line with its labels. */
const WIDTH = 60;

export const telemetryOptions = {
  since: option((raw, source) => v.duration(raw, source, 1000, 400 * 86_400_000), {
    valueName: 'DURATION',
    default: 3_600_000,
    defaultText: '1h',
    description: 'how far back (15m, 1h, 7d)',
  }),
  bucket: option((raw, source) => v.duration(raw, source, 1000, 400 * 86_400_000), {
    valueName: 'DURATION',
    description: `bucket width (10s, 5m, 1h); default: the range in ${WIDTH} buckets`,
  }),
  agg: option((raw, source) => v.choice(raw, source, AGGS), {
    valueName: 'AGG',
    default: 'avg',
    description: `aggregate of each bucket: ${AGGS.join(', ')}`,
  }),
  table: flag({ description: 'print a table of bucket start and value instead of a sparkline' }),
  json: flag({ description: 'print the hub’s answer as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla telemetry ID METRIC [options]',
  description:
    'Shows one metric of one device over a time range, as a sparkline with its minimum, maximum and latest value, or as a table. Buckets of whole minutes or hours are read from the hub’s rollups.',
  options: telemetryOptions,
  notes:
    'Examples:\n  flotilla telemetry lekiwi-0001 battery.soc --since 6h\n  flotilla telemetry mcu-0005 env.temperature --since 1d --bucket 1h --table',
});

/** The bucket as the hub reads it: whole seconds. */
function bucketText(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 1 : 3).replace(/0+$/, '');
}

function summary(series: TelemetrySeries, id: string, metric: string, line: string): string {
  const values = series.points.map((p) => p.value);
  if (values.length === 0) return `${id} ${metric}: no points in this range\n`;
  const last = values[values.length - 1] as number;
  const stats = `min ${formatValue(Math.min(...values))}  max ${formatValue(Math.max(...values))}  last ${formatValue(last)}`;
  return `${id} ${metric} (${series.agg ?? 'raw'} per ${bucketText(series.bucketMs ?? 0)}, from ${series.source})\n${line}\n${stats}\n`;
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(telemetryOptions, argv, io.env, 2);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const [id, metric] = positionals;
  if (id === undefined || metric === undefined) throw new UsageError('give a device ID and a METRIC');
  const to = io.clock.now();
  const from = to - values.since;
  const bucketMs = values.bucket ?? Math.max(1000, Math.ceil(values.since / WIDTH / 1000) * 1000);
  const series = await HubConnection.open(values, io).call((client) =>
    client.telemetry(id, { metric, from, to, bucket: bucketText(bucketMs), agg: values.agg }),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify(series, null, 2)}\n`);
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  if (values.table) {
    if (series.points.length === 0) io.stdout.write(`${id} ${metric}: no points in this range\n`);
    else
      io.stdout.write(
        renderTable(
          ['TIME', metric.toUpperCase()],
          series.points.map((p) => [formatTimestamp(p.ts), formatValue(p.value)]),
          style,
        ),
      );
    return 0;
  }
  const line = sparkline(series.points, series.from, series.to, series.bucketMs ?? bucketMs);
  io.stdout.write(summary(series, id, metric, style.cyan(line)));
  return 0;
}

export const telemetryCommand: Command = { name: 'telemetry', summary: 'Show a device metric over time', run };
