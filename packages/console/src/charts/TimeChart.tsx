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
function timeRange(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  if (!Number.isFinite(max)) {
    const now = Date.now() / 1000;
    return [now - MIN_SPAN_S, now];
  }
  if (!Number.isFinite(min) || max - min < MIN_SPAN_S) return [max - MIN_SPAN_S, max];
  return [min, max];
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

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisColor = themeColor('--muted');
    const grid = { stroke: themeColor('--border'), width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: timeRange } },
      axes: [
        { stroke: axisColor, grid, ticks: grid },
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
  }, [key, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={box} className="chart" role="img" aria-label={label} data-points={data[0]?.length ?? 0} />;
}
