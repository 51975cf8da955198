import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@flotilla/hub';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from './main.js';
import { testIo } from './testing/io.js';
import { until } from './testing/sim-hub.js';

/**
 * `flotilla agent --config` with the built-in shell driver against a real hub: the configured
 * commands are declared in hello, run as real processes when `flotilla send` asks, and anything
 * else is refused by the device. A bad configuration stops the agent with one line.
 */
const root = mkdtempSync(join(tmpdir(), 'flotilla-drivers-'));
after(() => rmSync(root, { recursive: true, force: true }));
const PASSWORD = 'drivers-test-password';

test('the shell driver runs only its listed commands, sent through the hub', async () => {
  const hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir: join(root, 'hub'),
    logLevel: 'silent',
    adminPassword: PASSWORD,
  });
  const config = join(root, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      drivers: [
        {
          driver: 'shell',
          commands: {
            greet: { argv: ['echo', 'hello from', '$HOSTNAME'] },
            count: { argv: ['sh', '-c', 'echo "$#"; exit 4', 'sh'], maxArgs: 3 },
          },
        },
      ],
    }),
  );
  const agentIo = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent' } });
  let agentDone: Promise<number> | undefined;
  try {
    const { token } = await new FlotillaClient({ baseUrl: hub.url }).login('admin', PASSWORD);
    const client = new FlotillaClient({ baseUrl: hub.url, token });
    const enrollment = await client.createEnrollmentToken({ uses: 1 });
    const args = ['--hub', hub.url, '--id', 'shell-box', '--state', join(root, 'agent'), '--mdns', 'off'];
    agentDone = main(['agent', ...args, '--token', enrollment.token, '--config', config], agentIo);
    await until(
      async () => (await client.getDevice('shell-box').catch(() => undefined))?.status.online === true,
      'online',
    );
    const device = await client.getDevice('shell-box');
    assert.ok(
      device.capabilities.some((c) => c.name === 'shell'),
      JSON.stringify(device.capabilities),
    );

    const send = async (argv: string[]) => {
      const io = testIo({ env: { FLOTILLA_HUB: hub.url, FLOTILLA_TOKEN: token }, now: Date.now() });
      const code = await main(['send', 'shell-box', ...argv], io);
      return { code, out: io.out(), err: io.err() };
    };
    const greet = await send(['shell.greet', '--json']);
    assert.equal(greet.code, 0, greet.err);
    const record = JSON.parse(greet.out) as { status: string; result: { stdout: string; exitCode: number } };
    assert.equal(record.status, 'succeeded');
    assert.deepEqual([record.result.stdout, record.result.exitCode], ['hello from $HOSTNAME\n', 0]);

    const counted = await send(['shell.count', '--args', '{"args":["a b","c"]}', '--json']);
    const counts = (JSON.parse(counted.out) as { result: { stdout: string; exitCode: number } }).result;
    assert.deepEqual([counts.stdout, counts.exitCode], ['2\n', 4]);

    const refused = await send(['shell.reboot']);
    assert.equal(refused.code, 1, JSON.stringify(refused));
    assert.match(refused.out, /^shell-box: failed in \d+ ms: unsupported_command: this device has no shell reboot\n$/);
  } finally {
    agentIo.signal();
    if (agentDone) assert.equal(await agentDone, 0, agentIo.err());
    await hub.close();
  }
});

test('a bad --config stops flotilla agent with one line before it connects anywhere', async () => {
  const file = join(root, 'bad.json');
  writeFileSync(file, JSON.stringify({ drivers: [{ driver: 'shell', commands: { x: { argv: 'reboot' } } }] }));
  const io = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent' } });
  const code = await main(['agent', '--hub', 'http://127.0.0.1:9', '--state', join(root, 's'), '--config', file], io);
  assert.equal(code, 1);
  assert.match(io.err(), new RegExp(`^flotilla agent: config ${file}: .*argv.*\\n$`));
});
