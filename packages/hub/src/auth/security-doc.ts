import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PERMISSIONS, ROLES, roleAllows, type Permission } from './permissions.js';

/**
 * The permissions matrix of docs/security.md, generated from permissions.ts between two markers
 * (security-doc.test.ts fails when the document drifts). Run this file to rewrite the section:
 * `node packages/hub/dist/auth/security-doc.js` after a build.
 */
export const BEGIN = '<!-- permissions:begin (generated from packages/hub/src/auth/permissions.ts) -->';
export const END = '<!-- permissions:end -->';
export const SECURITY_DOC = fileURLToPath(new URL('../../../../docs/security.md', import.meta.url));

export function renderMatrix(): string {
  const header = `| permission | ${ROLES.join(' | ')} | what it allows |`;
  const rule = `| --- | ${ROLES.map(() => ':---:').join(' | ')} | --- |`;
  const rows = (Object.keys(PERMISSIONS) as Permission[]).map(
    (p) => `| \`${p}\` | ${ROLES.map((r) => (roleAllows(r, p) ? '✓' : '')).join(' | ')} | ${PERMISSIONS[p]} |`,
  );
  return [BEGIN, header, rule, ...rows, END].join('\n');
}

/** The document with its generated section replaced; throws when the markers are missing. */
export function withMatrix(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error('docs/security.md lacks the permissions markers');
  return doc.slice(0, start) + renderMatrix() + doc.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SECURITY_DOC, withMatrix(readFileSync(SECURITY_DOC, 'utf8')));
  process.stdout.write('docs/security.md updated\n');
}
