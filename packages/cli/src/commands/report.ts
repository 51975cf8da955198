import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Report, ReportRequest } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

const FORMATS = ['.pdf', '.html', '.json'] as const;
type Format = (typeof FORMATS)[number];

export const reportOptions = {
  device: option(v.nonEmpty, { valueName: 'ID', description: 'report on this device (default: the fleet)' }),
  selector: option(v.nonEmpty, {
    valueName: 'SELECTOR',
    description: 'report on the devices whose labels match (site=lab,zone in (a,b))',
  }),
  since: option(v.nonEmpty, {
    valueName: 'WHEN',
    default: '24h',
    description: 'start of the range: a duration back from now (24h, 7d) or an ISO date',
  }),
  to: option(v.nonEmpty, {
    valueName: 'WHEN',
    defaultText: 'now',
    description: 'end of the range: a duration back from now or an ISO date',
  }),
  out: option(v.nonEmpty, {
    valueName: 'FILE',
    description: 'write the report to FILE, as PDF, HTML or JSON by its extension (.pdf, .html, .json)',
  }),
  batteryMetric: option(v.nonEmpty, { valueName: 'METRIC', defaultText: 'battery.soc', description: 'battery metric' }),
  temperatureMetric: option(v.nonEmpty, {
    valueName: 'METRIC',
    defaultText: 'system.temperature',
    description: 'temperature metric',
  }),
  timeout: option((raw, source) => v.duration(raw, source, 1000, 86_400_000), {
    valueName: 'DURATION',
    default: 300_000,
    defaultText: '5m',
    description: 'how long to wait for the hub to generate the report',
  }),
  json: flag({ description: 'print the report, with its statistics, as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla report [--device ID | --selector SELECTOR] [--since WHEN] [--to WHEN] [--out FILE] [options]',
  description:
    'Asks the hub for a report on the fleet, some devices or one device over a time range (uptime, alerts, battery and temperature, commands, the busiest devices, with a summary), waits until it is generated, and prints its summary or writes it to a file. Needs the operator, engineer or admin role.',
  options: reportOptions,
  notes:
    'Examples:\n  flotilla report --since 24h --out fleet.pdf\n  flotilla report --selector site=lab --since 7d --out lab.html\n  flotilla report --device lekiwi-0001 --since 48h --to 24h --json',
});

function formatOf(out: string): Format {
  const ext = extname(out).toLowerCase();
  if ((FORMATS as readonly string[]).includes(ext)) return ext as Format;
  throw new UsageError(`--out must end in .pdf, .html or .json, got ${JSON.stringify(out)}`);
}

/** Polls the hub (each call waits there up to 30 s) until the report is done or `timeoutMs` has passed. */
async function waitFor(connection: HubConnection, id: string, timeoutMs: number, io: Io): Promise<Report> {
  const deadline = io.clock.now() + timeoutMs;
  for (;;) {
    const remaining = Math.ceil((deadline - io.clock.now()) / 1000);
    const report = await connection.call((client) =>
      client.getReport(id, { waitSeconds: Math.max(0, Math.min(30, remaining)) }),
    );
    if (report.status !== 'pending') return report;
    if (remaining <= 0) {
      throw new CliError(
        CliErrorCodes.FAILED,
        `report ${id} is still being generated after ${v.formatMs(timeoutMs)}: fetch it later with flotilla reports`,
        ExitCodes.FAILURE,
      );
    }
  }
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(reportOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  if (values.device !== undefined && values.selector !== undefined) {
    throw new UsageError('give --device or --selector, not both');
  }
  const format = values.out === undefined ? undefined : formatOf(values.out);
  const now = io.clock.now();
  const request: ReportRequest = {
    scope: values.device === undefined ? 'fleet' : 'device',
    from: v.since(values.since, '--since', now),
    ...(values.to !== undefined && { to: v.since(values.to, '--to', now) }),
    ...(values.device !== undefined && { device: values.device }),
    ...(values.selector !== undefined && { selector: values.selector }),
    ...((values.batteryMetric ?? values.temperatureMetric) !== undefined && {
      metrics: {
        ...(values.batteryMetric !== undefined && { battery: values.batteryMetric }),
        ...(values.temperatureMetric !== undefined && { temperature: values.temperatureMetric }),
      },
    }),
  };
  const connection = HubConnection.open(values, io);
  const created = await connection.call((client) => client.createReport(request));
  const report = await waitFor(connection, created.id, values.timeout, io);
  if (report.status === 'failed') {
    throw new CliError(
      CliErrorCodes.FAILED,
      `report ${report.id} failed: ${report.error ?? 'no reason given'}`,
      ExitCodes.FAILURE,
    );
  }
  if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (values.out !== undefined && format !== undefined) {
    const body =
      format === '.pdf'
        ? await connection.call((client) => client.reportPdf(report.id))
        : format === '.html'
          ? await connection.call((client) => client.reportHtml(report.id))
          : `${JSON.stringify(report, null, 2)}\n`;
    writeFileSync(values.out, body);
  }
  if (values.json) return 0;
  io.stdout.write(`${report.summary?.text ?? ''}\n`);
  if (report.summary?.note) io.stdout.write(`(${report.summary.note})\n`);
  io.stdout.write(
    values.out !== undefined
      ? `Report ${report.id} written to ${values.out}\n`
      : `Report ${report.id}: ${connection.hub.replace(/\/$/, '')}${report.links.html}\n`,
  );
  return 0;
}

export const reportCommand: Command = { name: 'report', summary: 'Generate a fleet or device report', run };
