import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { ManualClock, type Device, type HelloPayload } from '@flotilla/protocol';
import { resolveHubConfig, type HubOptions } from '../config.js';
import { assembleHub, type HubParts } from '../hub.js';
import { DisconnectReasons } from '../registry/projection.js';
import { createTestTarget } from '../storage/testing.js';
import type { Engine } from '../storage/types.js';

/**
 * A whole hub (real registry, real storage on either engine, the real app) for tests that
 * drive the HTTP API with `app.inject()`. Time is a ManualClock, so event timestamps are
 * whatever the test makes them. Tests only.
 */
export interface TestHub extends HubParts {
  readonly clock: ManualClock;
  /** Closes the hub and removes its data (temporary directory or database). */
  dispose(): Promise<void>;
}

export const TEST_START = Date.UTC(2024, 0, 1);

export async function openTestHub(engine: Engine, options: HubOptions = {}): Promise<TestHub> {
  const target = await createTestTarget(engine);
  const clock = new ManualClock(TEST_START);
  const { dataDir, databaseUrl } = target.options;
  const config = resolveHubConfig({ dataDir, databaseUrl, logLevel: 'silent', ...options });
  const logger = pino({ level: process.env['FLOTILLA_TEST_LOG_LEVEL'] ?? 'silent' });
  let parts: HubParts;
  try {
    parts = await assembleHub(config, { logger, clock });
  } catch (err) {
    await target.cleanup();
    throw err;
  }
  return {
    ...parts,
    clock,
    async dispose() {
      await parts.close();
      await target.cleanup();
    },
  };
}

/** Registers and connects a device through the registry's own API; returns its session id. */
export async function connectDevice(hub: HubParts, id: string, hello: HelloPayload = {}): Promise<string> {
  const sessionId = randomUUID();
  await hub.registry.connect({ id, hello, sessionId, transport: 'ws' });
  return sessionId;
}

export async function disconnectDevice(hub: HubParts, id: string, sessionId: string): Promise<void> {
  await hub.registry.disconnect(id, sessionId, DisconnectReasons.SOCKET_CLOSED);
}

/** JSON body of an injected response, typed by the caller. */
export function json<T = Record<string, unknown>>(response: { body: string }): T {
  return JSON.parse(response.body) as T;
}

export interface DeviceListBody {
  items: Device[];
  nextCursor: string | null;
}

export interface ErrorBodyJson {
  error: { code: string; message: string };
}
