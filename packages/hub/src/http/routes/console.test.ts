import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { HubStartError } from '../errors.js';
import { resolveHubConfig } from '../../config.js';
import { json, openTestHub, type ErrorBodyJson, type TestHub } from '../testing.js';

/** The web console as the hub serves it: a built directory (here a small stand-in build). */
const dir = mkdtempSync(join(tmpdir(), 'flotilla-console-'));
const INDEX = '<!doctype html><title>Flotilla</title><script type="module" src="/assets/app-1a2b.js"></script>';
const SCRIPT = 'console.log("flotilla console");';
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), INDEX);
writeFileSync(join(dir, 'assets', 'app-1a2b.js'), SCRIPT);
writeFileSync(join(dir, 'assets', 'app-1a2b.js.gz'), gzipSync(SCRIPT));

let hub: TestHub;
before(async () => {
  hub = await openTestHub('sqlite', { consoleDir: dir });
});
after(async () => {
  await hub?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const anonymous = (url: string, headers: Record<string, string> = {}) =>
  hub.app.inject({ url, headers: { accept: 'text/html', ...headers } });

test('the console page is served at / and at every path the app routes itself, without a token', async () => {
  for (const url of ['/', '/devices/robot-7', '/alerts?status=firing', '/users']) {
    const res = await anonymous(url);
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache', 'a new build is picked up at once');
    assert.equal(res.body, INDEX);
  }
});

test('bundles are public, cached for good, and sent precompressed to browsers that accept it', async () => {
  const plain = await anonymous('/assets/app-1a2b.js');
  assert.equal(plain.statusCode, 200);
  assert.equal(plain.body, SCRIPT);
  assert.match(String(plain.headers['cache-control']), /immutable/);
  const gz = await anonymous('/assets/app-1a2b.js', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.rawPayload.length, gzipSync(SCRIPT).length);
});

test('unknown URLs the server owns keep the API error shape instead of the page', async () => {
  for (const url of ['/api/v1/nothing', '/assets/missing.js', '/ws/nothing', '/metrics/x']) {
    const res = await anonymous(url);
    assert.equal(res.statusCode, 404, url);
    assert.equal(json<ErrorBodyJson>(res).error.code, 'not_found', url);
  }
  // The API and its guards are untouched by the page's wildcard.
  assert.equal((await anonymous('/api/v1/devices')).statusCode, 401);
  assert.equal((await hub.inject({ url: '/api/v1/devices' })).statusCode, 200);
  const docs = await anonymous('/api/docs');
  assert.ok([200, 302].includes(docs.statusCode), String(docs.statusCode));
});

test('a console directory without a build is refused at start with a clear message', () => {
  const empty = mkdtempSync(join(tmpdir(), 'flotilla-console-empty-'));
  try {
    assert.throws(
      () => resolveHubConfig({ consoleDir: empty }),
      (err: unknown) => err instanceof HubStartError && err.code === 'bad_config' && /not built/.test(err.message),
    );
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
