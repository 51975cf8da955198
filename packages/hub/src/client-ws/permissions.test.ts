import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subscriptionPermissions } from './permissions.js';

test('a pattern needs the permissions of every kind of subject it can deliver', () => {
  assert.deepEqual(subscriptionPermissions('flotilla.*.status'), ['devices:read']);
  assert.deepEqual(subscriptionPermissions('flotilla.r1.telemetry'), ['devices:read']);
  assert.deepEqual(subscriptionPermissions('flotilla.*.event.DeviceConnected'), ['events:read']);
  assert.deepEqual(subscriptionPermissions('flotilla.r1.>'), ['devices:read', 'events:read']);
  assert.deepEqual(subscriptionPermissions('flotilla.*.*'), ['devices:read', 'events:read']);
  assert.deepEqual(subscriptionPermissions('>'), ['devices:read', 'events:read']);
});
