import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applySections, generatedSections } from './docs.js';
import { hubFlagsMarkdown } from './hub-options.js';

const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

test('docs/cli.md holds the current help of every command and the hub flag table', async () => {
  const sections = await generatedSections();
  assert.ok(doc.includes(hubFlagsMarkdown()), 'the hub flag table is in docs/cli.md');
  assert.equal(
    applySections(doc, sections),
    doc,
    'docs/cli.md is stale: run `npm run build && npm run docs -w @flotilla/cli`',
  );
});

test('the README shows the same hub configuration table', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.equal(
    applySections(readme, new Map([['hub-flags', hubFlagsMarkdown()]])),
    readme,
    'README.md configuration table is stale: run `npm run build && npm run docs -w @flotilla/cli`',
  );
});

test('a document without the markers is reported, not silently left alone', async () => {
  assert.throws(
    () => applySections('# nothing here\n', new Map([['hub-flags', 'x']])),
    /lacks the markers of section hub-flags/,
  );
});
