import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SECURITY_DOC, withMatrix } from './security-doc.js';

test('docs/security.md holds the permissions matrix of permissions.ts', () => {
  const doc = readFileSync(SECURITY_DOC, 'utf8');
  assert.equal(doc, withMatrix(doc), 'docs/security.md is stale: run `node packages/hub/dist/auth/security-doc.js`');
});

test('a document without the markers is reported, not silently left alone', () => {
  assert.throws(() => withMatrix('# nothing here\n'), /markers/);
});
