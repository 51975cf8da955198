import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope, type MessageOf } from '@flotilla/protocol';
import { eventually, TestDevice } from '../gateway/testing.js';
import { AGENT_WS_PATH } from '../gateway/ws-agent.js';
import { openTestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';

/** A device's telemetry frames over a real /ws/agent socket end up in storage through the ingest. */
test('telemetry frames from /ws/agent are stored, and refused values are counted', async (t) => {
  const hub = await openTestHub('sqlite', { deviceAuth: false, mqttPort: false });
  t.after(() => hub.dispose());
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  const address = hub.app.server.address();
  assert.ok(address && typeof address === 'object');
  const { device } = await TestDevice.online(`ws://127.0.0.1:${address.port}${AGENT_WS_PATH}`, 'ws-1');
  const now = hub.clock.now();
  const frame = (seq: number, ts: number, payload: Record<string, unknown>) =>
    JSON.stringify(envelope('telemetry', 'ws-1', seq, ts, payload as never));
  device.sendRaw(frame(10, now - 1000, { metrics: { battery: 81 }, samples: { pose: { x: 1 } } }));
  device.sendRaw(frame(11, now, { metrics: { battery: 80, 'system.cpu': 12.5 } }));
  device.sendRaw(frame(12, now + 3_600_000, { metrics: { battery: 1 } }));

  const read = () =>
    hub.storage.telemetry.points({ device: 'ws-1', metric: 'battery', from: 0, to: now + 7_200_000, limit: 10 });
  await eventually(async () => (await read()).length === 2, 'two battery points stored');
  assert.deepEqual(await read(), [
    { ts: now - 1000, value: 81 },
    { ts: now, value: 80 },
  ]);
  assert.deepEqual(
    await hub.storage.telemetry.samples({ device: 'ws-1', name: 'pose', from: 0, to: now + 1, limit: 10 }),
    [{ ts: now - 1000, data: { x: 1 } }],
  );
  // Frames are handled in order: the third one's refusal may still be on its way.
  const refusedFuture = /^flotilla_telemetry_refused_total\{reason="ts_in_future"\} 1$/m;
  await eventually(async () => refusedFuture.test(await hub.metrics.registry.metrics()), 'the refusal counted');
  assert.equal(device.received.filter((m) => m.type === 'error').length, 0);
});

const BIG_SEQ = 1_700_000_000_000_123;

/** Durable telemetry: numbered messages are stored once and answered by cumulative acks after the write. */
for (const engine of ENGINES)
  test(`${engine}: numbered telemetry is acknowledged after the write, cumulatively, with refusals; a replay is stored once`, async (t) => {
    const hub = await openTestHub(engine, { deviceAuth: false, mqttPort: false });
    t.after(() => hub.dispose());
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const address = hub.app.server.address();
    assert.ok(address && typeof address === 'object');
    const url = `ws://127.0.0.1:${address.port}${AGENT_WS_PATH}`;
    const { device } = await TestDevice.online(url, 'ws-2');
    const now = hub.clock.now();
    const acks = (d: TestDevice) =>
      d.received.filter((m): m is MessageOf<'ack'> => m.type === 'ack' && m.payload.of === 'telemetry');

    device.sendRaw(JSON.stringify(envelope('telemetry', 'ws-2', 1, now, { metrics: { battery: 90 }, seq: 1 })));
    device.send('telemetry', {
      records: [
        { seq: 2, ts: now - 3000, metrics: { battery: 89 } },
        { seq: 3, ts: now - 8 * 86_400_000, metrics: { battery: 88 } },
        { seq: 4, ts: now + 3_600_000, metrics: { battery: 1 } },
        { seq: 5, ts: now - 1000, metrics: { battery: 87 }, samples: { pose: { x: 1 } } },
      ],
    });
    await eventually(() => acks(device).at(-1)?.payload.seq === 5, 'every message acknowledged');
    const refused = acks(device).flatMap((a) => a.payload.refused ?? []);
    assert.deepEqual(refused, [
      { seq: 3, reason: 'ts_too_old' },
      { seq: 4, reason: 'ts_in_future' },
    ]);
    assert.ok(acks(device).length <= 2, 'acks are batched, not one per message');
    const read = () =>
      hub.storage.telemetry.points({ device: 'ws-2', metric: 'battery', from: 0, to: now + 7_200_000, limit: 100 });
    assert.deepEqual(
      (await read()).map((p) => p.value),
      [89, 87, 90],
    );

    // The device reconnects and sends its unacknowledged tail again (here: all of it): stored once, acked again.
    await device.close();
    const { device: again } = await TestDevice.online(url, 'ws-2');
    again.send('telemetry', {
      records: [
        { seq: 2, ts: now - 3000, metrics: { battery: 89 } },
        { seq: 5, ts: now - 1000, metrics: { battery: 87 }, samples: { pose: { x: 1 } } },
        // Numbers may jump (a restarted agent starts at its reserved mark): µs of the clock here.
        { seq: BIG_SEQ, ts: now, metrics: { battery: 86 } },
      ],
    });
    await eventually(() => acks(again).at(-1)?.payload.seq === BIG_SEQ, 'the replay acknowledged');
    assert.deepEqual(
      (await read()).map((p) => p.value),
      [89, 87, 90, 86],
    );
    assert.match(await hub.metrics.registry.metrics(), /^flotilla_telemetry_duplicates_total 2$/m);
  });

/** A frame refused unread over the rate limit would be passed over by cumulative acks: the session ends instead. */
test('a device over its message rate with numbered telemetry in flight is disconnected, not acked past the refused frame', async (t) => {
  const hub = await openTestHub('sqlite', { deviceAuth: false, mqttPort: false, deviceMessageRate: 2 });
  t.after(() => hub.dispose());
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  const address = hub.app.server.address();
  assert.ok(address && typeof address === 'object');
  const { device } = await TestDevice.online(`ws://127.0.0.1:${address.port}${AGENT_WS_PATH}`, 'ws-3');
  const now = hub.clock.now();
  // The bucket holds 4 and the clock stands still: hello took one, these take the rest and one more.
  for (let seq = 1; seq <= 4; seq++)
    device.sendRaw(JSON.stringify(envelope('telemetry', 'ws-3', seq, now, { metrics: { battery: seq }, seq })));
  const closed = await device.closed;
  assert.equal(closed.code, 1008);
  await eventually(() => hub.registry.get('ws-3')?.status.online === false, 'the device offline');
  const events = await hub.storage.readEvents({ aggregateId: 'ws-3', limit: 100 });
  assert.equal(events.find((e) => e.type === 'DeviceDisconnected')?.data['reason'], 'rate_limited');
  const acked = device.received.filter((m) => m.type === 'ack').map((m) => (m as MessageOf<'ack'>).payload.seq);
  assert.ok(
    acked.every((seq) => seq <= 3),
    `never acked past the refused frame (${acked.join(',')})`,
  );
});
