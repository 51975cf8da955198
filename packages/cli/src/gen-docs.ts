// Rewrites the generated sections of docs/cli.md, and the configuration table of the README:
// `npm run docs -w @flotilla/cli` after a build.
import { readFileSync, writeFileSync } from 'node:fs';
import { applySections, generatedSections } from './docs.js';

const all = await generatedSections();
const targets: [URL, ReadonlyMap<string, string>][] = [
  [new URL('../../../docs/cli.md', import.meta.url), all],
  [new URL('../../../README.md', import.meta.url), new Map([['hub-flags', all.get('hub-flags') ?? '']])],
];
for (const [path, sections] of targets) {
  const before = readFileSync(path, 'utf8');
  const after = applySections(before, sections);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${path.pathname.split('/').pop()} ${after === before ? 'is up to date' : 'updated'}\n`);
}
