import { percent, value } from './format.js';
import type { MetricStats, UptimeStats } from './schema.js';

/**
 * The report's charts as plain shapes in points (origin top left, y down), drawn by two
 * renderers: SVG for the HTML (svg.ts) and vector paths for the PDF (pdf.ts). Deciding the
 * layout once keeps both documents showing the same chart.
 */

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number; dash?: boolean }
  | { kind: 'polyline'; points: readonly (readonly [number, number])[]; stroke: string; width: number }
  | { kind: 'polygon'; points: readonly (readonly [number, number])[]; fill: string; opacity: number }
  | {
      kind: 'text';
      x: number;
      /** Baseline. */
      y: number;
      text: string;
      size: number;
      anchor: 'start' | 'middle' | 'end';
      fill: string;
    };

export interface Chart {
  title: string;
  /** One sentence saying what the chart shows, for screen readers and the PDF. */
  description: string;
  width: number;
  height: number;
  shapes: Shape[];
}

export const COLORS = {
  text: '#1f2933',
  muted: '#616e7c',
  grid: '#d9e2ec',
  good: '#2f9e44',
  warn: '#e8890c',
  bad: '#c92a2a',
  line: '#1c7ed6',
  band: '#a5d8ff',
  threshold: '#c92a2a',
} as const;

export const CHART_WIDTH = 500;
/** Devices drawn in the uptime chart: the least online ones. */
export const UPTIME_BARS = 25;

const LABEL_WIDTH = 130;
const BAR_HEIGHT = 12;
const BAR_GAP = 4;

/** One bar per device, least online first, coloured against the offline threshold. */
export function uptimeChart(uptime: UptimeStats, offlineAbove: number): Chart {
  const devices = uptime.devices.slice(0, UPTIME_BARS);
  const barArea = CHART_WIDTH - LABEL_WIDTH - 50;
  const shapes: Shape[] = [];
  devices.forEach((d, i) => {
    const y = 8 + i * (BAR_HEIGHT + BAR_GAP);
    const fraction = d.fraction ?? 0;
    const fill = d.onlineMs === 0 ? COLORS.bad : 1 - fraction > offlineAbove ? COLORS.warn : COLORS.good;
    shapes.push({
      kind: 'text',
      x: LABEL_WIDTH - 6,
      y: y + 9.5,
      text: clip(d.device, 24),
      size: 8,
      anchor: 'end',
      fill: COLORS.text,
    });
    shapes.push({ kind: 'rect', x: LABEL_WIDTH, y, w: barArea, h: BAR_HEIGHT, fill: COLORS.grid });
    if (fraction > 0) shapes.push({ kind: 'rect', x: LABEL_WIDTH, y, w: barArea * fraction, h: BAR_HEIGHT, fill });
    shapes.push({
      kind: 'text',
      x: LABEL_WIDTH + barArea + 6,
      y: y + 9.5,
      text: percent(d.fraction),
      size: 8,
      anchor: 'start',
      fill: COLORS.text,
    });
  });
  const more = uptime.devices.length - devices.length;
  const height = 16 + devices.length * (BAR_HEIGHT + BAR_GAP) + (more > 0 ? 12 : 0);
  if (more > 0) {
    shapes.push({
      kind: 'text',
      x: LABEL_WIDTH,
      y: height - 4,
      text: `and ${more} more, all online longer`,
      size: 8,
      anchor: 'start',
      fill: COLORS.muted,
    });
  }
  return {
    title: 'Uptime by device',
    description: `Share of the range each device was online, least online first${more > 0 ? ` (the ${devices.length} least online)` : ''}.`,
    width: CHART_WIDTH,
    height,
    shapes,
  };
}

const PLOT = { left: 46, right: 12, top: 10, bottom: 24, height: 150 };

