import { test } from 'node:test';
import assert from 'node:assert/strict';
import makeMdns from 'multicast-dns';
import { ManualClock } from '@flotilla/protocol/clock';
import type { DiscoveryError } from './errors.js';
import { DiscoveryErrorCodes } from './errors.js';
import { findHub } from './find-hub.js';
import { defaultMdnsSetting, parseMdnsSetting } from './interfaces.js';
import { Mdns } from './mdns.js';
import { DEVICE_SERVICE, HUB_SERVICE, deviceTxt, hubTxt, parseDeviceTxt } from './services.js';
import { LOOPBACK, nextEvent, uniqueId } from './testing.js';

// Real multicast on the loopback interface: every test names its instances uniquely and only
// looks at those, so tests running side by side (and other responders on UDP 5353) do not mix.

test('an agent finds an advertised hub by browsing, and builds its URL from the TXT record', async () => {
  const hubId = uniqueId('hub');
  const mdns = await Mdns.open({ interface: LOOPBACK, hostname: hubId });
  try {
    mdns.advertise({
      instance: hubId,
      type: HUB_SERVICE,
      port: 18080,
      txt: hubTxt({ id: hubId, version: '9.9.9', api: '/api/v1', ws: '/ws/agent', tls: true }),
    });
    const found = await findHub({ interface: LOOPBACK, hubId, timeoutMs: 10_000 });
    assert.equal(found.url, 'https://127.0.0.1:18080');
    assert.deepEqual(found.hub, { id: hubId, version: '9.9.9', api: '/api/v1', ws: '/ws/agent', tls: true });
    assert.equal(found.service.host, `${hubId}.local`);
  } finally {
    await mdns.close();
  }
});

test('a browser sees a device come up, change its TXT (enrolled) and say goodbye', async () => {
  const id = uniqueId('dev');
  const advertiser = await Mdns.open({ interface: LOOPBACK, hostname: id });
  const watcher = await Mdns.open({ interface: LOOPBACK });
  try {
    const browser = watcher.browse(DEVICE_SERVICE);
    const up = nextEvent(browser, 'up', id);
    const ad = advertiser.advertise({
      instance: id,
      type: DEVICE_SERVICE,
      port: 9,
      txt: deviceTxt({ id, type: 'lekiwi', enrollment: 'unenrolled', version: '1.0.0' }),
    });
    const seen = await up;
    assert.deepEqual(parseDeviceTxt(seen.txt), { id, type: 'lekiwi', enrollment: 'unenrolled', version: '1.0.0' });
    assert.ok(seen.addresses.includes('127.0.0.1'));

    const updated = nextEvent(browser, 'update', id);
    ad.updateTxt(deviceTxt({ id, type: 'lekiwi', enrollment: 'enrolled', version: '1.0.0' }));
    assert.equal(parseDeviceTxt((await updated).txt)?.enrollment, 'enrolled');

    const down = nextEvent(browser, 'down', id);
    ad.stop();
    await down;
    assert.ok(!browser.services().some((s) => s.instance === id));
  } finally {
    await advertiser.close();
    await watcher.close();
  }
});

test('a responder that answers with the PTR alone is asked for SRV and TXT; one that goes silent expires', async () => {
  const id = uniqueId('foreign');
  const fqdn = `${id}.${DEVICE_SERVICE}`;
  // Another implementation on the link: answers the PTR question with the PTR only.
  const foreign = makeMdns({ interface: LOOPBACK, bind: '0.0.0.0' });
  let answering = true;
  foreign.on('query', (q) => {
    if (!answering) return;
    for (const question of q.questions) {
      if (question.name === DEVICE_SERVICE && question.type === 'PTR')
        foreign.respond([{ name: DEVICE_SERVICE, type: 'PTR', ttl: 4500, data: fqdn }]);
      if (question.name === fqdn && (question.type === 'SRV' || question.type === 'TXT'))
        foreign.respond([
          { name: fqdn, type: 'SRV', ttl: 120, data: { target: 'foreign.local', port: 7 } },
          { name: fqdn, type: 'TXT', ttl: 4500, data: ['id=' + id, 'enrollment=unenrolled', 'version=0.1'] },
        ]);
    }
  });
  const clock = new ManualClock();
  const watcher = await Mdns.open({ interface: LOOPBACK, clock });
  try {
    const browser = watcher.browse(DEVICE_SERVICE);
    const seen = await nextEvent(browser, 'up', id);
    assert.equal(seen.port, 7);
    assert.equal(parseDeviceTxt(seen.txt)?.version, '0.1');
    answering = false;
    const down = nextEvent(browser, 'down', id);
    // Its SRV lives 120 s; the browser keeps asking (1 s, 2 s, 4 s ... apart) and hears nothing.
    clock.advance(200_000);
    await down;
  } finally {
    await watcher.close();
    await new Promise<void>((resolve) => foreign.destroy(() => resolve()));
  }
});

test('--hub auto with no hub answering fails after the timeout with one clear error', async () => {
  const clock = new ManualClock();
  const hubId = uniqueId('absent');
  let settled = false;
  const finding = findHub({ interface: LOOPBACK, hubId, timeoutMs: 3000, clock }).finally(() => (settled = true));
  finding.catch(() => {});
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    clock.advance(500);
  }
  await assert.rejects(finding, (err: DiscoveryError) => {
    assert.equal(err.code, DiscoveryErrorCodes.NO_HUB_FOUND);
    assert.equal(
      err.message,
      `no Flotilla hub ${hubId} answered on mDNS (_flotilla._tcp) on the interface 127.0.0.1 within 3000 ms: start one, or give its URL with --hub`,
    );
    return true;
  });
});

test('--mdns takes on, off or an address of this machine, and defaults to loopback for a loopback host', () => {
  assert.equal(parseMdnsSetting('on'), 'on');
  assert.equal(parseMdnsSetting('OFF'), 'off');
  assert.deepEqual(parseMdnsSetting('127.0.0.1'), { address: '127.0.0.1' });
  assert.throws(() => parseMdnsSetting('eth0'), { code: DiscoveryErrorCodes.INVALID_INTERFACE });
  assert.throws(() => parseMdnsSetting('203.0.113.77'), /203\.0\.113\.77 is not an address of this machine/);
  assert.deepEqual(defaultMdnsSetting('127.0.0.1'), { address: '127.0.0.1' });
  assert.deepEqual(defaultMdnsSetting('localhost'), { address: '127.0.0.1' });
  assert.equal(defaultMdnsSetting('0.0.0.0'), 'on');
});
