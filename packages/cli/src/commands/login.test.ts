import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@flotilla/protocol';
import { startHub, type RunningHub } from '@flotilla/hub';
import { FlotillaApiError, FlotillaClient } from '@flotilla/sdk';
import type { CredentialsFile, StoredSession } from '../credentials.js';
import { main } from '../main.js';
import { testIo, type TestIoOptions } from '../testing/io.js';

// login, logout and the stored session against a real hub on a manual clock, so that access
// tokens expire when the test says so.
const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-login-'));
const PASSWORD = 'login-test-admin-password';
const clock = new ManualClock(Date.parse('2026-01-05T09:00:00Z'));
let hub: RunningHub;
let deadUrl: string;
/** Everything any command printed, to check that no secret ever shows. */
const printed: string[] = [];
const secrets = new Set<string>([PASSWORD]);

before(async () => {
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir: join(dir, 'hub'),
    logLevel: 'silent',
    adminPassword: PASSWORD,
    clock,
  });
  // A port that nothing listens on: bound once, then released.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  deadUrl = `http://127.0.0.1:${port}`;
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
  const all = printed.join('\n');
  for (const secret of secrets) assert.ok(!all.includes(secret), 'no password or token was ever printed');
});

let configs = 0;
function configDir(): string {
  return join(dir, `config-${++configs}`, 'flotilla');
}

async function run(argv: string[], config: string, options: TestIoOptions & { env?: Record<string, string> } = {}) {
  const io = testIo({ now: clock.now(), ...options, env: { FLOTILLA_CONFIG_DIR: config, ...options.env } });
  const code = await main(argv, io);
  printed.push(io.out(), io.err());
  return { code, out: io.out(), err: io.err(), io };
}

function stored(config: string): CredentialsFile {
  const file = JSON.parse(readFileSync(join(config, 'credentials.json'), 'utf8')) as CredentialsFile;
  for (const login of Object.values(file.hubs)) {
    if (login.kind === 'session') secrets.add(login.accessToken).add(login.refreshToken);
    else secrets.add(login.token);
  }
  return file;
}

function session(config: string): StoredSession {
  const login = Object.values(stored(config).hubs)[0];
  assert.equal(login?.kind, 'session');
  return login;
}

async function loginTo(config: string): Promise<void> {
  const r = await run(['login', '--hub', hub.url, '--username', 'admin'], config, { stdin: `${PASSWORD}\n` });
  assert.equal(r.code, 0, r.err);
}

test('login reads a piped password, stores the session 0600 in a 0700 directory, and devices uses it', async () => {
  const config = configDir();
  const r = await run(['login', '--hub', hub.url, '--username', 'admin'], config, { stdin: `${PASSWORD}\n` });
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^Logged in to http:\/\/127\.0\.0\.1:\d+ as admin \(admin\) with a password; saved in .*credentials\.json\n$/,
  );
  assert.equal(statSync(join(config, 'credentials.json')).mode & 0o777, 0o600);
  assert.equal(statSync(config).mode & 0o777, 0o700);
  const file = stored(config);
  assert.equal(file.current, hub.url.replace(/\/$/, ''));
  const login = session(config);
  assert.equal(login.username, 'admin');
  assert.equal(login.expiresAt, clock.now() + 15 * 60_000);

  // No --hub, no token: the stored hub and session.
  const devices = await run(['devices', '--json'], config);
  assert.equal(devices.code, 0, devices.err);
  assert.deepEqual(JSON.parse(devices.out), []);
});

test('on a terminal, login asks for the username with echo and the password without', async () => {
  const config = configDir();
  const r = await run(['login', '--hub', hub.url], config, { answers: ['admin', PASSWORD] });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.io.questions, [
    { question: 'Username: ', echo: true },
    { question: `Password for admin at ${hub.url}: `, echo: false },
  ]);
  // Ctrl-C at the password prompt: nothing stored, nothing sent.
  const other = configDir();
  const cancelled = await run(['login', '--hub', hub.url, '--username', 'admin'], other, { answers: [] });
  assert.equal(cancelled.code, 130);
  assert.equal(cancelled.err, 'flotilla login: cancelled\n');
  assert.equal(existsSync(join(other, 'credentials.json')), false);
});

