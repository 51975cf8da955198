import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseAgentArgs } from '@flotilla/agent';
import { DEVICE_ID_PATTERN } from '@flotilla/protocol';
import { execStart, fileOf, parseEnvFile, parseUserData, unitSettings } from '../testing/user-data.js';
import { DevicePaths, agentArgs, renderUserData, type UserDataInit } from './cloud-init.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\n-----END CERTIFICATE-----\n';
const base: UserDataInit = {
  hubUrl: 'https://hub.example.com:8443',
  enrollmentToken: 'fle_AbC-123_xyz',
  summary: 'test user-data',
  agentTakesCa: false,
  idFrom: 'hostname',
  agentPackage: '@flotilla/agent@0.1.0',
  nodeVersion: '24',
};

test('the user-data is a #cloud-config document with the config, unit and install script', () => {
  const config = parseUserData(renderUserData(base));
  assert.deepEqual(
    config.write_files.map((f) => [f.path, f.permissions, f.owner]),
    [
      [DevicePaths.config, '0600', 'root:root'],
      [DevicePaths.unit, '0644', 'root:root'],
      [DevicePaths.script, '0700', 'root:root'],
    ],
  );
  assert.deepEqual(config.runcmd, [['sh', DevicePaths.script]]);
  assert.deepEqual(config.packages, ['ca-certificates', 'curl', 'xz-utils']);
  assert.deepEqual(parseEnvFile(fileOf(config, DevicePaths.config).content), {
    FLOTILLA_HUB: 'https://hub.example.com:8443',
    FLOTILLA_ENROLLMENT_TOKEN: 'fle_AbC-123_xyz',
  });

  const unit = fileOf(config, DevicePaths.unit).content;
  const { settings, environment } = unitSettings(unit);
  assert.equal(settings.get('Restart'), 'always');
  assert.equal(settings.get('User'), 'flotilla');
  assert.equal(settings.get('StateDirectory'), 'flotilla');
  assert.equal(settings.get('StateDirectoryMode'), '0700');
  assert.equal(settings.get('EnvironmentFile'), DevicePaths.config);
  assert.equal(settings.get('WantedBy'), 'multi-user.target');
  assert.deepEqual(environment, ['PATH=/usr/local/bin:/usr/bin:/bin']);
  assert.ok(!unit.includes('fle_'), 'the token is in the 0600 file only, not in the world-readable unit');

  const script = fileOf(config, DevicePaths.script).content;
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(script, /NODE_RELEASE=latest-v24\.x\n/);
  assert.match(script, /sha256sum -c/);
  assert.match(script, /npm install --global --prefix \/usr\/local .* "\$AGENT_PACKAGE"/);
  assert.match(script, /AGENT_PACKAGE='@flotilla\/agent@0\.1\.0'\n/);
  assert.match(script, /device_id=\$\(hostname -s\)/);
  assert.match(script, /systemctl enable --now flotilla-agent\.service/);
});

test('the install script is valid sh and checks the device id with the protocol pattern', () => {
  for (const idFrom of ['hostname', 'machine-id'] as const) {
    const script = fileOf(parseUserData(renderUserData({ ...base, idFrom })), DevicePaths.script).content;
    const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.ok(script.includes(`grep -Eq '${DEVICE_ID_PATTERN}'`), 'the same pattern as the hub and the agent');
  }
  const pinned = fileOf(parseUserData(renderUserData({ ...base, nodeVersion: '24.11.1' })), DevicePaths.script);
  assert.match(pinned.content, /NODE_RELEASE=v24\.11\.1\n/);
  assert.match(
    fileOf(parseUserData(renderUserData({ ...base, idFrom: 'machine-id' })), DevicePaths.script).content,
    /device_id=\$\(tr -d '\[:space:\]' < \/etc\/machine-id\)/,
  );
});

test("the unit's command line passes the agent's own argument parser", () => {
  const config = parseUserData(renderUserData(base));
  const env = { ...parseEnvFile(fileOf(config, DevicePaths.config).content), FLOTILLA_DEVICE_ID: 'robot-7' };
  const { executable, args } = execStart(fileOf(config, DevicePaths.unit).content, env);
  assert.equal(executable, DevicePaths.bin);
  assert.ok(!args.includes('--token'), 'the token reaches the agent through its environment, not its command line');
  // systemd hands the EnvironmentFile's variables to the process: the agent reads the token there.
  const parsed = parseAgentArgs(args, env);
  assert.ok(parsed.ok && !parsed.help, JSON.stringify(parsed));
  assert.deepEqual(parsed.options, {
    hubUrl: 'https://hub.example.com:8443',
    id: 'robot-7',
    stateDir: DevicePaths.state,
    token: 'fle_AbC-123_xyz',
    shipLogs: 'warn',
    teleoperation: {},
    mdns: 'on',
    discoveryTimeoutMs: 5000,
  });
});

test('a hub CA is embedded and trusted through NODE_EXTRA_CA_CERTS, and passed as --ca when the agent takes it', () => {
  for (const agentTakesCa of [false, true]) {
    const config = parseUserData(renderUserData({ ...base, ca: CA, agentTakesCa }));
    const ca = fileOf(config, DevicePaths.ca);
    assert.deepEqual([ca.permissions, ca.content], ['0644', CA]);
    const unit = fileOf(config, DevicePaths.unit).content;
    assert.ok(unitSettings(unit).environment.includes(`NODE_EXTRA_CA_CERTS=${DevicePaths.ca}`));
    assert.equal(unit.includes(`--ca ${DevicePaths.ca}`), agentTakesCa);
  }
  assert.deepEqual(agentArgs({ ca: CA, agentTakesCa: true }).slice(-2), ['--ca', DevicePaths.ca]);
  assert.ok(!agentArgs({ ca: undefined, agentTakesCa: true }).includes('--ca'));
});

test('values a configuration file or script cannot hold are refused, not written', () => {
  assert.throws(() => renderUserData({ ...base, hubUrl: 'https://hub/$(reboot)' }), /hub URL/);
  assert.throws(() => renderUserData({ ...base, agentPackage: 'x;reboot' }), /agent package/);
  assert.throws(() => renderUserData({ ...base, enrollmentToken: 'fle_x\nFLOTILLA_HUB=evil' }), /enrollment token/);
  assert.throws(() => renderUserData({ ...base, nodeVersion: '22' }), /not 24/);
  // A summary with a newline cannot end the comment and add YAML of its own.
  const text = renderUserData({ ...base, summary: 'a\nruncmd: [reboot]' });
  assert.deepEqual(parseUserData(text).runcmd, [['sh', DevicePaths.script]]);
});
