import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The built command itself, as a user runs it: shebang, exit codes, signals.
const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
// Port 1883 belongs to the machine's Mosquitto: the hub takes a free MQTT port.
const env = { ...process.env, FLOTILLA_LOG_LEVEL: 'silent', NO_COLOR: '1', FLOTILLA_MQTT_PORT: '0' };
const data = mkdtempSync(join(tmpdir(), 'flotilla-bin-'));
after(() => rmSync(data, { recursive: true, force: true }));

test('the bin starts with a node shebang', () => {
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('exit codes: 0 for --version, 2 for an unknown flag, with one line on stderr', () => {
  const version = spawnSync(process.execPath, [bin, '--version'], { env, encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^flotilla \d+\.\d+\.\d+\n$/);
  const bad = spawnSync(process.execPath, [bin, 'devices', '--bogus'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'flotilla devices: unknown option --bogus (see flotilla devices --help)\n');
});

test('flotilla hub stops cleanly on SIGINT and exits 0', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [bin, 'hub', '--port', '0', '--host', '127.0.0.1', '--data', data], { env });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += String(chunk);
      if (out.includes('Press Ctrl-C to stop.')) resolve();
    });
    child.on('exit', () => reject(new Error(`hub exited early:\n${out}\n${err}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exit, 0, err);
  assert.match(err, /Stopped\.\n$/);
});