test('a wrong password, an unreachable hub and a bad command line each fail in one line and store nothing', async () => {
  const config = configDir();
  const wrong = await run(['login', '--hub', hub.url, '--username', 'nobody'], config, { stdin: 'not-it\n' });
  assert.deepEqual([wrong.code, wrong.err], [1, 'flotilla login: wrong username or password\n']);
  assert.ok(!wrong.err.includes('not-it'));
  const down = await run(['login', '--hub', deadUrl, '--username', 'admin'], config, { stdin: `${PASSWORD}\n` });
  assert.equal(down.code, 1);
  assert.match(
    down.err,
    /^flotilla login: cannot reach the hub at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is the hub running\? \(set --hub or FLOTILLA_HUB\)\n$/,
  );
  const noUser = await run(['login', '--hub', hub.url], config, { stdin: `${PASSWORD}\n` });
  assert.deepEqual(
    [noUser.code, noUser.err],
    [2, 'flotilla login: --username is needed when the password comes from stdin (see flotilla login --help)\n'],
  );
  const empty = await run(['login', '--hub', hub.url, '--username', 'admin'], config, { stdin: '' });
  assert.deepEqual([empty.code, empty.err], [2, 'flotilla login: no password on stdin (see flotilla login --help)\n']);
  assert.equal(existsSync(join(config, 'credentials.json')), false);
});

test('an expired access token is refreshed on the way and the rotated refresh token is stored', async () => {
  const config = configDir();
  await loginTo(config);
  const first = session(config);

  // This machine's clock says the token expired: refreshed before the request.
  clock.advance(16 * 60_000);
  const r = await run(['devices'], config);
  assert.equal(r.code, 0, r.err);
  const second = session(config);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.equal(second.expiresAt, clock.now() + 15 * 60_000);
  // The old refresh token was used up by the rotation.
  await assert.rejects(new FlotillaClient({ baseUrl: hub.url }).refresh(first.refreshToken), { status: 401 });
  // ... which made the hub end every session of the user (a replay looks like theft): log in again.
  await loginTo(config);
  const third = session(config);

  // Only the hub's clock says so (this machine is behind): the 401 expired_token triggers the refresh.
  const behind = clock.now();
  clock.advance(16 * 60_000);
  const late = await run(['device', 'nope'], config, { now: behind });
  assert.deepEqual([late.code, late.err], [1, 'flotilla device: no device nope\n']);
  assert.notEqual(session(config).refreshToken, third.refreshToken);
});

test('two commands refreshing the same session at once share one refresh (the lock), and the session lives on', async () => {
  const config = configDir();
  await loginTo(config);
  const first = session(config);
  clock.advance(16 * 60_000);
  const [a, b] = await Promise.all([
    run(['devices', '--json'], config),
    run(['events', '--json', '--limit', '1'], config),
  ]);
  assert.deepEqual([a.code, a.err, b.code], [0, '', 0], b.err);
  const after = session(config);
  assert.notEqual(after.refreshToken, first.refreshToken);
  // Had both presented the old refresh token, the hub would have ended every session of the user.
  const again = await run(['devices'], config);
  assert.equal(again.code, 0, again.err);
  assert.equal(session(config).refreshToken, after.refreshToken, 'no second refresh was needed');
});

test('a stored login that can no longer be refreshed says to log in again', async () => {
  const config = configDir();
  await loginTo(config);
  // Someone else uses the stored refresh token (a copy of the file, say): the hub rotates it.
  await new FlotillaClient({ baseUrl: hub.url }).refresh(session(config).refreshToken);
  clock.advance(16 * 60_000);
  const r = await run(['devices'], config);
  assert.deepEqual(
    [r.code, r.err],
    [1, `flotilla devices: the login to ${hub.url} has expired or was revoked; run flotilla login again\n`],
  );
});

test('--token and FLOTILLA_TOKEN win over the stored login; without either and no login the hint says to log in', async () => {
  const config = configDir();
  await loginTo(config);
  const bogus = await run(['devices'], config, { env: { FLOTILLA_TOKEN: 'flt_bogus' } });
  assert.deepEqual(
    [bogus.code, bogus.err],
    [
      1,
      'flotilla devices: the token is not valid (unknown, tampered with or signed by another key) (check --token or FLOTILLA_TOKEN)\n',
    ],
  );
  const none = await run(['devices', '--hub', hub.url], configDir());
  assert.deepEqual(
    [none.code, none.err],
    [1, 'flotilla devices: this request needs a bearer token (run flotilla login, or set --token or FLOTILLA_TOKEN)\n'],
  );
});

