import type { Report } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { styleFor, type Style } from '../format/style.js';
import { renderTable, truncate } from '../format/table.js';
import { formatTimestamp, relativeTime } from '../format/time.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const reportsOptions = {
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    default: 50,
    description: 'how many of the latest reports to show (1-1000)',
  }),
  json: flag({ description: 'print the reports as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla reports [options]',
  description:
    'Lists the reports the hub has made, newest first: what each covers, whether it is ready, and who asked for it. Make one with flotilla report.',
  options: reportsOptions,
  notes: 'Examples:\n  flotilla reports\n  flotilla reports --json | jq ".[] | {id, status}"',
});

function scopeCell(report: Report): string {
  if (report.scope === 'device') return `device ${report.device ?? ''}`;
  return report.selector ? `fleet ${truncate(report.selector, 30)}` : 'fleet';
}

function statusCell(report: Report, style: Style): string {
  if (report.status === 'ready') return style.green('ready');
  if (report.status === 'pending') return style.yellow('pending');
  return style.red('failed');
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(reportsOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const reports = await HubConnection.open(values, io).call((client) => client.listReports(values.limit));
  if (values.json) {
    io.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return 0;
  }
  if (reports.length === 0) {
    io.stdout.write('No reports yet: make one with flotilla report.\n');
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  const now = io.clock.now();
  io.stdout.write(
    renderTable(
      ['ID', 'SCOPE', 'FROM', 'TO', 'STATUS', 'CREATED', 'BY'],
      reports.map((r) => [
        r.id,
        scopeCell(r),
        formatTimestamp(r.from),
        formatTimestamp(r.to),
        statusCell(r, style),
        relativeTime(r.createdAt, now),
        r.createdBy,
      ]),
      style,
    ),
  );
  return 0;
}

export const reportsCommand: Command = { name: 'reports', summary: 'List generated reports', run };
