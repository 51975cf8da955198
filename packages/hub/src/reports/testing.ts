import { inflateSync } from 'node:zlib';
import type { MetricStats, ReportStatistics } from './schema.js';

/**
 * A fleet report's statistics written by hand, for the tests of what is made from statistics
 * (summary, prompt, HTML, PDF). Tests only.
 */

export const SAMPLE_FROM = Date.UTC(2024, 4, 1, 12);
export const SAMPLE_TO = SAMPLE_FROM + 24 * 3_600_000;
const MIN = 60_000;

function metric(
  metricName: string,
  threshold: number,
  devices: MetricStats['devices'],
  flagged: string[],
  base: number,
): MetricStats {
  const bucketMs = 15 * MIN;
  const series = Array.from({ length: 96 }, (_, i) => {
    const avg = base + 10 * Math.sin(i / 10);
    return { ts: SAMPLE_FROM + i * bucketMs, min: avg - 8, avg, max: avg + 6 };
  }).filter((_, i) => i < 40 || i > 44); // a gap: the line breaks there
  const points = devices.reduce((n, d) => n + d.points, 0);
  return {
    metric: metricName,
    source: 'rollup_1m',
    from: SAMPLE_FROM,
    to: SAMPLE_TO,
    bucketMs,
    points,
    min: Math.min(...devices.map((d) => d.min)),
    avg: devices.reduce((s, d) => s + d.avg * d.points, 0) / points,
    max: Math.max(...devices.map((d) => d.max)),
    threshold,
    flagged,
    devices,
    series,
  };
}

/** 4 devices: r3 offline all day, r2 half of it; r3's battery ran low, r1 ran hot; 5 alerts. */
export function sampleStatistics(overrides: Partial<ReportStatistics> = {}): ReportStatistics {
  const H = 3_600_000;
  return {
    version: 1,
    scope: 'fleet',
    device: null,
    selector: 'site=lab',
    from: SAMPLE_FROM,
    to: SAMPLE_TO,
    generatedAt: SAMPLE_TO + 5000,
    thresholds: { batteryBelow: 20, temperatureAbove: 70, offlineAbove: 0.1 },
    devices: 4,
    uptime: {
      fraction: (0 + 12 + 23 + 24) / 96,
      onlineMs: 59 * H,
      measuredMs: 96 * H,
      devices: [
        { device: 'r3', name: 'Robot 3', onlineMs: 0, measuredMs: 24 * H, fraction: 0, connects: 0 },
        { device: 'r2', name: 'Robot <2>', onlineMs: 12 * H, measuredMs: 24 * H, fraction: 0.5, connects: 3 },
        { device: 'r4', name: 'Robot 4', onlineMs: 23 * H, measuredMs: 24 * H, fraction: 23 / 24, connects: 1 },
        { device: 'r1', name: 'Robot 1', onlineMs: 24 * H, measuredMs: 24 * H, fraction: 1, connects: 0 },
      ],
      offlineWholeRange: ['r3'],
      overThreshold: ['r3', 'r2'],
    },
    alerts: {
      available: true,
      note: null,
      total: 5,
      open: 1,
      bySeverity: { warning: 3, critical: 2 },
      longest: {
        id: 'a1',
        rule: 'battery-low',
        device: 'r3',
        severity: 'critical',
        firedAt: SAMPLE_FROM + H,
        resolvedAt: SAMPLE_FROM + 3 * H + 5 * MIN,
        durationMs: 2 * H + 5 * MIN,
      },
      byDevice: [
        { device: 'r3', count: 3 },
        { device: 'r1', count: 2 },
      ],
    },
    battery: metric(
      'battery.soc',
      20,
      [
        { device: 'r3', min: 8, avg: 31.5, max: 60, points: 500 },
        { device: 'r2', min: 35, avg: 61, max: 90, points: 1000 },
        { device: 'r1', min: 52, avg: 75.25, max: 99, points: 1440 },
      ],
      ['r3'],
      60,
    ),
    temperature: metric(
      'system.temperature',
      70,
      [
        { device: 'r1', min: 40, avg: 55, max: 78.2, points: 1440 },
        { device: 'r2', min: 38, avg: 45.5, max: 60, points: 1000 },
      ],
      ['r1'],
      50,
    ),
    activity: {
      commands: { issued: 230, succeeded: 220, failed: 6, timedOut: 3, cancelled: 1, open: 0, successRate: 220 / 229 },
      telemetryPoints: 12_400,
      byCommands: [
        { device: 'r1', commands: 140, telemetryPoints: 8000 },
        { device: 'r2', commands: 90, telemetryPoints: 4400 },
      ],
      byTelemetry: [
        { device: 'r1', commands: 140, telemetryPoints: 8000 },
        { device: 'r2', commands: 90, telemetryPoints: 4400 },
      ],
    },
    ...overrides,
  };
}

/** What a test can check of a PDF without a PDF library: its structure and the text it shows. */
export interface PdfFacts {
  version: string;
  pages: number;
  /** Every text-showing operator's string, one line each, decoded from WinAnsi. */
  text: string;
  /** Content streams, inflated. */
  streams: string[];
}

/** Windows-1252 bytes 0x80 … 0x9F that the reports print. */
const CP1252: Record<number, string> = {
  0x85: '…',
  0x91: '‘',
  0x92: '’',
  0x93: '“',
  0x94: '”',
  0x95: '•',
  0x96: '–',
  0x97: '—',
};

/**
 * Reads a PDF far enough to prove it is one: the header, a cross-reference table where
 * `startxref` says, `%%EOF`, the page count of the page tree, and the text of every (Flate)
 * content stream. Throws when the structure is not there.
 */
export function readPdf(pdf: Buffer): PdfFacts {
  const raw = pdf.toString('latin1');
  const header = /^%PDF-(\d\.\d)\n/.exec(raw);
  if (!header) throw new Error('no %PDF- header');
  if (!/%%EOF\s*$/.test(raw)) throw new Error('no %%EOF at the end');
  const startxref = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(raw);
  if (!startxref || !raw.startsWith('xref', Number(startxref[1])))
    throw new Error('startxref does not point at the xref table');
  const count = /\/Type \/Pages\b[^]*?\/Count (\d+)/.exec(raw);
  if (!count) throw new Error('no page tree');
  const streams: string[] = [];
  const re = /<<([^]*?)>>\s*stream\r?\n/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    const data = Buffer.from(raw.slice(start, end), 'latin1');
    streams.push(/\/FlateDecode/.test(m[1] as string) ? inflateSync(data).toString('latin1') : data.toString('latin1'));
  }
  const lines: string[] = [];
  for (const stream of streams) {
    for (const op of stream.matchAll(/\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g)) {
      const hex =
        op[1] !== undefined ? [...op[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]).join('') : (op[2] as string);
      lines.push([...Buffer.from(hex, 'hex')].map((b) => CP1252[b] ?? String.fromCharCode(b)).join(''));
    }
  }
  return { version: header[1] as string, pages: Number(count[1]), text: lines.join('\n'), streams };
}
