// Runs every test of every package on the repository's pinned Node (npm puts
// node_modules/.bin first on PATH, so `node` here is Node 24). Tests are compiled with the
// packages (`npm run build`) and live beside the code as `*.test.ts` → `dist/**/*.test.js`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2); // optional package names: `npm test -- hub agent`

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  if (only.length && !only.includes(pkg)) continue;
  const dist = join(root, 'packages', pkg, 'dist');
  try {
    collect(dist, files);
  } catch {
    // a package without a build has no tests to run
  }
}
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
