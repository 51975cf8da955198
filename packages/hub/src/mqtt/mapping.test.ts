import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptInbound, adaptOutbound, compileMappings, matchInbound, outboundTopic, ruleFor } from './mapping.js';
import { DeviceRoutes } from './routing.js';

/** The mapping rules of docs/mqtt.md ("Topic mapping"), one behaviour each. */

const [rule] = compileMappings([
  {
    name: 'plant',
    devices: 'arm-*',
    topics: {
      telemetry: 'plant/{device}/metrics/{metric}',
      event: 'plant/{device}/events/{type}',
      command: 'plant/{device}/do/{capability}/{command}',
      cancel: 'plant/{device}/stop',
    },
    command: { template: { ref: '{id}', what: '{capability}:{command}', with: '{args}', n: 3 } },
    cancel: { template: { ref: '{id}', why: '{reason}' } },
  },
]);
const rules = rule ? [rule] : [];

test('inbound topics name the device, the kind and the name; only for devices the rule applies to', () => {
  const metric = matchInbound(rules, 'plant/arm-1/metrics/torque');
  assert.deepEqual(metric && { device: metric.device, kind: metric.kind, name: metric.name }, {
    device: 'arm-1',
    kind: 'telemetry',
    name: 'torque',
  });
  assert.equal(matchInbound(rules, 'plant/belt-1/metrics/torque'), undefined, 'outside `devices`');
  assert.equal(matchInbound(rules, 'plant/arm-1/metrics'), undefined, 'a level short');
  assert.equal(matchInbound(rules, 'plant/arm 1/metrics/torque'), undefined, 'not a device id');
  assert.equal(ruleFor(rules, 'belt-1'), undefined);
});

test('commands and cancels go to the rule’s topics with its templates filled in', () => {
  const payload = { id: 'c1', capability: 'hal.v1.gripper', command: 'open', args: { width: 0.04 } };
  assert.equal(
    outboundTopic(rule, 'command', { device: 'arm-1', capability: 'hal.v1.gripper', command: 'open' }),
    'plant/arm-1/do/hal.v1.gripper/open',
  );
  assert.deepEqual(JSON.parse(adaptOutbound(rule, 'command', 'arm-1', payload)), {
    ref: 'c1',
    what: 'hal.v1.gripper:open',
    with: { width: 0.04 },
    n: 3,
  });
  // A placeholder with no value is left out, not sent as null.
  assert.deepEqual(JSON.parse(adaptOutbound(rule, 'cancel', 'arm-1', { id: 'c1' })), { ref: 'c1' });
  assert.equal(outboundTopic(undefined, 'command', { device: 'x' }), undefined, 'no rule: the Flotilla topic');
});

test('a device under the rule subscribes to its own mapped command topics only', () => {
  const routes = new DeviceRoutes(rules);
  const allowed = ['plant/arm-1/do/#', 'plant/arm-1/do/+/+', 'plant/arm-1/do/hal.v1.gripper/open', 'plant/arm-1/stop'];
  for (const filter of allowed) assert.equal(routes.subscribe('arm-1', filter).ok, true, filter);
  const refused = ['plant/#', 'plant/+/do/#', 'plant/arm-2/do/#', 'plant/arm-1/metrics/+', 'plant/arm-1/do/x/y/z'];
  for (const filter of refused) assert.equal(routes.subscribe('arm-1', filter).ok, false, filter);
  assert.equal(routes.deliverable('arm-1', 'plant/arm-1/do/hal.v1.led/set'), true);
  assert.equal(routes.deliverable('arm-1', 'plant/arm-2/do/hal.v1.led/set'), false);
});

test('telemetry is flattened, its timestamp converted, ignored fields dropped', () => {
  const [telemetryRule] = compileMappings([
    {
      name: 't',
      devices: '*',
      topics: { telemetry: 'legacy/{device}/state' },
      telemetry: { timestamp: 'at', timestampUnit: 'iso', ignore: ['name', 'pose.frame'] },
    },
  ]);
  const topic = telemetryRule && matchInbound([telemetryRule], 'legacy/r1/state');
  assert.ok(topic);
  const adapted = adaptInbound(
    topic,
    Buffer.from(
      JSON.stringify({ name: 'r1', at: '2024-01-01T00:00:01Z', pose: { x: 1, frame: 'map' }, docked: false }),
    ),
  );
  assert.ok('payload' in adapted);
  assert.deepEqual(JSON.parse(adapted.payload.toString()), {
    metrics: { 'pose.x': 1, docked: 0 },
    ts: Date.UTC(2024, 0, 1, 0, 0, 1),
  });
});
