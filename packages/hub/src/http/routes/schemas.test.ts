import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { halDocuments, type CapabilityDocument } from '@flotilla/protocol';
import { json, openTestHub, type ErrorBodyJson, type TestHub } from '../testing.js';

describe('HAL schemas', () => {
  let hub: TestHub;
  before(async () => {
    hub = await openTestHub('sqlite');
  });
  after(() => hub?.dispose());

  test('GET /api/v1/schemas serves the whole catalogue as JSON Schema, readable by a viewer', async () => {
    const res = await hub.app.inject({
      url: '/api/v1/schemas',
      headers: { authorization: `Bearer ${await hub.tokenFor('viewer')}` },
    });
    assert.equal(res.statusCode, 200);
    const { items } = json<{ items: CapabilityDocument[] }>(res);
    assert.deepEqual(items, JSON.parse(JSON.stringify(halDocuments())));
    const estop = items.find((c) => c.name === 'hal.v1.estop');
    assert.equal(estop?.commands['engage']?.priority, 'critical');
    assert.deepEqual(estop?.commands['engage']?.args, { additionalProperties: false, type: 'object', properties: {} });
  });

  test('GET /api/v1/schemas/{name} serves one, 404 schema_not_found for others', async () => {
    const one = await hub.inject({ url: '/api/v1/schemas/hal.v1.motor.differential' });
    assert.equal(one.statusCode, 200);
    const drive = json<CapabilityDocument>(one).commands['drive'];
    assert.deepEqual(drive?.args['required'], ['left', 'right']);
    const missing = await hub.inject({ url: '/api/v1/schemas/hal.v9.warp' });
    assert.equal(missing.statusCode, 404);
    assert.equal(json<ErrorBodyJson>(missing).error.code, 'schema_not_found');
    assert.equal((await hub.app.inject({ url: '/api/v1/schemas' })).statusCode, 401);
  });
});
