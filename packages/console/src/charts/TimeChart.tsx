import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** CSS colour; defaults to a palette by position. */
  color?: string;
}

interface Props {
  /** Accessible name of the chart (canvas has no text of its own). */
  label: string;
  series: readonly ChartSeries[];
  /** uPlot's aligned data: times in seconds, then one array per series (null for gaps). */
  data: uPlot.AlignedData;
  height?: number;
}

const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#ec4899', '#14b8a6', '#84cc16'];

function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** The shortest time axis drawn, in seconds. */
const MIN_SPAN_S = 60;

/**
 * The time axis spans at least a minute, ending at the newest point: with one point (a chart just
 * opened) or none, uPlot's own padding of an empty range spans years.
 */
function timeRange(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  // One point: uPlot hands over its own span for it, a thousand days, not the point alone.
  const xs = u.data[0];
  if (xs.length === 1) {
    const only = xs[0] as number;
    return [only - MIN_SPAN_S, only];
  }
  if (!Number.isFinite(max)) {
    const now = Date.now() / 1000;
    return [now - MIN_SPAN_S, now];
  }
  if (!Number.isFinite(min) || max - min < MIN_SPAN_S) return [max - MIN_SPAN_S, max];
  return [min, max];
}

/**
 * Tick labels on one line, as precise as the span needs, in 24 h time (short enough that the last
 * one fits at the edge): uPlot's own two-line labels (the date under the first tick and where the
 * day or hour changes) ran into each other on narrow charts.
 */
function timeLabels(u: uPlot, splits: number[]): string[] {
  const span = (u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0);
  const format: Intl.DateTimeFormatOptions =
    span <= 600
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
      : span <= 2 * 86400
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : { month: 'short', day: 'numeric' };
  return splits.map((s) => new Date(s * 1000).toLocaleString([], format));
}

/**
 * A time-series chart on uPlot (canvas, tens of thousands of points without effort). Created
 * once per set of series; new data is handed to the existing plot, so a live chart redraws
 * without rebuilding, and its width follows the panel's.
 */
export function TimeChart({ label, series, data, height = 180 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const key = series.map((s) => `${s.label}:${s.color ?? ''}`).join('|');

  // Without a point there is nothing to draw (and uPlot would draw an axis of years): a message
  // says so, and the plot is made when the first point comes.
  const empty = (data[0]?.length ?? 0) === 0;

  useEffect(() => {
    const el = box.current;
    if (!el || empty) return;
    const axisColor = themeColor('--muted');
    const grid = { stroke: themeColor('--border'), width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: timeRange } },
      axes: [
        { stroke: axisColor, grid, ticks: grid, values: timeLabels, space: 70 },
        { stroke: axisColor, grid, ticks: grid, size: 50 },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          points: { show: false },
        })),
      ],
    };
    const u = new uPlot(opts, latest.current, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    // Themes are CSS variables, but a canvas is painted once: rebuild the axes' colours on a switch.
    const themeWatch = new MutationObserver(() => {
      u.axes.forEach((axis) => {
        axis.stroke = () => themeColor('--muted');
      });
      u.redraw(false, true);
    });
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      resize.disconnect();
      themeWatch.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [key, height, empty]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <div ref={box} className="chart" role="img" aria-label={label} data-points={data[0]?.length ?? 0}>
      {empty && <p className="muted chart-empty">No data in this range yet.</p>}
    </div>
  );
}
