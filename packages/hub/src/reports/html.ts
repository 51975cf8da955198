import type { Block, ReportDocument } from './document.js';
import { escapeHtml as esc } from '../http/escape.js';
import { chartSvg } from './svg.js';

/**
 * The report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no
 * external resource, so it can be mailed, archived or opened offline and shows the same.
 */

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.5 Helvetica, Arial, sans-serif; color: #1f2933; margin: 0; background: #f5f7fa; }
main { max-width: 820px; margin: 0 auto; padding: 32px 40px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
.subtitle { color: #616e7c; margin: 0 0 24px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d9e2ec; }
p { margin: 8px 0; }
.muted { color: #616e7c; font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 8px 0; }
.figure { border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 10px; }
.figure .label { color: #616e7c; font-size: 12px; }
.figure .value { font-size: 18px; font-weight: bold; }
.good .value { color: #2f9e44; } .warn .value { color: #e8890c; } .bad .value { color: #c92a2a; }
table { border-collapse: collapse; margin: 8px 0; min-width: 50%; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e7eb; text-align: left; }
th { background: #f0f4f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0; }
figcaption { color: #616e7c; font-size: 12px; }
svg { max-width: 100%; height: auto; }
footer { margin-top: 32px; color: #616e7c; font-size: 12px; border-top: 1px solid #d9e2ec; padding-top: 8px; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h2>${esc(b.text)}</h2>`;
    case 'paragraph':
      return `<p${b.muted ? ' class="muted"' : ''}>${esc(b.text)}</p>`;
    case 'figures':
      return `<div class="figures">${b.items
        .map(
          (f) =>
            `<div class="figure${f.tone ? ` ${f.tone}` : ''}"><div class="label">${esc(f.label)}</div><div class="value">${esc(f.value)}</div></div>`,
        )
        .join('')}</div>`;
    case 'table': {
      const cls = (i: number): string => (b.numeric[i] ? ' class="num"' : '');
      const head = b.columns.map((c, i) => `<th${cls(i)}>${esc(c)}</th>`).join('');
      const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
      return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
    }
    case 'chart':
      return `<figure>${chartSvg(b.chart)}<figcaption>${esc(b.chart.title)}: ${esc(b.chart.description)}</figcaption></figure>`;
  }
}

export function renderHtml(doc: ReportDocument): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${doc.title} · ${doc.subtitle}`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(doc.title)}</h1>
<p class="subtitle">${esc(doc.subtitle)}</p>
${doc.blocks.map(block).join('\n')}
<footer>${esc(doc.footer)}</footer>
</main>
</body>
</html>
`;
}