/** The fleet's average per bucket as a line, its lowest–highest as a band, and the threshold. */
export function metricChart(stats: MetricStats, title: string): Chart {
  const width = CHART_WIDTH;
  const height = PLOT.top + PLOT.height + PLOT.bottom;
  const plotWidth = width - PLOT.left - PLOT.right;
  const shapes: Shape[] = [];
  const values = stats.series.flatMap((b) => [b.min, b.max]).concat(stats.threshold);
  const [lo, hi] = niceRange(Math.min(...values), Math.max(...values));
  const x = (ts: number): number => PLOT.left + ((ts - stats.from) / Math.max(1, stats.to - stats.from)) * plotWidth;
  const y = (v: number): number => PLOT.top + PLOT.height - ((v - lo) / (hi - lo)) * PLOT.height;

  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    shapes.push({
      kind: 'line',
      x1: PLOT.left,
      y1: y(v),
      x2: width - PLOT.right,
      y2: y(v),
      stroke: COLORS.grid,
      width: 0.5,
    });
    shapes.push({
      kind: 'text',
      x: PLOT.left - 4,
      y: y(v) + 3,
      text: value(round(v)),
      size: 7,
      anchor: 'end',
      fill: COLORS.muted,
    });
  }
  for (const run of runs(stats)) {
    const centre = (ts: number): number => x(Math.min(ts + stats.bucketMs / 2, stats.to));
    if (run.length > 1) {
      const upper = run.map((b) => [centre(b.ts), y(b.max)] as const);
      const lower = run.map((b) => [centre(b.ts), y(b.min)] as const).reverse();
      shapes.push({ kind: 'polygon', points: [...upper, ...lower], fill: COLORS.band, opacity: 0.6 });
      shapes.push({
        kind: 'polyline',
        points: run.map((b) => [centre(b.ts), y(b.avg)] as const),
        stroke: COLORS.line,
        width: 1.5,
      });
    } else {
      const b = run[0] as MetricStats['series'][number];
      shapes.push({
        kind: 'line',
        x1: centre(b.ts),
        y1: y(b.min),
        x2: centre(b.ts),
        y2: y(b.max),
        stroke: COLORS.band,
        width: 3,
      });
      shapes.push({ kind: 'rect', x: centre(b.ts) - 1.5, y: y(b.avg) - 1.5, w: 3, h: 3, fill: COLORS.line });
    }
  }
  shapes.push({
    kind: 'line',
    x1: PLOT.left,
    y1: y(stats.threshold),
    x2: width - PLOT.right,
    y2: y(stats.threshold),
    stroke: COLORS.threshold,
    width: 0.75,
    dash: true,
  });
  shapes.push({
    kind: 'line',
    x1: PLOT.left,
    y1: PLOT.top + PLOT.height,
    x2: width - PLOT.right,
    y2: PLOT.top + PLOT.height,
    stroke: COLORS.muted,
    width: 0.75,
  });
  const base = PLOT.top + PLOT.height + 14;
  shapes.push({
    kind: 'text',
    x: PLOT.left,
    y: base,
    text: shortUtc(stats.from),
    size: 7,
    anchor: 'start',
    fill: COLORS.muted,
  });
  shapes.push({
    kind: 'text',
    x: PLOT.left + plotWidth / 2,
    y: base,
    text: shortUtc((stats.from + stats.to) / 2),
    size: 7,
    anchor: 'middle',
    fill: COLORS.muted,
  });
  shapes.push({
    kind: 'text',
    x: width - PLOT.right,
    y: base,
    text: `${shortUtc(stats.to)} UTC`,
    size: 7,
    anchor: 'end',
    fill: COLORS.muted,
  });
  return {
    title,
    description: `Fleet average of ${stats.metric} per ${Math.round(stats.bucketMs / 60_000)} min (line), lowest to highest device (band), threshold ${value(stats.threshold)} (dashed).`,
    width,
    height,
    shapes,
  };
}

/** Consecutive buckets with data; a bucket without any breaks the line. */
function runs(stats: MetricStats): MetricStats['series'][] {
  const out: MetricStats['series'][] = [];
  let current: MetricStats['series'] = [];
  for (const bucket of stats.series) {
    const previous = current[current.length - 1];
    if (previous && bucket.ts - previous.ts > stats.bucketMs) {
      out.push(current);
      current = [];
    }
    current.push(bucket);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Bounds on a 1-2-5 step that hold [lo, hi], never empty. */
export function niceRange(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-9) return [lo - 1, hi + 1];
  const raw = (hi - lo) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** `05-01 12:00`: the charts' axis labels. */
function shortUtc(ms: number): string {
  const iso = new Date(Math.round(ms)).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