test('a corrupt credentials file fails commands in one line without quoting it; login replaces it', async () => {
  const config = configDir();
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'credentials.json'), '{"version":1,"hubs":{"x":{"kind":"session","accessToken":"leaked"');
  secrets.add('leaked');
  const r = await run(['devices'], config);
  assert.deepEqual(
    [r.code, r.err],
    [
      1,
      `flotilla devices: ${join(config, 'credentials.json')} is not a valid credentials file; run flotilla login again\n`,
    ],
  );
  const replaced = await run(['login', '--hub', hub.url, '--username', 'admin'], config, { stdin: `${PASSWORD}\n` });
  assert.deepEqual(
    [replaced.code, replaced.err],
    [0, `flotilla login: replaced ${join(config, 'credentials.json')}, which was not a valid credentials file\n`],
  );
  assert.equal(session(config).username, 'admin');
  writeFileSync(join(config, 'credentials.json'), 'not json');
  const out = await run(['logout'], config);
  assert.deepEqual(
    [out.code, out.err],
    [
      0,
      `flotilla logout: deleted ${join(config, 'credentials.json')}, which was not a valid credentials file (nothing was revoked on the hub)\n`,
    ],
  );
  assert.equal(existsSync(join(config, 'credentials.json')), false);
});

test('logout revokes the session on the hub and deletes the stored credentials', async () => {
  const config = configDir();
  await loginTo(config);
  const { accessToken, refreshToken } = session(config);
  const r = await run(['logout'], config);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^Logged out of http:\/\/127\.0\.0\.1:\d+: deleted its credentials from .*; the hub revoked the session\n$/,
  );
  assert.equal(existsSync(join(config, 'credentials.json')), false);
  await assert.rejects(new FlotillaClient({ baseUrl: hub.url, token: accessToken }).listDevices(), (err) => {
    assert.ok(err instanceof FlotillaApiError);
    assert.equal(err.code, 'revoked_token');
    return true;
  });
  await assert.rejects(new FlotillaClient({ baseUrl: hub.url }).refresh(refreshToken), { status: 401 });
  const again = await run(['logout'], config);
  assert.deepEqual([again.code, again.err], [0, `Not logged in to http://localhost:8080.\n`]);
});

test('logout with an expired access token refreshes first; with the hub down it deletes locally and says so', async () => {
  const config = configDir();
  await loginTo(config);
  clock.advance(16 * 60_000);
  const expired = await run(['logout'], config);
  assert.equal(expired.code, 0, expired.err);
  assert.match(expired.out, /the hub revoked the session\n$/);

  // A login whose hub has gone away.
  const down = configDir();
  mkdirSync(down, { recursive: true, mode: 0o700 });
  const gone: CredentialsFile = {
    version: 1,
    current: deadUrl,
    hubs: {
      [deadUrl]: {
        kind: 'session',
        username: 'admin',
        accessToken: 'a.b.c',
        refreshToken: 'flr_x',
        expiresAt: clock.now() + 60_000,
      },
    },
  };
  writeFileSync(join(down, 'credentials.json'), JSON.stringify(gone), { mode: 0o600 });
  const r = await run(['logout'], down);
  assert.equal(r.code, 0);
  assert.match(
    r.err,
    /^flotilla logout: could not revoke the session on the hub \(cannot reach the hub at .*\); it stays valid there until it expires\n$/,
  );
  assert.equal(r.out, `Logged out of ${deadUrl}: deleted its credentials from ${join(down, 'credentials.json')}\n`);
  assert.equal(existsSync(join(down, 'credentials.json')), false);
});

test('login --token stores an API token after checking it; logout forgets it and says it stays valid', async () => {
  const admin = new FlotillaClient({ baseUrl: hub.url });
  await admin.login('admin', PASSWORD);
  const res = await fetch(`${hub.url}/api/v1/tokens`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${(await admin.login('admin', PASSWORD)).token}`,
    },
    body: JSON.stringify({ name: 'cli-test', role: 'viewer' }),
  });
  const { token } = (await res.json()) as { token: string };
  secrets.add(token);
  const config = configDir();
  const bad = await run(['login', '--hub', hub.url, '--token', 'flt_nope'], config);
  assert.deepEqual(
    [bad.code, bad.err],
    [
      1,
      'flotilla login: the hub refused the token: the token is not valid (unknown, tampered with or signed by another key)\n',
    ],
  );
  const r = await run(['login', '--hub', hub.url, '--token', token], config);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /as admin \(viewer\) with an API token/);
  assert.equal((await run(['devices'], config)).code, 0);
  const out = await run(['logout'], config);
  assert.match(out.out, /; the API token itself stays valid until revoked on the hub\n$/);
  const mixed = await run(['login', '--token', token, '--username', 'admin'], config);
  assert.equal(mixed.code, 2);
});
