// Rewrites the generated sections of docs/cli.md: `npm run docs -w @flotilla/cli` after a build.
import { readFileSync, writeFileSync } from 'node:fs';
import { applySections, generatedSections } from './docs.js';

const path = new URL('../../../docs/cli.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = applySections(before, await generatedSections());
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'docs/cli.md is up to date\n' : 'docs/cli.md updated\n');
