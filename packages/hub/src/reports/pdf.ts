import PDFDocument from 'pdfkit';
import type { Chart, Shape } from './charts.js';
import { COLORS } from './charts.js';
import type { Block, ReportDocument, Tone } from './document.js';

/**
 * The report as a PDF (pdfkit): the same blocks as the HTML, with the charts drawn as vector
 * paths. Only the 14 standard fonts are used, so nothing is read from disk or the network; their
 * encoding (WinAnsi) cannot show every character, and the others are printed as `?`.
 */

const MARGIN = 48;
const PAGE = { width: 595.28, height: 841.89 }; // A4 in points
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN;
const TONES: Record<Tone, string> = { good: COLORS.good, warn: COLORS.warn, bad: COLORS.bad };

/** The characters WinAnsiEncoding has beyond Latin-1 (Windows-1252's 0x80 … 0x9F). */
const CP1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** Text the standard fonts can show. */
export function winAnsi(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0) as number;
    const latin1 = (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff);
    out += latin1 || CP1252_EXTRA.has(c) ? c : c === '\n' ? ' ' : '?';
  }
  return out;
}

export async function renderPdf(doc: ReportDocument, meta: { createdAt: number }): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    // 1.4 and later know transparency (the charts' bands).
    pdfVersion: '1.7',
    info: {
      Title: winAnsi(`${doc.title} - ${doc.subtitle}`),
      Creator: 'Flotilla',
      // The report's own time, so the same report renders to the same document.
      CreationDate: new Date(meta.createdAt),
    },
    bufferPages: true,
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    pdf.on('end', resolve);
    pdf.on('error', reject);
  });

  pdf.font('Helvetica-Bold').fontSize(20).fillColor(COLORS.text).text(winAnsi(doc.title));
  pdf.font('Helvetica').fontSize(10).fillColor(COLORS.muted).text(winAnsi(doc.subtitle));
  pdf.moveDown(0.5);
  for (const b of doc.blocks) block(pdf, b);
  footer(pdf, doc.footer);
  pdf.end();
  await ended;
  return Buffer.concat(chunks);
}

function ensureSpace(pdf: PDFKit.PDFDocument, height: number): void {
  if (pdf.y + height > PAGE.height - MARGIN) pdf.addPage();
}

function block(pdf: PDFKit.PDFDocument, b: Block): void {
  pdf.x = MARGIN;
  switch (b.kind) {
    case 'heading':
      ensureSpace(pdf, 60);
      pdf.moveDown(0.6);
      pdf.font('Helvetica-Bold').fontSize(13).fillColor(COLORS.text).text(winAnsi(b.text));
      pdf
        .moveTo(MARGIN, pdf.y + 1)
        .lineTo(MARGIN + CONTENT_WIDTH, pdf.y + 1)
        .lineWidth(0.5)
        .stroke(COLORS.grid);
      pdf.moveDown(0.4);
      return;
    case 'paragraph':
      pdf
        .font('Helvetica')
        .fontSize(b.muted ? 8.5 : 10)
        .fillColor(b.muted ? COLORS.muted : COLORS.text)
        .text(winAnsi(b.text), { width: CONTENT_WIDTH });
      pdf.moveDown(0.3);
      return;
    case 'figures':
      figures(pdf, b.items);
      return;
    case 'table':
      table(pdf, b);
      return;
    case 'chart':
      chart(pdf, b.chart);
      return;
  }
}

function figures(pdf: PDFKit.PDFDocument, items: Extract<Block, { kind: 'figures' }>['items']): void {
  const perRow = 4;
  const gap = 6;
  const w = (CONTENT_WIDTH - gap * (perRow - 1)) / perRow;
  const h = 34;
  for (let i = 0; i < items.length; i += perRow) {
    ensureSpace(pdf, h + gap);
    const top = pdf.y;
    items.slice(i, i + perRow).forEach((f, j) => {
      const x = MARGIN + j * (w + gap);
      pdf.roundedRect(x, top, w, h, 3).lineWidth(0.5).stroke(COLORS.grid);
      pdf
        .font('Helvetica')
        .fontSize(7.5)
        .fillColor(COLORS.muted)
        .text(winAnsi(f.label), x + 6, top + 5, { width: w - 12, lineBreak: false });
      pdf
        .font('Helvetica-Bold')
        .fontSize(12)
        .fillColor(f.tone ? TONES[f.tone] : COLORS.text)
        .text(winAnsi(f.value), x + 6, top + 16, { width: w - 12, lineBreak: false });
    });
    pdf.y = top + h + gap;
  }
  pdf.x = MARGIN;
}

