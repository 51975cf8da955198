import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startHub, type RunningHub } from '@flotilla/hub';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from '../main.js';
import { DevicePaths } from '../provision/cloud-init.js';
import { testIo } from '../testing/io.js';
import { execStart, fileOf, parseEnvFile, parseUserData, unitSettings } from '../testing/user-data.js';

// provision against a hub serving TLS with its own CA: the CA is embedded, and the agent's own
// executable, started in a process of its own the way systemd starts the unit (ExecStart= words,
// EnvironmentFile= and Environment= variables), verifies the hub with it and enrolls.
const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-provision-tls-'));
const config = join(dir, 'config');
const PASSWORD = 'provision-tls-admin-password';
const agentBin = fileURLToPath(new URL('./bin.js', import.meta.resolve('@flotilla/agent')));
let hub: RunningHub;
let agent: ChildProcess | undefined;

before(async () => {
  hub = await startHub({
    port: 0,
    // Port 1883 belongs to the machine's Mosquitto.
    mqttPort: false,
    host: '127.0.0.1',
    dataDir: join(dir, 'hub'),
    logLevel: 'silent',
    adminPassword: PASSWORD,
    tls: true,
  });
  // This process (the CLI and the test's own client) trusts the hub CA as an operator would
  // with NODE_EXTRA_CA_CERTS.
  setDefaultCACertificates([...getCACertificates('default'), hub.tls?.ca ?? '']);
  const io = testIo({ env: { FLOTILLA_CONFIG_DIR: config }, stdin: `${PASSWORD}\n` });
  assert.equal(await main(['login', '--hub', hub.url, '--username', 'admin'], io), 0, io.err());
});
after(async () => {
  agent?.kill('SIGKILL');
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the hub CA is embedded and the unit, run as systemd would, enrolls over WSS', { timeout: 30_000 }, async () => {
  assert.match(hub.url, /^https:/);
  const io = testIo({ env: { FLOTILLA_CONFIG_DIR: config } });
  assert.equal(await main(['provision', '--type', 'tonypi', '--labels', 'site=roof'], io), 0, io.err());
  const userData = parseUserData(io.out());
  const ca = fileOf(userData, DevicePaths.ca).content;
  assert.equal(ca, hub.tls?.ca.endsWith('\n') ? hub.tls.ca : `${hub.tls?.ca}\n`);

  const unit = fileOf(userData, DevicePaths.unit).content;
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca);
  // The unit's environment: EnvironmentFile, FLOTILLA_DEVICE_ID from the install script, Environment= lines.
  const env: Record<string, string> = {
    ...parseEnvFile(fileOf(userData, DevicePaths.config).content),
    FLOTILLA_DEVICE_ID: 'roof-robot',
  };
  for (const line of unitSettings(unit).environment) {
    const [name = '', value = ''] = line.split(/=(.*)/s);
    if (name !== 'PATH') env[name] = value === DevicePaths.ca ? caFile : value;
  }
  assert.equal(env['NODE_EXTRA_CA_CERTS'], caFile);
  const { executable, args } = execStart(unit, env);
  assert.equal(executable, DevicePaths.bin);
  const state = join(dir, 'agent-state');
  agent = spawn(
    process.execPath,
    [agentBin, ...args.map((a) => (a === DevicePaths.state ? state : a === DevicePaths.ca ? caFile : a))],
    {
      env: { ...env, PATH: process.env['PATH'] ?? '', FLOTILLA_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  agent.stderr?.on('data', (chunk: Buffer) => (stderr += String(chunk)));

  const admin = new FlotillaClient({ baseUrl: hub.url });
  await admin.login('admin', PASSWORD);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const device = await admin.getDevice('roof-robot').catch(() => undefined);
    // The token's labels are written with the connection: online means labelled.
    if (device?.status.online) {
      assert.deepEqual(device.labels, { type: 'tonypi', site: 'roof' });
      break;
    }
    if (Date.now() > deadline || agent.exitCode !== null)
      throw new Error(`the provisioned agent never came online; its stderr:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent?.once('exit', resolve));
});
