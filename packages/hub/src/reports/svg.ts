import { escapeHtml } from '../http/escape.js';
import type { Chart, Shape } from './charts.js';

/** Charts as inline SVG for the HTML report. Every text is escaped: device ids and names come from devices. */

const esc = escapeHtml;

const n = (v: number): string => String(Math.round(v * 100) / 100);
const points = (list: readonly (readonly [number, number])[]): string =>
  list.map(([x, y]) => `${n(x)},${n(y)}`).join(' ');

function shape(s: Shape): string {
  switch (s.kind) {
    case 'rect':
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="${s.fill}"/>`;
    case 'line':
      return `<line x1="${n(s.x1)}" y1="${n(s.y1)}" x2="${n(s.x2)}" y2="${n(s.y2)}" stroke="${s.stroke}" stroke-width="${n(s.width)}"${s.dash ? ' stroke-dasharray="4 3"' : ''}/>`;
    case 'polyline':
      return `<polyline points="${points(s.points)}" fill="none" stroke="${s.stroke}" stroke-width="${n(s.width)}" stroke-linejoin="round"/>`;
    case 'polygon':
      return `<polygon points="${points(s.points)}" fill="${s.fill}" fill-opacity="${n(s.opacity)}"/>`;
    case 'text':
      return `<text x="${n(s.x)}" y="${n(s.y)}" font-size="${n(s.size)}" text-anchor="${s.anchor}" fill="${s.fill}">${esc(s.text)}</text>`;
  }
}

export function chartSvg(chart: Chart): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n(chart.width)} ${n(chart.height)}" width="${n(chart.width)}" height="${n(chart.height)}" role="img" aria-label="${esc(`${chart.title}. ${chart.description}`)}" font-family="Helvetica, Arial, sans-serif">`,
    ...chart.shapes.map(shape),
    '</svg>',
  ].join('\n');
}
