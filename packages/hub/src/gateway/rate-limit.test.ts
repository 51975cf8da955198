import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, type ErrorPayload, type Message } from '@flotilla/protocol';
import { DEFAULT_MESSAGE_LIMIT } from './agent-gateway.js';
import { MAX_CONSECUTIVE_ERRORS } from './session.js';
import { eventually, startGatewayHarness, TestDevice } from './testing.js';

const errors = (device: TestDevice): ErrorPayload[] =>
  device.received.filter((m: Message) => m.type === 'error').map((m) => m.payload as ErrorPayload);

test('a device over its message rate gets rate_limited error frames, is not processed, and stays connected', async (t) => {
  const h = await startGatewayHarness({ messageLimit: { rate: 10, burst: 5 } });
  t.after(() => h.close());
  const telemetry: unknown[] = [];
  h.bus.subscribe('flotilla.r1.telemetry', (_subject, data) => telemetry.push(data));
  const { device } = await TestDevice.online(h.url, 'r1'); // hello takes 1 of the 5

  for (let i = 0; i < 4; i++) device.send('heartbeat', {});
  for (let i = 0; i < 4; i++) await device.next('ack');

  // The bucket is empty and the clock stands still: everything from here is refused, more than
  // MAX_CONSECUTIVE_ERRORS frames in a row, and the connection stays open.
  const over = MAX_CONSECUTIVE_ERRORS + 20;
  for (let i = 0; i < over; i++) device.send('telemetry', { metrics: { battery: i } });
  await eventually(() => errors(device).length === over, 'every refused frame answered');
  const refusal = errors(device)[0];
  assert.equal(refusal?.code, ErrorCodes.RATE_LIMITED);
  assert.match(refusal?.message ?? '', /more than 10 messages\/s .*next accepted in 100 ms/);
  assert.equal(telemetry.length, 0, 'refused telemetry is not published');
  assert.equal(device.received.filter((m) => m.type === 'ack').length, 0);

  const counted = await h.metrics.registry.getSingleMetric('flotilla_frame_errors_total')?.get();
  assert.equal(counted?.values.find((v) => v.labels['code'] === ErrorCodes.RATE_LIMITED)?.value, over);

  // 100 ms at 10/s refills one token: the next frame is handled as usual.
  h.clock.advance(100);
  device.send('telemetry', { metrics: { battery: 42 } });
  await eventually(() => telemetry.length === 1, 'telemetry after the refill');
  assert.deepEqual((telemetry[0] as { metrics: unknown }).metrics, { battery: 42 });
  assert.equal(h.registry.get('r1')?.status.online, true);
});

test('limits are per device: a flooding device does not slow its neighbour', async (t) => {
  const h = await startGatewayHarness({ messageLimit: { rate: 10, burst: 3 } });
  t.after(() => h.close());
  const { device: noisy } = await TestDevice.online(h.url, 'noisy');
  const { device: quiet } = await TestDevice.online(h.url, 'quiet');
  for (let i = 0; i < 50; i++) noisy.send('heartbeat', {});
  await eventually(() => errors(noisy).length === 48, 'noisy refused past its burst');
  quiet.send('heartbeat', {});
  quiet.send('heartbeat', {});
  await quiet.next('ack');
  await quiet.next('ack');
  assert.deepEqual(errors(quiet), []);
});

test('the default limit leaves a normal agent alone and can be turned off', async (t) => {
  assert.deepEqual(DEFAULT_MESSAGE_LIMIT, { rate: 100, burst: 200 });
  const h = await startGatewayHarness({ messageLimit: null });
  t.after(() => h.close());
  assert.equal(h.gateway.messageLimit, undefined);
  const { device } = await TestDevice.online(h.url, 'r1');
  for (let i = 0; i < 500; i++) device.send('heartbeat', {});
  for (let i = 0; i < 500; i++) await device.next('ack');
  assert.deepEqual(errors(device), []);
});
