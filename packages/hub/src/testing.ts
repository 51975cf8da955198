/**
 * Helpers for other packages' tests that run real hubs (`@flotilla/hub/testing`): a private
 * PostgreSQL database, and the NATS prefix and KV buckets of a test fleet. Never used by a hub.
 */
export { createTestDatabase, type TestDatabase } from './storage/testing.js';
export { TEST_NATS_URL, destroyFleetBuckets, testNatsPrefix } from './nats/testing.js';
