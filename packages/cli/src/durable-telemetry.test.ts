import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { Agent, silentLogger, TELEMETRY_DROPPED_EVENT, type AgentOptions } from '@flotilla/agent';
import { ManualClock } from '@flotilla/protocol';
import { FlotillaClient } from '@flotilla/sdk';
import {
  cliProcesses,
  createEnrollmentToken,
  login,
  startHubProcess,
  stopProcess,
  until,
} from './testing/hub-process.js';

// Issue 4's acceptance for "nothing lost, nothing doubled", end to end: a hub in a child process
// on SQLite, real agents with their on-disk telemetry buffers in this process. Waiting is for
// real processes, sockets and writes (bounded), never for time.
const ADMIN_PASSWORD = 'durable-admin-password';
const env = { ...process.env, FLOTILLA_LOG_LEVEL: 'silent', NO_COLOR: '1', FLOTILLA_ADMIN_PASSWORD: ADMIN_PASSWORD };
const root = mkdtempSync(join(tmpdir(), 'flotilla-durable-'));
const processes = cliProcesses(env);
const agents: Agent[] = [];
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  processes.killAll();
  rmSync(root, { recursive: true, force: true });
});

function hubArgs(dataDir: string, port: number): string[] {
  // Port 1883 belongs to the machine's Mosquitto.
  return ['--port', String(port), '--host', '127.0.0.1', '--data', dataDir, '--mqtt-port', 'off'];
}

function agent(options: Partial<AgentOptions> & { hubUrl: string; id: string }): Agent {
  const a = new Agent({
    stateDir: join(root, 'agents', options.id),
    systemFacts: false,
    collectSystemMetrics: false,
    logger: silentLogger,
    backoff: { baseMs: 100, capMs: 1000 },
    ...options,
  });
  agents.push(a);
  return a;
}

