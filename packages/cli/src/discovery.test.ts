import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from './main.js';
import { testIo } from './testing/io.js';
import { until } from './testing/sim-hub.js';

/**
 * Discovery end to end with the real commands, over real multicast kept on the loopback
 * interface (--mdns 127.0.0.1): a hub advertises itself, a device waiting for its hub advertises
 * itself and is listed by `flotilla discovered`, `flotilla agent --hub auto` finds the hub and
 * enrolls, and then the device is no longer waiting. Every id is this test's own, and
 * `--hub-id` keeps the agent away from any other hub on the machine.
 */
const root = mkdtempSync(join(tmpdir(), 'flotilla-discovery-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const PASSWORD = 'discovery-cli-password';
const suffix = Math.random().toString(36).slice(2, 8);

test('flotilla hub advertises, flotilla discovered lists a waiting device, flotilla agent --hub auto enrolls it', async () => {
  const hubIo = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent', FLOTILLA_ADMIN_PASSWORD: PASSWORD } });
  const hubArgs = ['--port', '0', '--host', '127.0.0.1', '--data', join(root, 'hub'), '--mqtt-port', 'off'];
  const hubDone = main(['hub', ...hubArgs, '--mdns', '127.0.0.1'], hubIo);
  let waiting: { io: ReturnType<typeof testIo>; done: Promise<number> } | undefined;
  let enrolled: { io: ReturnType<typeof testIo>; done: Promise<number> } | undefined;
  try {
    await hubIo.waitForOutput('Press Ctrl-C to stop.');
    const url = /Console and API +(http:\/\/\S+)\//.exec(hubIo.out())?.[1] ?? '';
    const hubId = /mDNS +_flotilla\._tcp as (\S+) on 127\.0\.0\.1\n/.exec(hubIo.out())?.[1];
    assert.ok(hubId, hubIo.out());
    const { token } = await new FlotillaClient({ baseUrl: url }).login('admin', PASSWORD);
    const client = new FlotillaClient({ baseUrl: url, token });
    const cli = async (args: string[]) => {
      const io = testIo({ env: { FLOTILLA_HUB: url, FLOTILLA_TOKEN: token }, now: Date.now() });
      const code = await main(args, io);
      return { code, out: io.out(), err: io.err() };
    };

    // A device whose hub is not there yet: it advertises itself, not enrolled.
    const id = `robot-${suffix}`;
    const state = join(root, 'agent');
    const agentEnv = { FLOTILLA_LOG_LEVEL: 'silent' };
    const startAgent = (args: string[]) => {
      const io = testIo({ env: agentEnv });
      return { io, done: main(['agent', '--id', id, '--state', state, '--mdns', '127.0.0.1', ...args], io) };
    };
    waiting = startAgent(['--hub', 'http://127.0.0.1:9']);
    await until(async () => (await client.listDiscovered()).items.some((d) => d.id === id), 'the waiting device');
    const listed = await cli(['discovered']);
    assert.equal(listed.code, 0, listed.err);
    const row = listed.out.split('\n').find((l) => l.startsWith(id));
    assert.match(row ?? listed.out, new RegExp(`^${id} +- +unenrolled +127\\.0\\.0\\.1 +\\S+ +`));
    const json = await cli(['discovered', '--json']);
    assert.equal((JSON.parse(json.out) as Array<{ id: string }>).find((d) => d.id === id)?.id, id);
    waiting.io.signal();
    assert.equal(await waiting.done, 0, waiting.io.err());
    waiting = undefined;

    // The same device, now told to find its hub on the network, with an enrollment token.
    const enrollment = await client.createEnrollmentToken({ uses: 1 });
    enrolled = startAgent(['--hub', 'auto', '--hub-id', hubId, '--token', enrollment.token]);
    await until(
      async () => (await client.getDevice(id).catch(() => undefined))?.status.online === true,
      'the device online',
    );
    // Enrolled here and advertising so: no longer waiting.
    await until(async () => !(await client.listDiscovered()).items.some((d) => d.id === id), 'the device not listed');
    enrolled.io.signal();
    assert.equal(await enrolled.done, 0, enrolled.io.err());
    enrolled = undefined;
  } finally {
    waiting?.io.signal();
    enrolled?.io.signal();
    hubIo.signal();
    assert.equal(await hubDone, 0, hubIo.err());
  }
});

test('flotilla agent --hub auto says in one line when no hub answers, and refuses --mdns off', async () => {
  const io = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent' } });
  const args = ['agent', '--hub', 'auto', '--hub-id', `absent-${suffix}`, '--state', join(root, 'lonely')];
  const code = await main([...args, '--mdns', '127.0.0.1', '--discovery-timeout', '0.2'], io);
  assert.equal(code, 1);
  assert.equal(
    io.err(),
    `flotilla agent: no Flotilla hub absent-${suffix} answered on mDNS (_flotilla._tcp) on the interface 127.0.0.1 within 200 ms: start one, or give its URL with --hub\n`,
  );
  const off = testIo();
  assert.equal(await main([...args, '--mdns', 'off'], off), 2);
  assert.match(off.err(), /--hub auto finds the hub over mDNS: it cannot be used with --mdns off/);
  const bad = testIo();
  assert.equal(await main(['agent', '--hub', 'auto', '--mdns', 'wlan0'], bad), 2);
  assert.match(bad.err(), /--mdns must be on, off or the IPv4 address of an interface, got "wlan0"/);
});
