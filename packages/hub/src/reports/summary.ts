import { count, duration, list, percent, utcRange, value } from './format.js';
import type { MetricStats, ReportStatistics } from './schema.js';

/**
 * The deterministic summary: a few sentences written from the statistics alone, the same every
 * time for the same statistics. It is the summary when no LLM provider is configured, and the
 * fallback when the provider fails.
 */
export function deterministicSummary(stats: ReportStatistics): string {
  return [scope(stats), ...(stats.devices === 0 ? [] : body(stats))].join(' ');
}

function scope(stats: ReportStatistics): string {
  const range = utcRange(stats.from, stats.to);
  if (stats.scope === 'device') {
    return stats.devices === 0
      ? `Report for device ${stats.device ?? ''} over ${range}: the device was registered only after the range.`
      : `Report for device ${stats.device ?? ''} over ${range}.`;
  }
  const which = stats.selector ? ` (selector ${stats.selector})` : '';
  if (stats.devices === 0)
    return `Fleet report${which} over ${range}: no device matched, so there is nothing to report.`;
  return `Fleet report${which} over ${range}: ${plural(stats.devices, 'device')}.`;
}

function body(stats: ReportStatistics): string[] {
  return [
    uptime(stats),
    alerts(stats),
    metric(stats.battery, 'Battery', 'lowest', 'below'),
    metric(stats.temperature, 'Temperature', 'highest', 'above'),
    commands(stats),
    busiest(stats),
  ].filter((s): s is string => s !== undefined);
}

function uptime(stats: ReportStatistics): string {
  const u = stats.uptime;
  const threshold = percent(stats.thresholds.offlineAbove);
  if (stats.scope === 'device') {
    const d = u.devices[0];
    if (!d) return 'Its uptime could not be measured.';
    if (d.onlineMs === 0) return `${d.device} was offline the whole range.`;
    return `${d.device} was online ${percent(d.fraction)} of the time (${plural(d.connects, 'connection')} in the range).`;
  }
  const parts = [`Fleet uptime was ${percent(u.fraction)}`];
  if (u.overThreshold.length === 0) parts.push(`no device was offline more than ${threshold} of the time`);
  else {
    const worst = u.devices
      .filter((d) => u.overThreshold.includes(d.device))
      .map((d) => `${d.device} ${percent(1 - (d.fraction ?? 0))}`);
    parts.push(
      `${u.overThreshold.length} of ${stats.devices} devices were offline more than ${threshold} of the time (${list(worst)})`,
    );
  }
  if (u.offlineWholeRange.length > 0) {
    parts.push(
      `${u.offlineWholeRange.length === 1 ? '1 was' : `${u.offlineWholeRange.length} were`} offline the whole range (${list(u.offlineWholeRange)})`,
    );
  }
  return `${parts.join('; ')}.`;
}

function alerts(stats: ReportStatistics): string {
  const a = stats.alerts;
  if (!a.available) return 'Alert history is not available on this hub.';
  if (a.total === 0) return 'No alerts fired.';
  const severities = Object.entries(a.bySeverity)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(([severity, n]) => `${n} ${severity}`)
    .join(', ');
  let text = `${plural(a.total, 'alert')} fired (${severities})`;
  if (a.open > 0) text += `, ${a.open} still open at the end`;
  if (a.longest) {
    const where = a.longest.device ? ` on ${a.longest.device}` : '';
    text += `; the longest, ${a.longest.rule}${where}, lasted ${duration(a.longest.durationMs)}`;
  }
  return `${text}.`;
}

function metric(m: MetricStats, label: string, extreme: 'lowest' | 'highest', direction: 'below' | 'above'): string {
  if (m.points === 0) return `No ${label.toLowerCase()} data (metric ${m.metric}).`;
  const worst = m.devices[0];
  const edge = extreme === 'lowest' ? m.min : m.max;
  let text = `${label} (${m.metric}) averaged ${value(m.avg)}, ${extreme} ${value(edge)}${worst && m.devices.length > 1 ? ` (${worst.device})` : ''}`;
  text +=
    m.flagged.length === 0
      ? `; no device went ${direction} ${value(m.threshold)}`
      : `; ${plural(m.flagged.length, 'device')} went ${direction} ${value(m.threshold)} (${list(m.flagged)})`;
  return `${text}.`;
}

function commands(stats: ReportStatistics): string {
  const c = stats.activity.commands;
  if (c.issued === 0) return 'No commands were issued.';
  const unsuccessful = c.failed + c.timedOut;
  let text = `${plural(c.issued, 'command')} ${c.issued === 1 ? 'was' : 'were'} issued`;
  if (c.successRate !== null) {
    text += `; ${percent(c.successRate)} of those that finished succeeded`;
    if (unsuccessful > 0) text += ` (${count(unsuccessful)} failed or timed out)`;
  }
  return `${text}.`;
}

function busiest(stats: ReportStatistics): string | undefined {
  if (stats.scope === 'device') return undefined;
  const byCommands = stats.activity.byCommands[0];
  const byTelemetry = stats.activity.byTelemetry[0];
  if (byCommands && byTelemetry && byCommands.device === byTelemetry.device) {
    return `Busiest: ${byCommands.device} (${plural(byCommands.commands, 'command')}, ${plural(byCommands.telemetryPoints, 'telemetry point')}).`;
  }
  const parts: string[] = [];
  if (byCommands) parts.push(`${byCommands.device} by commands (${count(byCommands.commands)})`);
  if (byTelemetry) parts.push(`${byTelemetry.device} by telemetry (${plural(byTelemetry.telemetryPoints, 'point')})`);
  return parts.length === 0 ? undefined : `Busiest: ${parts.join(', ')}.`;
}

function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}