/** Every stored point of `metric`, oldest first (raw, so a duplicate would show twice). */
async function stored(client: FlotillaClient, id: string, metric: string, from: number, to: number) {
  const series = await client.telemetry(id, { metric, from, to, limit: 10_000 });
  assert.equal(series.truncated, false);
  return series.points;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

test(
  'SIGKILL of the hub while 100 agents stream: every acknowledged point is stored once, the buffers deliver the rest',
  { timeout: 120_000 },
  async () => {
    const dataDir = join(root, 'hub-kill');
    const first = await startHubProcess(processes, hubArgs(dataDir, 0));
    const token = await createEnrollmentToken(first.url, await login(first.url, 'admin', ADMIN_PASSWORD), {
      uses: 100,
    });
    const fleet = Array.from({ length: 100 }, (_, i) =>
      agent({ hubUrl: first.url, id: `durable-${String(i).padStart(3, '0')}`, token }),
    );
    for (const a of fleet) a.start();

    // Each device's n-th message is {counter: n} at start + n: what was produced is known exactly.
    const start = Date.now() - 60_000;
    const produced = new Map(fleet.map((a) => [a.id, 0]));
    const produce = (): void => {
      for (const a of fleet) {
        const n = produced.get(a.id)!;
        a.sendTelemetry({ counter: n }, undefined, start + n);
        produced.set(a.id, n + 1);
      }
    };
    let producer = setInterval(produce, 20);
    try {
      await until('every agent acknowledged 20 messages', async () =>
        fleet.every((a) => a.telemetryStats.acknowledged >= 20) ? true : undefined,
      );
      assert.equal(await stopProcess(first.child, 'SIGKILL'), null, 'killed mid-stream');
      await until('every agent sees the hub gone', async () =>
        fleet.every((a) => a.state !== 'Connected') ? true : undefined,
      );
      // What each agent saw acknowledged: acknowledged records are gone from its buffer and never
      // sent again, so finding them stored at the end proves they survived the kill.
      const ackedAtKill = new Map(fleet.map((a) => [a.id, a.telemetryStats.acknowledged]));
      const producedAtKill = new Map(produced);
      await until('every agent buffered 20 more messages offline', async () =>
        fleet.every((a) => produced.get(a.id)! >= producedAtKill.get(a.id)! + 20) ? true : undefined,
      );

      const second = await startHubProcess(processes, hubArgs(dataDir, first.port));
      const producedAtRestart = new Map(produced);
      await until(
        'the offline backlog of every agent acknowledged',
        async () =>
          fleet.every((a) => a.telemetryStats.acknowledged >= producedAtRestart.get(a.id)!) ? true : undefined,
        60_000,
      );
      clearInterval(producer);
      producer = undefined as unknown as NodeJS.Timeout;
      await until('everything produced acknowledged', async () =>
        fleet.every((a) => a.telemetryStats.acknowledged === produced.get(a.id)) ? true : undefined,
      );

      const client = new FlotillaClient({
        baseUrl: second.url,
        token: await login(second.url, 'admin', ADMIN_PASSWORD),
      });
      for (const a of fleet) {
        const n = produced.get(a.id)!;
        assert.ok(ackedAtKill.get(a.id)! >= 20 && ackedAtKill.get(a.id)! < n, `${a.id} acked some before the kill`);
        const points = await stored(client, a.id, 'counter', start, start + n);
        assert.deepEqual(
          points,
          Array.from({ length: n }, (_, i) => ({ ts: start + i, value: i })),
          `${a.id}: every message produced, once, with its own time`,
        );
        assert.equal(a.telemetryStats.dropped, 0);
      }
      await Promise.all(fleet.map((a) => a.stop()));
      assert.equal(await stopProcess(second.child, 'SIGINT'), 0);
    } finally {
      if (producer) clearInterval(producer);
    }
  },
);

test(
  'an agent offline for ten minutes delivers every point in order with its time; at the cap the oldest are dropped and counted',
  { timeout: 90_000 },
  async () => {
    const dataDir = join(root, 'hub-offline');
    const port = await freePort();
    // Enroll both devices, then take the hub down.
    const first = await startHubProcess(processes, hubArgs(dataDir, port));
    const hubUrl = first.url;
    const token = await createEnrollmentToken(hubUrl, await login(hubUrl, 'admin', ADMIN_PASSWORD), { uses: 2 });
    const clock = new ManualClock(Date.now() - 30 * 60_000);
    const offline = agent({ hubUrl, id: 'offline-1', token, clock });
    // 0.1 MB: 64 KiB segments, so at most ~100 KiB kept of the ~600 KiB produced below.
    const capped = agent({ hubUrl, id: 'offline-cap', token, clock, telemetryBufferMb: 0.1 });
    for (const a of [offline, capped]) {
      a.start();
      await until(`${a.id} enrolled`, async () => (a.state === 'Connected' ? true : undefined));
    }
    assert.equal(await stopProcess(first.child, 'SIGINT'), 0);
    await until('both agents see the hub gone', async () =>
      offline.state !== 'Connected' && capped.state !== 'Connected' ? true : undefined,
    );

    // Ten minutes offline, one message a second on the agents' clock; the capped one's are larger.
    const since = clock.now();
    const wide = (n: number): Record<string, number> =>
      Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`m${k}`, n * 100 + k]));
    for (let n = 0; n < 600; n++) {
      clock.advance(1000);
      assert.equal(offline.sendTelemetry({ counter: n }), true);
      for (let k = 0; k < 5; k++) {
        const m = n * 5 + k;
        assert.equal(capped.sendTelemetry({ counter: m, ...wide(m) }, undefined, clock.now() + k), true);
      }
      if (n % 50 === 0) await turn(); // let the failing reconnect attempts run
    }
    const cappedStats = capped.telemetryStats;
    assert.ok(cappedStats.dropped > 0, 'the cap was hit');
    assert.ok(cappedStats.bytes <= 0.1 * 1024 * 1024);

    const second = await startHubProcess(processes, hubArgs(dataDir, port));
    // The reconnect timers run on the agents' clock.
    await until(
      'both agents reconnected',
      async () => {
        clock.advance(1000);
        await turn();
        return offline.state === 'Connected' && capped.state === 'Connected' ? true : undefined;
      },
      30_000,
    );
    await until('the buffers delivered', async () =>
      offline.telemetryStats.acknowledged === 600 && capped.telemetryStats.acknowledged === 3000 - cappedStats.dropped
        ? true
        : undefined,
    );

    const client = new FlotillaClient({ baseUrl: second.url, token: await login(second.url, 'admin', ADMIN_PASSWORD) });
    assert.deepEqual(
      await stored(client, 'offline-1', 'counter', since, clock.now() + 1),
      Array.from({ length: 600 }, (_, n) => ({ ts: since + (n + 1) * 1000, value: n })),
      'every point, in order, at the time it was taken, once',
    );
    // The cap dropped the oldest: what is stored is exactly the newest 3000 - dropped, once each.
    const kept = await stored(client, 'offline-cap', 'counter', since, clock.now() + 1);
    const dropped = cappedStats.dropped;
    assert.deepEqual(
      kept.map((p) => p.value),
      Array.from({ length: 3000 - dropped }, (_, i) => dropped + i),
    );
    const report = await until('the drop reported to the hub', async () => {
      const page = await client.listEvents({ device: 'offline-cap', type: 'DeviceReported' });
      return page.items.find((e) => e.data['type'] === TELEMETRY_DROPPED_EVENT);
    });
    assert.equal((report.data['data'] as { total: number }).total, dropped);
    assert.equal((report.data['data'] as { records: number }).records, dropped);
    await Promise.all([offline.stop(), capped.stop()]);
    assert.equal(await stopProcess(second.child, 'SIGINT'), 0);
  },
);
