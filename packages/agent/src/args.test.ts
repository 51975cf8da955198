import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentArgs } from './args.js';

test('parses every flag into agent options', () => {
  assert.deepEqual(
    parseAgentArgs([
      '--hub',
      'http://hub:8080',
      '--id',
      'robot-7',
      '--state',
      '/var/lib/fa',
      '--token',
      't0k',
      '--log-level',
      'warn',
      '--telemetry-buffer-mb',
      '16',
      '--ship-logs',
      'error',
      '--teleop-rate',
      '5',
      '--teleop-ports',
      '8554, 5900',
      '--teleop-processes',
      'teleop_console',
      '--mdns',
      'off',
      '--config',
      '/etc/flotilla/agent.json',
    ]),
    {
      ok: true,
      help: false,
      options: {
        hubUrl: 'http://hub:8080',
        id: 'robot-7',
        stateDir: '/var/lib/fa',
        token: 't0k',
        logLevel: 'warn',
        telemetryBufferMb: 16,
        shipLogs: 'error',
        teleoperation: {
          commandRate: { minRate: 5 },
          operatorSession: { ports: [8554, 5900], processes: ['teleop_console'] },
        },
        mdns: 'off',
        discoveryTimeoutMs: 5000,
        configFile: '/etc/flotilla/agent.json',
      },
    },
  );
  assert.deepEqual(parseAgentArgs(['--hub', 'http://x'], { FLOTILLA_TELEMETRY_BUFFER_MB: '0.5' }), {
    ok: true,
    help: false,
    options: {
      hubUrl: 'http://x',
      telemetryBufferMb: 0.5,
      shipLogs: 'warn',
      teleoperation: {},
      mdns: 'on',
      discoveryTimeoutMs: 5000,
    },
  });
  assert.deepEqual(parseAgentArgs(['--hub=wss://hub.example.com']), {
    ok: true,
    help: false,
    options: {
      hubUrl: 'wss://hub.example.com',
      shipLogs: 'warn',
      teleoperation: {},
      mdns: 'on',
      discoveryTimeoutMs: 5000,
    },
  });
  // A hub on this machine: the device is advertised on loopback only. --hub auto browses everywhere.
  const local = parseAgentArgs(['--hub', 'http://127.0.0.1:8080']);
  assert.ok(local.ok && !local.help);
  assert.deepEqual(local.options.mdns, { address: '127.0.0.1' });
  const auto = parseAgentArgs(['--hub', 'auto', '--hub-id', 'lab-hub', '--discovery-timeout', '2.5'], {
    FLOTILLA_AGENT_CONFIG: '/etc/a.json',
  });
  assert.ok(auto.ok && !auto.help);
  assert.equal(auto.options.mdns, 'on');
  assert.equal(auto.options.hubId, 'lab-hub');
  assert.equal(auto.options.discoveryTimeoutMs, 2500);
  assert.equal(auto.options.configFile, '/etc/a.json');
});

test('teleoperation and log shipping come from the environment too; a rate of 0 turns the command rate off', () => {
  const parsed = parseAgentArgs(['--hub', 'http://x'], {
    FLOTILLA_SHIP_LOGS: 'off',
    FLOTILLA_TELEOP_RATE: '0',
    FLOTILLA_TELEOP_PORTS: '8554',
  });
  assert.ok(parsed.ok && !parsed.help);
  assert.equal(parsed.options.shipLogs, 'off');
  assert.deepEqual(parsed.options.teleoperation, {
    commandRate: false,
    operatorSession: { ports: [8554], processes: [] },
  });
});

test('--help wins over everything else that parses', () => {
  assert.deepEqual(parseAgentArgs(['--help']), { ok: true, help: true });
  assert.deepEqual(parseAgentArgs(['-h', '--hub', 'http://x']), { ok: true, help: true });
});

test('bad input is one line of error, never a throw', () => {
  const cases: [string[], RegExp][] = [
    [['--hub', 'http://x', '--bogus'], /Unknown option '--bogus'/],
    [['--hub'], /argument missing/],
    [['--hub', 'http://x', '--telemetry-buffer-mb', 'lots'], /--telemetry-buffer-mb must be a number of MB/],
    [['--hub', 'http://x', '--telemetry-buffer-mb', '0'], /--telemetry-buffer-mb must be a number of MB/],
    [['stray'], /positional argument/],
    [[], /missing --hub/],
    [['--hub', 'ftp://x'], /^--hub: .*http:\/\//],
    [['--hub', 'not a url'], /^--hub: /],
    [['--hub', 'http://x', '--id', 'a.b'], /^--id "a\.b"/],
    [['--hub', 'http://x', '--state', ''], /--state must not be empty/],
    [['--hub', 'http://x', '--log-level', 'loud'], /--log-level must be one of/],
    [['--hub', 'http://x', '--ship-logs', 'loud'], /--ship-logs must be one of/],
    [['--hub', 'http://x', '--teleop-rate', 'fast'], /--teleop-rate must be a number/],
    [['--hub', 'http://x', '--teleop-ports', '80,99999'], /--teleop-ports must be/],
    [['--hub', 'http://x', '--teleop-processes', 'a-very-long-process-name'], /at most 15 characters/],
    [['--hub', 'auto', '--mdns', 'off'], /--hub auto finds the hub over mDNS/],
    [['--hub', 'http://x', '--hub-id', 'h'], /--hub-id picks among hubs found by --hub auto/],
    [['--hub', 'auto', '--discovery-timeout', 'soon'], /--discovery-timeout must be a number of seconds/],
    [['--hub', 'http://x', '--config', ''], /--config must not be empty/],
  ];
  for (const [argv, re] of cases) {
    const r = parseAgentArgs(argv);
    assert.equal(r.ok, false, argv.join(' '));
    if (!r.ok) {
      assert.match(r.error, re, argv.join(' '));
      assert.doesNotMatch(r.error, /\n/);
    }
  }
});

test('--token T, or FLOTILLA_ENROLLMENT_TOKEN, is the enrollment token; the flag wins', () => {
  const flag = parseAgentArgs(['--hub', 'https://hub', '--token', 'fle_flag'], {
    FLOTILLA_ENROLLMENT_TOKEN: 'fle_env',
  });
  assert.ok(flag.ok && !flag.help);
  assert.equal(flag.options.token, 'fle_flag');
  const env = parseAgentArgs(['--hub', 'https://hub'], { FLOTILLA_ENROLLMENT_TOKEN: 'fle_env' });
  assert.ok(env.ok && !env.help);
  assert.equal(env.options.token, 'fle_env');
  const empty = parseAgentArgs(['--hub', 'https://hub'], { FLOTILLA_ENROLLMENT_TOKEN: '' });
  assert.ok(empty.ok && !empty.help);
  assert.equal(empty.options.token, undefined);
});

test('--ca FILE, or FLOTILLA_CA, names the CA file; the flag wins', () => {
  const parsed = parseAgentArgs(['--hub', 'https://hub', '--ca', '/etc/hub-ca.pem'], { FLOTILLA_CA: '/other.pem' });
  assert.ok(parsed.ok && !parsed.help);
  assert.equal(parsed.options.caFile, '/etc/hub-ca.pem');
  const fromEnv = parseAgentArgs(['--hub', 'https://hub'], { FLOTILLA_CA: '/other.pem' });
  assert.ok(fromEnv.ok && !fromEnv.help);
  assert.equal(fromEnv.options.caFile, '/other.pem');
  assert.deepEqual(parseAgentArgs(['--hub', 'https://hub', '--ca', '']), {
    ok: false,
    error: '--ca must not be empty',
  });
});
