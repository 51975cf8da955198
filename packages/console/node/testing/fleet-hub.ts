import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type HubOptions, type RunningHub } from '@flotilla/hub';
import { FlotillaClient } from '@flotilla/sdk';
import { startSimulation, type Simulation } from '@flotilla/sim';
import { consoleDir } from '../index.js';

/**
 * A real hub serving the built console, with a simulated fleet enrolled like real robots, on
 * free ports and without MQTT (the machine's own broker holds 1883). Tests and benchmarks only.
 */
export interface FleetHub {
  readonly url: string;
  readonly hub: RunningHub;
  readonly sim: Simulation;
  readonly adminPassword: string;
  /** A client signed in as admin. */
  readonly admin: FlotillaClient;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'console-admin-password';

export async function startFleetHub(options: {
  count: number;
  kind?: 'mixed' | 'lekiwi' | 'tonypi';
  rate?: number;
  /** Telemetry settings of the hub (a test that needs the time before the first rollup makes them rare). */
  telemetry?: HubOptions['telemetry'];
}): Promise<FleetHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-console-hub-'));
  const hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir,
    adminPassword: ADMIN_PASSWORD,
    logLevel: process.env['FLOTILLA_LOG_LEVEL'] ?? 'silent',
    consoleDir,
    ...(options.telemetry && { telemetry: options.telemetry }),
  });
  let sim: Simulation | undefined;
  try {
    const enrollment = await hub.createEnrollmentToken({ uses: options.count, labels: { simulated: 'true' } });
    sim = await startSimulation({
      hubUrl: hub.url,
      count: options.count,
      kind: options.kind ?? 'mixed',
      token: enrollment.token,
      seed: 7,
      ...(options.rate !== undefined && { rate: options.rate }),
    });
    const admin = new FlotillaClient({ baseUrl: hub.url });
    await admin.login('admin', ADMIN_PASSWORD);
    const running = sim;
    return {
      url: hub.url,
      hub,
      sim: running,
      adminPassword: ADMIN_PASSWORD,
      admin,
      async stop() {
        await running.stop();
        await hub.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await sim?.stop();
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
