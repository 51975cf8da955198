import type { LogLine } from '@flotilla/sdk';
import type { Style } from './style.js';
import { formatTimestamp } from './time.js';

function level(line: LogLine, style: Style): string {
  const text = line.level.toUpperCase().padEnd(5);
  if (line.level === 'error' || line.level === 'fatal') return style.red(text);
  if (line.level === 'warn') return style.yellow(text);
  if (line.level === 'trace' || line.level === 'debug') return style.dim(text);
  return text;
}

function fields(line: LogLine, style: Style): string {
  if (!line.fields) return '';
  const parts = Object.entries(line.fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`,
  );
  return parts.length > 0 ? `  ${style.dim(parts.join(' '))}` : '';
}

/**
 * `flotilla logs`: one line per log line, as a log file reads: the device's time, the level, the
 * device (when several may show), the message and its fields as key=value.
 */
export function renderLogLine(line: LogLine, style: Style, showDevice: boolean): string {
  const device = showDevice ? `${style.cyan(line.device.padEnd(16))}  ` : '';
  return `${formatTimestamp(line.ts)}  ${level(line, style)}  ${device}${line.message}${fields(line, style)}\n`;
}
