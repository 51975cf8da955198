import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands, main } from './main.js';
import { testIo } from './testing/io.js';
import { CLI_VERSION } from './version.js';

async function run(argv: string[], env: Record<string, string> = {}) {
  const io = testIo({ env });
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** A usage error: nothing on stdout, exactly one line on stderr, exit 2. */
function assertUsage(r: { code: number; out: string; err: string }, command: string, reason: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, '');
  const lines = r.err.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0] ?? '', new RegExp(`^${command}: `));
  assert.match(lines[0] ?? '', reason);
  assert.ok((lines[0] ?? '').endsWith(`(see ${command} --help)`), lines[0]);
}

test('flotilla --help and flotilla alone list every command', async () => {
  for (const argv of [['--help'], ['-h'], [], ['help']]) {
    const r = await run(argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: flotilla <command>/);
    for (const c of commands) assert.match(r.out, new RegExp(`\\n  ${c.name} +\\S`), c.name);
  }
});

test('--version prints the version', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await run([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.out, `flotilla ${CLI_VERSION}\n`);
  }
});

test('every command has --help, also as -h, "help <cmd>" and before the command', async () => {
  for (const c of commands) {
    for (const argv of [
      [c.name, '--help'],
      [c.name, '-h'],
      ['help', c.name],
      ['--help', c.name],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.out, new RegExp(`^Usage: flotilla ${c.name}`), argv.join(' '));
      assert.match(r.out, /--help/);
      assert.equal(r.err, '');
    }
  }
});

test('an unknown command is a usage error', async () => {
  assertUsage(await run(['fly']), 'flotilla', /unknown command "fly"/);
  assertUsage(await run(['--bogus', 'devices']), 'flotilla', /unknown option --bogus/);
  assertUsage(await run(['--hub']), 'flotilla', /--hub needs a value/);
});

test('an unknown flag is a usage error for every command', async () => {
  for (const c of commands) {
    const r = await run([c.name, '--no-such-flag']);
    assert.equal(r.code, 2, `${c.name}: ${r.err}`);
    assert.equal(r.out, '');
    assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
    assert.match(r.err, new RegExp(`^flotilla ${c.name}: .*--no-such-flag`));
  }
});

test('bad values are usage errors that name the flag and the value', async () => {
  const cases: [string[], RegExp][] = [
    [['hub', '--port', 'http'], /--port must be a port number from 0 to 65535, got "http"/],
    [['hub', '--port', '70000'], /--port must be a port number from 0 to 65535, got "70000"/],
    [['hub', '--port'], /--port needs a value/],
    [['hub', '--mqtt-port', '-1'], /--mqtt-port needs a value \(write --mqtt-port=VALUE/],
    [['hub', '--sim=-1'], /--sim must be a whole number from 0 to 100000, got "-1"/],
    [['hub', '--sim', 'many'], /--sim must be a whole number/],
    [['hub', '--sim-kind', 'drone'], /--sim-kind must be one of mixed, lekiwi, xle, tonypi, mcu, got "drone"/],
    [['hub', '--heartbeat-interval', 'soon'], /--heartbeat-interval must be a duration such as 500ms, 30s/],
    [['hub', '--heartbeat-interval', '500ms'], /--heartbeat-interval must be from 1s to 1d, got "500ms"/],
    [['hub', '--log-level', 'loud'], /--log-level must be one of fatal, error, warn, info, debug, trace, silent/],
    [['hub', '--database-url', 'mysql://db/x'], /--database-url must start with postgres:\/\/ or postgresql:\/\//],
    [['hub', '--nats', 'localhost:4222'], /--nats must start with nats:\/\//],
    [['hub', '--tls=yes'], /--tls takes no value/],
    [['hub', 'extra'], /unexpected argument "extra"/],
    [['sim', '--count=-3'], /--count must be a whole number from 1 to 100000, got "-3"/],
    [['sim', '--count', '0'], /--count must be a whole number from 1/],
    [['sim', '--kind', 'drone'], /--kind must be one of/],
    [['sim', '--rate', 'fast'], /--rate must be a number from 0 to 100, got "fast"/],
    [['sim', '--hub', 'localhost:8080'], /--hub must start with http:\/\/ or https:\/\/, got "localhost:8080"/],
    [['sim', '--hub', 'not a url'], /--hub must be a URL/],
    [['devices', '--limit', '0'], /--limit must be a whole number from 1 to 1000, got "0"/],
    [['devices', '--online', '--offline'], /--online and --offline exclude each other/],
    [['devices', '--hub', 'ftp://x'], /--hub must start with http:\/\/ or https:\/\//],
    [['device'], /missing device ID/],
    [['device', 'a', 'b'], /unexpected argument "b"/],
    [['events', '--since', 'yesterday'], /--since must be a duration back from now \(15m, 1h, 2d\) or an ISO date/],
    [['events', '--since', '3600'], /--since must be a duration/],
    [['events', '--limit', '5000'], /--limit must be a whole number from 1 to 1000/],
    [['agent'], /missing --hub URL/],
    [['agent', '--hub', 'http://h', '--id', 'bad id'], /--id "bad id"/],
  ];
  for (const [argv, reason] of cases) assertUsage(await run(argv), `flotilla ${argv[0]}`, reason);
});

test('bad values from the environment name the variable', async () => {
  assertUsage(await run(['hub'], { FLOTILLA_PORT: 'eighty' }), 'flotilla hub', /FLOTILLA_PORT must be a port number/);
  assertUsage(await run(['hub'], { FLOTILLA_SIM: '-2' }), 'flotilla hub', /FLOTILLA_SIM must be a whole number/);
  assertUsage(await run(['devices'], { FLOTILLA_HUB: 'nope' }), 'flotilla devices', /FLOTILLA_HUB must be a URL/);
  assertUsage(
    await run(['hub'], { FLOTILLA_TLS: 'maybe' }),
    'flotilla hub',
    /FLOTILLA_TLS must be true or false, got "maybe"/,
  );
});
