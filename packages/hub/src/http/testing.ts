import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { ManualClock, type Device, type HelloPayload } from '@flotilla/protocol';
import { resolveHubConfig, type HubOptions } from '../config.js';
import { assembleHub, type HubParts } from '../hub.js';
import { DisconnectReasons } from '../registry/projection.js';
import { createTestTarget } from '../storage/testing.js';
import type { Engine } from '../storage/types.js';
import type { Role } from '../auth/permissions.js';

/**
 * A whole hub (real registry, real storage on either engine, the real app) for tests that
 * drive the HTTP API with `app.inject()`. Time is a ManualClock, so event timestamps are
 * whatever the test makes them. Tests only.
 */
export interface TestHub extends HubParts {
  readonly clock: ManualClock;
  /** A bearer token (JWT) of user `admin`, who logged in with TEST_ADMIN_PASSWORD. */
  readonly adminToken: string;
  /** `app.inject` as `admin`: adds the admin's bearer token unless the request sets `authorization`. */
  inject(options: InjectOptions | string): Promise<LightMyRequestResponse>;
  /** Creates user `<role>-<n>` with that role, logs them in and returns their bearer token. */
  tokenFor(role: Role): Promise<string>;
  /** Closes the hub and removes its data (temporary directory or database). */
  dispose(): Promise<void>;
}

export const TEST_START = Date.UTC(2024, 0, 1);
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export async function openTestHub(engine: Engine, options: HubOptions = {}): Promise<TestHub> {
  const target = await createTestTarget(engine);
  const clock = new ManualClock(TEST_START);
  const { dataDir, databaseUrl } = target.options;
  const config = resolveHubConfig({
    dataDir,
    databaseUrl,
    logLevel: 'silent',
    adminPassword: TEST_ADMIN_PASSWORD,
    ...options,
  });
  const logger = options.logger ?? pino({ level: process.env['FLOTILLA_TEST_LOG_LEVEL'] ?? 'silent' });
  let parts: HubParts;
  try {
    parts = await assembleHub(config, { logger, clock });
  } catch (err) {
    await target.cleanup();
    throw err;
  }
  const context = { address: '127.0.0.1', correlationId: 'test' };
  const login = async (username: string, password: string): Promise<string> =>
    (await parts.identity.login(username, password, context)).token;
  let adminToken: string;
  try {
    adminToken = await login('admin', config.adminPassword ?? TEST_ADMIN_PASSWORD);
  } catch (err) {
    await parts.close();
    await target.cleanup();
    throw err;
  }
  let users = 0;
  const system = { actor: 'system', correlationId: null, causationId: null };
  return {
    ...parts,
    clock,
    adminToken,
    inject(options) {
      const opts: InjectOptions = typeof options === 'string' ? { url: options } : options;
      const headers = { authorization: `Bearer ${adminToken}`, ...opts.headers };
      return parts.app.inject({ ...opts, headers });
    },
    async tokenFor(role) {
      const username = `${role}-${++users}`;
      const password = `${username}-password`;
      await parts.accounts.createUser({ username, password, role }, system);
      return login(username, password);
    },
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
