import assert from 'node:assert/strict';
import { startHub } from './hub.js';
import type { HubOptions } from './config.js';
import { HubStartError } from './http/errors.js';

/** Starts a hub that must fail: resolves with its HubStartError, checked to be one line. Tests only. */
export async function startFailure(options: HubOptions): Promise<HubStartError> {
  try {
    const hub = await startHub(options);
    await hub.close();
  } catch (err) {
    assert.ok(err instanceof HubStartError, String(err));
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err;
  }
  assert.fail('startHub should have failed');
}
