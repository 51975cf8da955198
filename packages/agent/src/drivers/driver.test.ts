import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@flotilla/protocol';
import { CommandRegistry } from '../commands.js';
import { AgentErrorCodes } from '../errors.js';
import { registerDrivers, TelemetryProducers, type Driver, type TelemetryReading } from './driver.js';

const led: Driver = {
  name: 'test.led',
  capabilities: { 'hal.v1.led': { set: (args) => ({ on: args['on'] }) } },
  telemetry: { intervalMs: 1000, sample: (device) => ({ metrics: { 'led.on': device === 'a' ? 1 : 0 } }) },
};

test('a driver’s handlers join the registry; a second driver claiming the same command is refused', async () => {
  const registry = registerDrivers(new CommandRegistry(), [led]);
  assert.deepEqual(registry.capabilities(), [{ name: 'hal.v1.led' }]);
  const result = await registry.execute(
    { id: 'c1', capability: 'hal.v1.led', command: 'set', args: { on: true } },
    'a',
    new ManualClock(),
  );
  assert.deepEqual(result, { id: 'c1', status: 'succeeded', result: { on: true } });
  assert.throws(() => registerDrivers(registry, [{ ...led, name: 'again' }]), {
    code: AgentErrorCodes.DUPLICATE_HANDLER,
  });
});

test('telemetry producers are sampled on their own interval until stopped; empty readings are not sent', () => {
  const clock = new ManualClock();
  let quiet = true;
  const sometimes: Driver = {
    name: 'test.sometimes',
    capabilities: {},
    telemetry: { intervalMs: 500, sample: () => (quiet ? undefined : { metrics: {}, samples: { note: 'x' } }) },
  };
  const sent: TelemetryReading[] = [];
  const producers = new TelemetryProducers([led, sometimes], clock);
  producers.start('a', (r) => sent.push(r));
  clock.advance(999);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(sent, [{ metrics: { 'led.on': 1 } }]);
  quiet = false;
  clock.advance(500);
  assert.deepEqual(sent.at(-1), { metrics: {}, samples: { note: 'x' } });
  producers.stop();
  clock.advance(10_000);
  assert.equal(sent.length, 2);
});
