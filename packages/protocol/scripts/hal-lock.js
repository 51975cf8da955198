// Records the HAL catalogue's capability versions in hal.lock.json, refusing breaking changes
// to published ones (packages/protocol/src/hal/lock.ts). Run after `npm run build`:
//   npm run hal:lock -w @flotilla/protocol
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { halDocuments, updateLock } from '../dist/index.js';

const file = new URL('../hal.lock.json', import.meta.url);
const lock = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
try {
  const next = updateLock(lock, halDocuments());
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`hal.lock.json: ${Object.keys(next).length} capabilities recorded`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