function table(pdf: PDFKit.PDFDocument, b: Extract<Block, { kind: 'table' }>): void {
  const rowHeight = 14;
  const widths = columnWidths(b.columns.length);
  const row = (cells: readonly string[], bold: boolean): void => {
    ensureSpace(pdf, rowHeight);
    const top = pdf.y;
    if (bold) pdf.rect(MARGIN, top, CONTENT_WIDTH, rowHeight).fill('#f0f4f8');
    let x = MARGIN;
    cells.forEach((cell, i) => {
      const w = widths[i] as number;
      pdf
        .font(bold ? 'Helvetica-Bold' : 'Helvetica')
        .fontSize(8.5)
        .fillColor(COLORS.text)
        .text(winAnsi(cell), x + 4, top + 3.5, {
          width: w - 8,
          align: b.numeric[i] ? 'right' : 'left',
          lineBreak: false,
          ellipsis: true,
        });
      x += w;
    });
    pdf
      .moveTo(MARGIN, top + rowHeight)
      .lineTo(MARGIN + CONTENT_WIDTH, top + rowHeight)
      .lineWidth(0.3)
      .stroke(COLORS.grid);
    pdf.y = top + rowHeight;
  };
  row(b.columns, true);
  for (const cells of b.rows) row(cells, false);
  pdf.x = MARGIN;
  pdf.moveDown(0.5);
}

/** The first column (device ids and names) gets more room than the numbers. */
function columnWidths(n: number): number[] {
  if (n === 1) return [CONTENT_WIDTH];
  const first = Math.min(170, CONTENT_WIDTH / 2);
  return [first, ...Array.from({ length: n - 1 }, () => (CONTENT_WIDTH - first) / (n - 1))];
}

function chart(pdf: PDFKit.PDFDocument, c: Chart): void {
  const scale = Math.min(1, CONTENT_WIDTH / c.width);
  ensureSpace(pdf, c.height * scale + 30);
  const top = pdf.y + 4;
  pdf.save();
  pdf.translate(MARGIN, top).scale(scale);
  for (const s of c.shapes) shape(pdf, s);
  pdf.restore();
  pdf.y = top + c.height * scale + 2;
  pdf.x = MARGIN;
  pdf
    .font('Helvetica')
    .fontSize(8)
    .fillColor(COLORS.muted)
    .text(winAnsi(`${c.title}: ${c.description}`), { width: CONTENT_WIDTH });
  pdf.moveDown(0.5);
}

function shape(pdf: PDFKit.PDFDocument, s: Shape): void {
  switch (s.kind) {
    case 'rect':
      pdf.rect(s.x, s.y, s.w, s.h).fill(s.fill);
      return;
    case 'line':
      pdf.moveTo(s.x1, s.y1).lineTo(s.x2, s.y2).lineWidth(s.width);
      if (s.dash) pdf.dash(4, { space: 3 });
      pdf.stroke(s.stroke);
      if (s.dash) pdf.undash();
      return;
    case 'polyline':
    case 'polygon': {
      const [first, ...rest] = s.points;
      if (!first) return;
      pdf.moveTo(first[0], first[1]);
      for (const [x, y] of rest) pdf.lineTo(x, y);
      if (s.kind === 'polyline') {
        pdf.lineWidth(s.width).lineJoin('round').stroke(s.stroke);
      } else {
        pdf.closePath().fillOpacity(s.opacity).fill(s.fill).fillOpacity(1);
      }
      return;
    }
    case 'text': {
      const text = winAnsi(s.text);
      pdf.font('Helvetica').fontSize(s.size).fillColor(s.fill);
      const w = pdf.widthOfString(text);
      const x = s.anchor === 'start' ? s.x : s.anchor === 'middle' ? s.x - w / 2 : s.x - w;
      // Shapes give the baseline; pdfkit places text by the top of its line.
      pdf.text(text, x, s.y - s.size * 0.8, { lineBreak: false });
      return;
    }
  }
}

function footer(pdf: PDFKit.PDFDocument, text: string): void {
  const range = pdf.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    pdf.switchToPage(i);
    // Inside the bottom margin: lift it, or pdfkit would start a new page for the footer.
    const bottom = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0;
    pdf
      .font('Helvetica')
      .fontSize(7)
      .fillColor(COLORS.muted)
      .text(winAnsi(`${text} · page ${i + 1} of ${range.count}`), MARGIN, PAGE.height - MARGIN + 16, {
        width: CONTENT_WIDTH,
        align: 'center',
        lineBreak: false,
      });
    pdf.page.margins.bottom = bottom;
  }
}
