import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '@flotilla/sdk';
import type { StoredEvent } from '@flotilla/protocol';
import {
  cliProcesses,
  createEnrollmentToken,
  login,
  startHubProcess,
  stopProcess as stop,
  until,
} from './testing/hub-process.js';

// The core issue's acceptance, end to end with the built command in separate processes: a hub
// with a simulated fleet of 12, a real agent killed with SIGKILL, Ctrl-C, and a restart on the
// same data directory. Waiting here is for real processes and sockets (bounded), never for time.
const ADMIN_PASSWORD = 'acceptance-admin-password';
const env = { ...process.env, FLOTILLA_LOG_LEVEL: 'silent', NO_COLOR: '1', FLOTILLA_ADMIN_PASSWORD: ADMIN_PASSWORD };
const root = mkdtempSync(join(tmpdir(), 'flotilla-accept-'));
const dataDir = join(root, 'hub');
const processes = cliProcesses(env);
const run = processes.run;
after(() => {
  processes.killAll();
  rmSync(root, { recursive: true, force: true });
});

function startHub(): ReturnType<typeof startHubProcess> {
  return startHubProcess(processes, [
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data',
    dataDir,
    '--sim',
    '12',
    '--heartbeat-interval',
    '1s',
    // Port 1883 belongs to the machine's Mosquitto.
    '--mqtt-port',
    '0',
  ]);
}

/** Logs in as `admin` and returns a client with the access token. */
async function adminClient(url: string): Promise<{ client: FlotillaClient; token: string }> {
  const token = await login(url, 'admin', ADMIN_PASSWORD);
  return { client: new FlotillaClient({ baseUrl: url, token }), token };
}

const enrollmentToken = createEnrollmentToken;

async function onlineIds(client: FlotillaClient): Promise<string[]> {
  const page = await client.listDevices({ online: true, limit: 1000 });
  return page.items.map((d) => d.id);
}

test(
  '12 simulated robots online; a killed agent goes offline with DeviceDisconnected; restart keeps everything',
  { timeout: 90_000 },
  async () => {
    const first = await startHub();
    const { client, token: adminToken } = await adminClient(first.url);
    const twelve = await until('12 robots online', async () => {
      const ids = await onlineIds(client);
      return ids.length === 12 ? ids : undefined;
    });

    const enroll = await enrollmentToken(first.url, adminToken, { uses: 1, labels: { role: 'acceptance' } });
    const agentState = join(root, 'agent');
    const agent = run(['agent', '--hub', first.url, '--id', 'accept-agent', '--state', agentState, '--token', enroll]);
    await until('the agent online', async () =>
      (await client.getDevice('accept-agent')).status.online ? true : undefined,
    );
    assert.deepEqual((await client.getDevice('accept-agent')).labels, { role: 'acceptance' });
    // The agent keeps the credential it got at enrollment, readable by its user only.
    // The hub counts the device online when it sends `welcome`; the agent writes the credential
    // it carries just after, so wait for the file rather than race it.
    const identity = join(agentState, 'identity.json');
    const credential = await until('the agent to store its credential', async () =>
      existsSync(identity)
        ? (JSON.parse(readFileSync(identity, 'utf8')) as { credential?: string }).credential
        : undefined,
    );
    assert.match(credential, /^fld_/);
    assert.equal(statSync(identity).mode & 0o777, 0o600);
    assert.equal(await stop(agent, 'SIGKILL'), null, 'the agent was killed, not stopped');
    const disconnected = await until('DeviceDisconnected of the killed agent', async () => {
      const events = await client.listEvents({ device: 'accept-agent', type: ['DeviceDisconnected'] });
      return events.items[0];
    });
    assert.equal((await client.getDevice('accept-agent')).status.online, false);
    assert.equal(disconnected.metadata.actor, 'device:accept-agent');

    const before: StoredEvent[] = [];
    for await (const e of client.iterateEvents({ limit: 500 })) before.push(e);
    assert.equal(await stop(first.child, 'SIGINT'), 0, 'Ctrl-C stops the hub and its fleet cleanly');

    // The fleet's credentials are in the data directory: after the restart the robots present
    // them (the hub would refuse its new enrollment token for ids that are enrolled already).
    assert.equal(statSync(join(dataDir, 'sim-credentials.json')).mode & 0o777, 0o600);
    const second = await startHub();
    const { client: again } = await adminClient(second.url);
    const back = await until('the robots reconnect after the restart', async () => {
      const ids = await onlineIds(again);
      return ids.length === 12 ? ids : undefined;
    });
    assert.deepEqual(back, twelve);
    const agentAfter = await again.getDevice('accept-agent');
    assert.equal(agentAfter.status.online, false, 'the killed agent is still known, and offline');
    const after: StoredEvent[] = [];
    for await (const e of again.iterateEvents({ limit: 500 })) after.push(e);
    assert.deepEqual(
      after.slice(0, before.length),
      before,
      'every event from before the restart is still there, unchanged',
    );
    assert.equal(await stop(second.child, 'SIGINT'), 0);
  },
);
