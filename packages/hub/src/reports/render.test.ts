import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderPdf, winAnsi } from './pdf.js';
import type { ReportStatistics, ReportSummary } from './schema.js';
import { deterministicSummary } from './summary.js';
import { readPdf, sampleStatistics } from './testing.js';

const meta = { id: 'rep-1', createdAt: Date.UTC(2024, 4, 2, 12), createdBy: 'user:ops', hubVersion: '9.9.9' };

function documentOf(stats: ReportStatistics, summary?: Partial<ReportSummary>) {
  return reportDocument(meta, stats, {
    text: deterministicSummary(stats),
    source: 'deterministic',
    model: null,
    note: null,
    ...summary,
  });
}

test('the HTML report is one self-contained page: summary, figures, tables and inline SVG charts', () => {
  const html = renderHtml(documentOf(sampleStatistics()));
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<h1>Fleet report<\/h1>/);
  assert.match(html, /2024-05-01 12:00 – 2024-05-02 12:00 UTC · selector site=lab/);
  assert.match(html, /2 of 4 devices were offline more than 10% of the time/);
  for (const heading of [
    'Summary',
    'Key figures',
    'Uptime',
    'Alerts',
    'Battery (battery.soc)',
    'Temperature (system.temperature)',
    'Activity',
  ]) {
    assert.ok(html.includes(`<h2>${heading}</h2>`), heading);
  }
  assert.equal((html.match(/<svg /g) ?? []).length, 3, 'uptime, battery and temperature charts');
  assert.match(html, /<rect [^>]*fill="#c92a2a"\/>|<text [^>]*>r3<\/text>/, 'the device offline all along is drawn');
  assert.match(html, /<polyline points="[\d., ]+"/, 'a line per run of the series');
  assert.equal((html.match(/<polyline /g) ?? []).length, 4, 'the gap in each series splits its line in two');
  assert.match(html, /stroke-dasharray="4 3"/, 'the threshold');
  assert.match(html, /<td>warning<\/td><td class="num">3<\/td>/);
  assert.match(html, /Report rep-1 · requested by user:ops · generated 2024-05-02 12:00:05 UTC · Flotilla hub 9\.9\.9/);
  // Self-contained: nothing fetched, nothing run.
  assert.doesNotMatch(html, /<script|<link|<img|\ssrc=|url\(|@import/i);
  assert.doesNotMatch(html, /href="http/);
});

test('what devices say about themselves is escaped, in the text and in the charts', () => {
  const stats = sampleStatistics();
  stats.uptime.devices[1] = {
    ...(stats.uptime.devices[1] as ReportStatistics['uptime']['devices'][number]),
    name: '<script>alert(1)</script>',
  };
  const html = renderHtml(documentOf(stats, { text: 'Summary with <b>markup</b> & "quotes"' }));
  assert.doesNotMatch(html, /<script>alert/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /Summary with &lt;b&gt;markup&lt;\/b&gt; &amp; &quot;quotes&quot;/);
});

test('an LLM summary is attributed; a fallback says why', () => {
  const stats = sampleStatistics();
  assert.match(
    renderHtml(documentOf(stats, { text: 'All good.', source: 'llm', model: 'gpt-test' })),
    /Written by the model gpt-test/,
  );
  const fallback = renderHtml(
    documentOf(stats, { note: 'the LLM provider did not answer within 30 s, so this is the deterministic summary.' }),
  );
  assert.match(fallback, /Note: the LLM provider did not answer within 30 s, so this is the deterministic summary\./);
});

test('the PDF is a valid document with the same text, and its charts are vector paths', async () => {
  const pdf = await renderPdf(documentOf(sampleStatistics()), meta);
  const facts = readPdf(pdf);
  assert.equal(facts.version, '1.7');
  assert.ok(facts.pages >= 2 && facts.pages <= 4, `${facts.pages} pages`);
  const text = facts.text.replace(/\n/g, ' ');
  for (const expected of [
    'Fleet report',
    '2024-05-01 12:00 – 2024-05-02 12:00 UTC · selector site=lab',
    'Key figures',
    'Uptime by device',
    'Battery over time',
    'Temperature over time',
    'battery-low on r3',
    'Robot <2>',
    'Busiest devices by commands issued:',
    `page 1 of ${facts.pages}`,
  ]) {
    assert.ok(text.includes(expected), `the PDF shows ${JSON.stringify(expected)}`);
  }
  const ops = facts.streams.join('\n');
  assert.ok((ops.match(/ l\n/g) ?? []).length > 100, 'lines drawn as paths (l operators)');
  assert.match(ops, /\/Gs\d+ gs/, 'the bands are transparent');
  assert.doesNotMatch(pdf.toString('latin1'), /\/Subtype \/Image/, 'no raster image');
  // The same report renders to the same bytes: the creation date is the report's.
  assert.deepEqual(await renderPdf(documentOf(sampleStatistics()), meta), pdf);
});

test('text the standard fonts cannot show becomes ?, the rest of WinAnsi stays', () => {
  assert.equal(winAnsi('Robot – ünïcode · 30 °C … 机器人 ≥ 5'), 'Robot – ünïcode · 30 °C … ??? ? 5');
});
