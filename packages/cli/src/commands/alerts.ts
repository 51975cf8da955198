import type { Alert, AlertDetail, AlertSeverity, AlertStatus } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { styleFor, type Style } from '../format/style.js';
import { renderTable, truncate } from '../format/table.js';
import { formatTimestamp, relativeTime } from '../format/time.js';
import type { Io } from '../io.js';
import { flag, list, option, parseOptions } from '../options.js';
import * as v from '../values.js';

const STATUSES: readonly AlertStatus[] = ['firing', 'acknowledged', 'resolved'];
const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];

export const alertsOptions = {
  status: list((raw, source) => v.choice(raw, source, STATUSES), {
    valueName: 'STATUS',
    description: 'firing, acknowledged or resolved; repeat for several (default: firing and acknowledged)',
  }),
  all: flag({ description: 'every status, resolved alerts included' }),
  device: option(v.nonEmpty, { valueName: 'ID', description: 'only alerts of this device' }),
  severity: list((raw, source) => v.choice(raw, source, SEVERITIES), {
    valueName: 'LEVEL',
    description: 'info, warning or critical; repeat for several',
  }),
  rule: option(v.nonEmpty, { valueName: 'RULE_ID', description: 'only alerts of this rule' }),
  since: option(v.nonEmpty, {
    valueName: 'WHEN',
    description: 'only alerts open since: a duration back from now (1h, 2d) or an ISO date',
  }),
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    default: 50,
    description: 'how many of the newest alerts to show (1-1000)',
  }),
  json: flag({ description: 'print the alerts as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla alerts [options]\n       flotilla alerts ack|resolve|show ID [--json]',
  description:
    'Lists alerts, newest first: by default those firing or acknowledged. `ack` acknowledges one (you are on it), `resolve` closes it by hand (it fires again only after its condition clears), `show` prints one with its history and webhook deliveries. Rules are managed with flotilla alert-rules.',
  options: alertsOptions,
  notes:
    'Examples:\n  flotilla alerts\n  flotilla alerts --all --device lekiwi-007 --since 1d\n  flotilla alerts ack 3f6c0b7e-…\n  flotilla alerts show 3f6c0b7e-… --json',
});

function statusCell(alert: Alert, style: Style): string {
  if (alert.status === 'firing') return style.red(alert.status);
  if (alert.status === 'acknowledged') return style.yellow(alert.status);
  return style.green(alert.status);
}

function severityCell(alert: Alert, style: Style): string {
  return alert.severity === 'critical' ? style.bold(style.red(alert.severity)) : alert.severity;
}

function renderDetail(alert: AlertDetail, style: Style): string {
  const lines = [
    `${style.bold(alert.ruleName)} on ${alert.device}: ${statusCell(alert, style)} (${severityCell(alert, style)})`,
    alert.summary,
    `id        ${alert.id}`,
    `rule      ${alert.rule}`,
    `started   ${formatTimestamp(alert.startedAt)}`,
  ];
  if (alert.acknowledgedAt !== null)
    lines.push(`acked     ${formatTimestamp(alert.acknowledgedAt)} by ${alert.acknowledgedBy ?? '?'}`);
  if (alert.resolvedAt !== null)
    lines.push(
      `resolved  ${formatTimestamp(alert.resolvedAt)} by ${alert.resolvedBy ?? '?'} (${alert.resolution ?? ''})`,
    );
  lines.push('', style.bold('History'));
  for (const event of alert.history)
    lines.push(`  ${formatTimestamp(event.ts)}  ${event.type} by ${event.metadata.actor}`);
  if (alert.deliveries.length > 0) {
    lines.push('', style.bold('Webhook deliveries'));
    for (const d of alert.deliveries) {
      const status =
        d.status === 'delivered' ? style.green(d.status) : d.status === 'failed' ? style.red(d.status) : d.status;
      const error = d.lastError ? `, last error: ${d.lastError}` : '';
      lines.push(`  ${d.event} → ${d.url}: ${status} after ${d.attempts} attempt(s)${error}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function action(
  verb: string,
  id: string | undefined,
  values: { json: boolean; hub: string | undefined; token: string | undefined },
  io: Io,
): Promise<number> {
  if (id === undefined) throw new UsageError(`missing alert ID (flotilla alerts lists them)`);
  const connection = HubConnection.open(values, io);
  if (verb === 'show') {
    const alert = await connection.call((client) => client.alerts.get(id));
    io.stdout.write(
      values.json ? `${JSON.stringify(alert, null, 2)}\n` : renderDetail(alert, styleFor(io.stdout, io.env)),
    );
    return 0;
  }
  const alert = await connection.call((client) =>
    verb === 'ack' ? client.alerts.acknowledge(id) : client.alerts.resolve(id),
  );
  io.stdout.write(
    values.json
      ? `${JSON.stringify(alert, null, 2)}\n`
      : `${alert.ruleName} on ${alert.device} is ${alert.status} (${alert.id}).\n`,
  );
  return 0;
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(alertsOptions, argv, io.env, 2);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const [verb, id] = positionals;
  if (verb !== undefined) {
    if (!['ack', 'resolve', 'show'].includes(verb))
      throw new UsageError(`unknown action ${JSON.stringify(verb)}: ack, resolve or show`);
    return action(verb, id, values, io);
  }
  if (values.all && values.status.length > 0) throw new UsageError('--all and --status exclude each other');
  const statuses = values.all
    ? []
    : values.status.length > 0
      ? values.status
      : (['firing', 'acknowledged'] as AlertStatus[]);
  const now = io.clock.now();
  const page = await HubConnection.open(values, io).call((client) =>
    client.alerts.list({
      ...(statuses.length > 0 && { status: statuses }),
      ...(values.severity.length > 0 && { severity: values.severity }),
      ...(values.device !== undefined && { device: values.device }),
      ...(values.rule !== undefined && { rule: values.rule }),
      ...(values.since !== undefined && { from: v.since(values.since, '--since', now) }),
      limit: values.limit,
    }),
  );
  const alerts = page.items;
  if (values.json) {
    io.stdout.write(`${JSON.stringify(alerts, null, 2)}\n`);
    return 0;
  }
  if (alerts.length === 0) {
    io.stdout.write(values.all || values.status.length > 0 ? 'No alerts.\n' : 'No alert is firing or acknowledged.\n');
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  io.stdout.write(
    renderTable(
      ['ID', 'DEVICE', 'RULE', 'SEVERITY', 'STATUS', 'STARTED', 'SUMMARY'],
      alerts.map((alert) => [
        alert.id,
        alert.device,
        alert.ruleName,
        severityCell(alert, style),
        statusCell(alert, style),
        relativeTime(alert.startedAt, now),
        truncate(alert.summary, 60),
      ]),
      style,
    ),
  );
  if (page.nextCursor !== null) io.stdout.write(style.dim(`(the newest ${values.limit}; --limit shows more)\n`));
  return 0;
}

export const alertsCommand: Command = { name: 'alerts', summary: 'List, acknowledge and resolve alerts', run };
