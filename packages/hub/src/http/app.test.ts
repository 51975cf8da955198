import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { HUB_VERSION } from '../config.js';
import { ApiError, ApiErrors } from './errors.js';
import { buildApp } from './app.js';
import { json, openTestHub, type TestHub } from './testing.js';

/**
 * The error handler's promises, on an app built with extra routes that fail on purpose: every
 * failure has the `{"error":{"code","message"}}` shape, and a bug's details reach the log (with
 * the request id) but never the client.
 */
describe('error handling', () => {
  let hub: TestHub;
  const logLines: Array<Record<string, unknown>> = [];

  before(async () => {
    hub = await openTestHub('sqlite');
  });
  after(() => hub?.dispose());

  async function appWithFailingRoutes() {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n'))
          if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = await buildApp({
      registry: hub.registry,
      storage: hub.storage,
      metrics: hub.metrics,
      clock: hub.clock,
      logger: pino({ level: 'error' }, sink),
      version: HUB_VERSION,
      startedAt: hub.clock.now(),
      identity: hub.identity,
      accounts: hub.accounts,
    });
    app.get('/test/bug', { config: { public: true } }, async () => {
      throw new Error('secret: connection string postgres://admin:hunter2@db');
    });
    app.get('/test/typed', { config: { public: true } }, async () => {
      throw new ApiError(ApiErrors.BAD_SELECTOR, 'label: nope');
    });
    app.get('/test/foreign-code', { config: { public: true } }, async () => {
      // Another hub part's error that carries a catalogued code (as the registry's do).
      throw Object.assign(new Error('no device x'), { code: 'device_not_found' });
    });
    await app.ready();
    return app;
  }

  test('an unexpected error is a 500 `internal` that reveals nothing but the request id', async () => {
    const app = await appWithFailingRoutes();
    try {
      const res = await app.inject({ url: '/test/bug', headers: { 'x-request-id': 'bug-1' } });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(json(res), { error: { code: 'internal', message: 'internal error (request bug-1)' } });
      assert.ok(!res.body.includes('hunter2'));
      const logged = logLines.find((l) => l['correlationId'] === 'bug-1');
      assert.ok(logged, 'the failure is logged with its request id');
      assert.match(JSON.stringify(logged['err']), /secret: connection string/);
    } finally {
      await app.close();
    }
  });

  test('ApiErrors and catalogued codes from other parts keep their status and code', async () => {
    const app = await appWithFailingRoutes();
    try {
      const typed = await app.inject({ url: '/test/typed' });
      assert.equal(typed.statusCode, 400);
      assert.deepEqual(json(typed), { error: { code: 'bad_selector', message: 'label: nope' } });
      const foreign = await app.inject({ url: '/test/foreign-code' });
      assert.equal(foreign.statusCode, 404);
      assert.deepEqual(json(foreign), { error: { code: 'device_not_found', message: 'no device x' } });
    } finally {
      await app.close();
    }
  });

  test('a malformed URL encoding is a 400 in the same shape', async () => {
    const res = await hub.inject({ url: '/api/v1/devices/%E0%A4%A' });
    assert.equal(res.statusCode, 400);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'bad_request');
  });
});
