import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAgentArgs } from '@flotilla/agent';
import { startHub, type RunningHub } from '@flotilla/hub';
import { FlotillaClient, type EnrollmentTokenInfo } from '@flotilla/sdk';
import { main } from '../main.js';
import { DevicePaths } from '../provision/cloud-init.js';
import { testIo } from '../testing/io.js';
import { execStart, fileOf, parseEnvFile, parseUserData } from '../testing/user-data.js';

// provision against a real hub, with the login flotilla login stored; then an agent started with
// exactly the arguments of the generated unit enrolls with the token and gets its labels.
const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-provision-'));
const config = join(dir, 'config');
const PASSWORD = 'provision-test-admin-password';
let hub: RunningHub;
let admin: FlotillaClient;

before(async () => {
  hub = await startHub({
    port: 0,
    // Port 1883 belongs to the machine's Mosquitto.
    mqttPort: false,
    host: '127.0.0.1',
    dataDir: join(dir, 'hub'),
    logLevel: 'silent',
    adminPassword: PASSWORD,
  });
  admin = new FlotillaClient({ baseUrl: hub.url });
  await admin.login('admin', PASSWORD);
  const io = testIo({ env: { FLOTILLA_CONFIG_DIR: config }, stdin: `${PASSWORD}\n` });
  assert.equal(await main(['login', '--hub', hub.url, '--username', 'admin'], io), 0, io.err());
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function provision(argv: string[], env: Record<string, string> = {}) {
  const io = testIo({ env: { FLOTILLA_CONFIG_DIR: config, ...env } });
  const code = await main(['provision', ...argv], io);
  return { code, out: io.out(), err: io.err() };
}

/** Polls the hub (real I/O, bounded) until the predicate holds. */
async function until(what: string, predicate: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test(
  'the generated unit starts an agent that enrolls with the token and gets the labels',
  { timeout: 30_000 },
  async () => {
    const r = await provision([
      '--type',
      'xle',
      '--labels',
      'site=lab,zone=b',
      '--uses',
      '2',
      '--expires-in',
      '1h',
      '--id-from',
      'machine-id',
    ]);
    assert.equal(r.code, 0, r.err);
    const [created, loopback] = r.err.split('\n');
    assert.match(
      created ?? '',
      /^Created enrollment token \S+ \(2 uses, expires \S+Z\); the user-data holds it: keep it secret\.$/,
    );
    assert.equal(
      loopback,
      `Devices will connect to ${hub.url}, which is this machine's own address: set --agent-hub URL.`,
    );

    const userData = parseUserData(r.out);
    const env = parseEnvFile(fileOf(userData, DevicePaths.config).content);
    assert.equal(env['FLOTILLA_HUB'], hub.url);
    assert.match(env['FLOTILLA_ENROLLMENT_TOKEN'] ?? '', /^fle_/);
    // No --tls on this hub: no CA in the user-data.
    assert.ok(!userData.write_files.some((f) => f.path === DevicePaths.ca));
    assert.match(
      fileOf(userData, DevicePaths.script).content,
      /device_id=\$\(tr -d '\[:space:\]' < \/etc\/machine-id\)/,
    );

    const tokens = await fetch(`${hub.url}/api/v1/enrollment-tokens`, {
      headers: { authorization: `Bearer ${(await admin.login('admin', PASSWORD)).token}` },
    });
    const { items } = (await tokens.json()) as { items: EnrollmentTokenInfo[] };
    assert.equal(items.length, 1);
    assert.deepEqual(
      [items[0]?.uses, items[0]?.labels, items[0]?.createdBy],
      [2, { type: 'xle', site: 'lab', zone: 'b' }, 'user:admin'],
    );

    // The device id the install script would have written, then ExecStart= as systemd runs it.
    const { args } = execStart(fileOf(userData, DevicePaths.unit).content, {
      ...env,
      FLOTILLA_DEVICE_ID: 'provisioned-1',
    });
    const unitEnv = { ...env, FLOTILLA_DEVICE_ID: 'provisioned-1' };
    const parsed = parseAgentArgs(args, unitEnv);
    assert.ok(parsed.ok && !parsed.help, JSON.stringify(parsed));
    assert.equal(parsed.options.stateDir, DevicePaths.state);
    // The one change: a state directory this test may write instead of /var/lib/flotilla.
    const state = join(dir, 'agent-state');
    const agentArgv = args.map((a) => (a === DevicePaths.state ? state : a));
    // The process environment systemd gives the unit: the EnvironmentFile's variables.
    const io = testIo({ env: { ...unitEnv, FLOTILLA_LOG_LEVEL: 'silent' } });
    const done = main(['agent', ...agentArgv], io);
    await until('the provisioned agent to be online with its labels', async () => {
      const device = await admin.getDevice('provisioned-1').catch(() => undefined);
      return device?.status.online === true && device.labels['type'] === 'xle';
    });
    const device = await admin.getDevice('provisioned-1');
    assert.deepEqual(device.labels, { type: 'xle', site: 'lab', zone: 'b' });
    await until('the credential to be stored', async () =>
      readFileSync(join(state, 'identity.json'), 'utf8').includes('"credential"'),
    );
    io.signal();
    assert.equal(await done, 0, io.err());
  },
);

test('--output writes the user-data with mode 0600, even over an existing readable file', async () => {
  const file = join(dir, 'user-data.yaml');
  writeFileSync(file, 'old', { mode: 0o644 });
  const r = await provision(['--type', 'lekiwi', '--agent-hub', 'https://hub.example.com', '-o', file]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
  assert.match(r.err, /the user-data in .*user-data\.yaml holds it: keep it secret\.\n$/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const env = parseEnvFile(fileOf(parseUserData(readFileSync(file, 'utf8')), DevicePaths.config).content);
  assert.equal(env['FLOTILLA_HUB'], 'https://hub.example.com');
});

test('bad command lines are usage errors; a role without enrollment:manage is refused in one line', async () => {
  const cases: Array<[string[], string]> = [
    [[], 'missing --type TYPE'],
    [['--type', 'xle', '--labels', 'site'], '--labels: "site" is not KEY=VALUE'],
    [['--type', 'xle', '--labels', 'type=mcu'], '--labels: the type label comes from --type'],
    [
      ['--type', 'xle', '--labels', 'site=a b'],
      '--labels: "a b" is not a label value (letters, digits, - _ ., at most 63)',
    ],
    [['--type', 'xle', '--id-from', 'mac'], '--id-from must be one of hostname, machine-id, got "mac"'],
    [['--type', 'xle', '--node-version', '22'], '--node-version must be 24 or 24.x.y, got "22"'],
    [['--type', 'xle', '--expires-in', '400d'], '--expires-in must be from 1m to 366d, got "400d"'],
    [
      ['--type', 'xle', '--agent-package', 'x;reboot'],
      '--agent-package "x;reboot" holds characters a script cannot take',
    ],
  ];
  for (const [argv, message] of cases) {
    const r = await provision(argv);
    assert.deepEqual(
      [r.code, r.err, r.out],
      [2, `flotilla provision: ${message} (see flotilla provision --help)\n`, ''],
    );
  }
  const res = await fetch(`${hub.url}/api/v1/tokens`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${(await admin.login('admin', PASSWORD)).token}`,
    },
    body: JSON.stringify({ name: 'viewer', role: 'viewer' }),
  });
  const { token } = (await res.json()) as { token: string };
  const denied = await provision(['--type', 'xle'], { FLOTILLA_TOKEN: token });
  assert.equal(denied.code, 1);
  assert.match(denied.err, /^flotilla provision: .+\n$/);
  assert.equal(denied.out, '');
});
