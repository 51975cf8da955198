import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { ManualClock } from '@flotilla/protocol';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { resolveHubConfig, type HubOptions } from '../config.js';
import { eventually } from '../gateway/testing.js';
import { assembleHub, type HubParts } from '../hub.js';
import { TEST_ADMIN_PASSWORD, TEST_START } from '../http/testing.js';
import { createTestDatabase } from '../storage/testing.js';
import { NatsSubjects } from './subjects.js';

/**
 * Test helpers for hubs sharing a fleet over the machine's NATS (127.0.0.1:4222, JetStream on)
 * and one PostgreSQL test database. Each fleet gets its own subject prefix and KV buckets, so
 * tests running in parallel never see each other; `dispose` removes the buckets and the database.
 */

export const TEST_NATS_URL = process.env['FLOTILLA_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A prefix no other test uses. */
export function testNatsPrefix(): string {
  return `t${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Removes the KV buckets of a test fleet. */
export async function destroyFleetBuckets(prefix: string): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    const subjects = new NatsSubjects(prefix);
    const kvm = new Kvm(nc);
    for (const name of ['presence', 'hubs']) {
      const kv = await kvm.open(subjects.bucket(name)).catch(() => undefined);
      await kv?.destroy().catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

export interface ClusterHub extends HubParts {
  readonly clock: ManualClock;
  /** `ws://127.0.0.1:<port>` of the listening app. */
  readonly wsUrl: string;
  readonly adminToken: string;
  inject(options: InjectOptions | string): Promise<LightMyRequestResponse>;
}

export interface TestCluster {
  readonly hubs: ClusterHub[];
  readonly prefix: string;
  readonly databaseUrl: string;
  dispose(): Promise<void>;
}

/** `count` hubs (ManualClocks, listening on free ports) on one NATS prefix and one database. */
export async function openTestCluster(count: number, options: HubOptions = {}): Promise<TestCluster> {
  const database = await createTestDatabase();
  const prefix = testNatsPrefix();
  const hubs: ClusterHub[] = [];
  const dispose = async (): Promise<void> => {
    for (const hub of hubs.splice(0).reverse()) await hub.close().catch(() => undefined);
    await destroyFleetBuckets(prefix).catch(() => undefined);
    await database.drop();
  };
  try {
    for (let i = 0; i < count; i++) {
      const clock = new ManualClock(TEST_START);
      const config = resolveHubConfig({
        databaseUrl: database.url,
        logLevel: 'silent',
        adminPassword: TEST_ADMIN_PASSWORD,
        mqttPort: false,
        deviceAuth: false,
        natsUrl: TEST_NATS_URL,
        natsPrefix: prefix,
        // ManualClocks never beat by themselves: a TTL longer than any test keeps every hub in
        // the fleet (tests call presence.heartbeat and sweep themselves).
        natsPresenceTtlMs: 600_000,
        ...options,
      });
      const logger = pino({ level: process.env['FLOTILLA_TEST_LOG_LEVEL'] ?? 'silent' }).child({ hub: i });
      const parts = await assembleHub(config, { logger, clock });
      await parts.app.listen({ port: 0, host: '127.0.0.1' });
      const address = parts.app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const context = { address: '127.0.0.1', correlationId: 'test' };
      const { token } = await parts.identity.login('admin', TEST_ADMIN_PASSWORD, context);
      hubs.push({
        ...parts,
        clock,
        wsUrl: `ws://127.0.0.1:${port}`,
        adminToken: token,
        inject(request) {
          const opts: InjectOptions = typeof request === 'string' ? { url: request } : request;
          return parts.app.inject({ ...opts, headers: { authorization: `Bearer ${token}`, ...opts.headers } });
        },
      });
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { hubs, prefix, databaseUrl: database.url, dispose };
}

/**
 * The cluster's leader and one follower. Each hub tried for the leadership once as it started
 * (ManualClocks: no timer beats again by itself); under load a try can time out, so this beats
 * until one leads.
 */
export async function leaderAndFollower(cluster: TestCluster): Promise<[ClusterHub, ClusterHub]> {
  await eventually(
    async () => {
      for (const hub of cluster.hubs) await hub.nats?.presence.heartbeat();
      return cluster.hubs.some((hub) => hub.nats?.presence.isLeader);
    },
    'a leader',
    30_000,
  );
  return [...cluster.hubs].sort((x, y) => Number(y.nats?.presence.isLeader) - Number(x.nats?.presence.isLeader)) as [
    ClusterHub,
    ClusterHub,
  ];
}
