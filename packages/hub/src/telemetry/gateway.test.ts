import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope } from '@flotilla/protocol';
import { eventually, TestDevice } from '../gateway/testing.js';
import { AGENT_WS_PATH } from '../gateway/ws-agent.js';
import { openTestHub } from '../http/testing.js';

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
