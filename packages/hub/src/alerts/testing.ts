import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoredEvent } from '@flotilla/protocol';
import type { InjectOptions } from 'fastify';
import type { HubOptions } from '../config.js';
import { json, openTestHub, type TestHub } from '../http/testing.js';
import type { Engine } from '../storage/types.js';
import type { AlertDetail } from './service.js';
import type { AlertView, RuleView } from './views.js';

/** Helpers for the alerts tests: rules and alerts through the real API, telemetry through the real bus. Tests only. */

/**
 * A test hub whose `inject` uses an admin API token: alert tests move the clock by hours, past
 * the life of a login's JWT.
 */
export async function openAlertsTestHub(engine: Engine, options: HubOptions = {}): Promise<TestHub> {
  const hub = await openTestHub(engine, { mqttPort: false, ...options });
  const res = await hub.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'alerts-tests' } });
  assert.equal(res.statusCode, 201, res.body);
  const token = json<{ token: string }>(res).token;
  return {
    ...hub,
    inject(options) {
      const opts: InjectOptions = typeof options === 'string' ? { url: options } : options;
      return hub.app.inject({ ...opts, headers: { authorization: `Bearer ${token}`, ...opts.headers } });
    },
  };
}

export async function createRule(hub: TestHub, body: Record<string, unknown>): Promise<RuleView> {
  const res = await hub.inject({ method: 'POST', url: '/api/v1/alert-rules', payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return json<RuleView>(res);
}

/** What a device's telemetry looks like on the bus (the gateways publish it so), stamped now. */
export function sendTelemetry(hub: TestHub, device: string, metrics: Record<string, number>, ts?: number): void {
  hub.bus.publish(`flotilla.${device}.telemetry`, { ts: ts ?? hub.clock.now(), metrics });
}

export async function listAlerts(hub: TestHub, query = ''): Promise<AlertView[]> {
  const res = await hub.inject(`/api/v1/alerts${query ? `?${query}` : ''}`);
  assert.equal(res.statusCode, 200, res.body);
  return json<{ items: AlertView[] }>(res).items;
}

/** The alerts of one rule, newest first. */
export function alertsOf(hub: TestHub, rule: RuleView, extra = ''): Promise<AlertView[]> {
  return listAlerts(hub, `rule=${rule.id}${extra ? `&${extra}` : ''}`);
}

export async function getAlert(hub: TestHub, id: string): Promise<AlertDetail> {
  const res = await hub.inject(`/api/v1/alerts/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return json<AlertDetail>(res);
}

export function historyTypes(detail: { history: StoredEvent[] }): string[] {
  return detail.history.map((event) => `${event.type} by ${event.metadata.actor}`);
}

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real local HTTP server standing in for a webhook receiver: answers `statuses` in turn (the last one repeats). */
export async function webhookReceiver(statuses: number[]): Promise<{
  url: string;
  received: ReceivedHook[];
  close(): Promise<void>;
}> {
  const received: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = statuses[Math.min(received.length, statuses.length) - 1] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
