import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ApiErrors, ClientWsErrors, HubStartErrorCodes } from './errors.js';

/**
 * Every code a client or operator can see is documented in docs/api.md, and every code the doc
 * lists exists (fastify checks its FST_ERR catalogue against its docs the same way).
 */
const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');

/** Codes in the first column of the table under a heading. */
function documentedCodes(heading: string): Map<string, string[]> {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/api.md has a "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, string[]>();
  // Table rows: `| \`code\` | cell | cell |`, however the columns are padded.
  for (const m of section.matchAll(/^\|\s*`([a-z_]+)`\s*\|([^\n]*)$/gm)) {
    rows.set(
      m[1] as string,
      (m[2] as string).split('|').map((cell) => cell.trim()),
    );
  }
  return rows;
}

test('every HTTP error code is documented with its status, and nothing else is', () => {
  const documented = documentedCodes('Errors');
  for (const spec of Object.values(ApiErrors)) {
    const row = documented.get(spec.code);
    assert.ok(row, `docs/api.md documents ${spec.code}`);
    assert.equal(row[0], String(spec.statusCode), `${spec.code} is documented with status ${spec.statusCode}`);
  }
  const codes = new Set<string>(Object.values(ApiErrors).map((s) => s.code));
  for (const code of documented.keys()) assert.ok(codes.has(code), `${code} in docs/api.md exists in the catalogue`);
});

test('every /ws/client error code of the hub is documented', () => {
  const documented = documentedCodes('Live stream errors');
  for (const code of Object.values(ClientWsErrors)) assert.ok(documented.has(code), `docs/api.md documents ${code}`);
});

test('every start-up error code is documented', () => {
  const documented = documentedCodes('Start-up errors');
  const codes = new Set<string>(Object.values(HubStartErrorCodes));
  for (const code of codes) assert.ok(documented.has(code), `docs/api.md documents ${code}`);
  for (const code of documented.keys())
    assert.ok(codes.has(code), `${code} in docs/api.md exists in HubStartErrorCodes`);
});
