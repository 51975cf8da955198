import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { CommandPayload, Device } from '@flotilla/protocol';
import { TestSocket } from '../client-ws/test-client.js';
import { TestDevice, eventually } from '../gateway/testing.js';
import { json } from '../http/testing.js';
import { DisconnectReasons } from '../registry/projection.js';
import { TEST_NATS_URL, leaderAndFollower, openTestCluster, type ClusterHub, type TestCluster } from './testing.js';

/**
 * Two hubs sharing one fleet over the machine's NATS (JetStream on) and one PostgreSQL test
 * database, in one process: devices over real WebSockets to one hub, the REST API, `/ws/client`
 * and a plain NATS client on the other. The kill of a hub process is tested in the CLI's
 * nats.test.ts.
 */
describe('two hubs on NATS share one fleet', () => {
  let cluster: TestCluster;
  let a: ClusterHub;
  let b: ClusterHub;
  let nc: NatsConnection;
  const devices: TestDevice[] = [];

  before(async () => {
    cluster = await openTestCluster(2);
    // a: the leader, b: the follower.
    [a, b] = await leaderAndFollower(cluster);
    nc = await connect({ servers: TEST_NATS_URL });
  });
  after(async () => {
    for (const d of devices) await d.close().catch(() => undefined);
    await nc?.close();
    await cluster?.dispose();
  });

  async function robot(hub: ClusterHub, id: string, labels: Record<string, string> = {}): Promise<TestDevice> {
    const { device } = await TestDevice.online(`${hub.wsUrl}/ws/agent`, id, {
      type: 'lekiwi',
      labels,
      capabilities: [{ name: 'hal.v1.led' }, { name: 'hal.v1.estop' }],
    });
    devices.push(device);
    return device;
  }

  const online = (hub: ClusterHub, id: string) => hub.registry.get(id)?.status.online === true;
  const subject = (s: string) => `${cluster.prefix}.${s}`;

  test('one hub leads, the other follows', async () => {
    assert.equal(a.nats?.presence.isLeader, true);
    assert.equal(b.nats?.presence.isLeader, false);
    // Beating again changes nothing: the leader keeps it, the follower cannot take it.
    await b.nats?.presence.heartbeat();
    await a.nats?.presence.heartbeat();
    assert.equal(a.nats?.presence.isLeader, true);
    assert.equal(b.nats?.presence.isLeader, false);
  });

  test('a device on one hub is listed, watched live and commanded through the other', async () => {
    const live = await TestSocket.connect(`${b.wsUrl}/ws/client?access_token=${b.adminToken}`);
    try {
      live.send({ type: 'subscribe', id: 's1', subjects: ['flotilla.nx-r1.>'] });
      await live.next((f) => f['type'] === 'subscribed');
      const r1 = await robot(a, 'nx-r1', { site: 'lab' });

      await eventually(() => online(b, 'nx-r1'), 'hub B to see nx-r1 online');
      const listed = json<Device>(await b.inject('/api/v1/devices/nx-r1'));
      assert.equal(listed.status.online, true);
      assert.equal(listed.labels['site'], 'lab');
      await live.next((f) => f['subject'] === 'flotilla.nx-r1.status');

      r1.send('telemetry', { metrics: { battery: 81.5 } });
      const frame = await live.next((f) => f['subject'] === 'flotilla.nx-r1.telemetry');
      assert.deepEqual((frame['data'] as { metrics: unknown }).metrics, { battery: 81.5 });

      const answer = b.inject({
        method: 'POST',
        url: '/api/v1/devices/nx-r1/commands',
        payload: { capability: 'hal.v1.led', command: 'set', args: { on: true, color: '#00ff00' } },
      });
      const sent = (await r1.next('command')).payload as CommandPayload;
      assert.equal(sent.command, 'set');
      assert.deepEqual(sent.args, { on: true, color: '#00ff00' });
      r1.send('result', { id: sent.id, status: 'succeeded', result: { on: true } });
      const res = await answer;
      assert.equal(res.statusCode, 200, res.body);
      const record = json<{ id: string; status: string; result: unknown; actor: string; device: string }>(res);
      assert.deepEqual(
        { id: record.id, status: record.status, result: record.result, actor: record.actor, device: record.device },
        { id: sent.id, status: 'succeeded', result: { on: true }, actor: 'user:admin', device: 'nx-r1' },
      );
      // One record, in the shared storage: either hub reads the same.
      assert.deepEqual(json(await a.inject(`/api/v1/commands/${sent.id}`)), json(res));

      // async=true: 202 once the holder has sent it.
      const accepted = await b.inject({
        method: 'POST',
        url: '/api/v1/devices/nx-r1/commands?async=true',
        payload: { capability: 'hal.v1.estop', command: 'engage', args: {} },
      });
      assert.equal(accepted.statusCode, 202, accepted.body);
      const engage = (await r1.next('command')).payload as CommandPayload;
      assert.equal(json<{ id: string; status: string }>(accepted).id, engage.id);
      assert.equal(json<{ status: string }>(accepted).status, 'delivered');
      r1.send('result', { id: engage.id, status: 'succeeded' });
      await eventually(
        async () => json<{ status: string }>(await b.inject(`/api/v1/commands/${engage.id}`)).status === 'succeeded',
        'the async command to succeed',
      );

      // Refused before anything is sent, by B alone or by the holder, with the API's codes.
      const bad = await b.inject({
        method: 'POST',
        url: '/api/v1/devices/nx-r1/commands',
        payload: { capability: 'hal.v1.led', command: 'set', args: { on: 'yes' } },
      });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal(json<{ error: { code: string } }>(bad).error.code, 'bad_args');
    } finally {
      live.close();
    }
  });

  test('a service commands a device straight over NATS with the same subjects', async () => {
    const r2 = await robot(b, 'nx-r2');
    const reply = nc.request(
      subject('flotilla.nx-r2.cmd.hal.v1.led'),
      JSON.stringify({ command: 'set', args: { on: false } }),
      { timeout: 10_000 },
    );
    const sent = (await r2.next('command')).payload as CommandPayload;
    r2.send('result', { id: sent.id, status: 'succeeded', result: { on: false } });
    assert.deepEqual((await reply).json(), { id: sent.id, status: 'succeeded', result: { on: false } });
    const record = json<{ actor: string }>(await a.inject(`/api/v1/commands/${sent.id}`));
    assert.equal(record.actor, 'nats');

    const unknown = await nc.request(subject('flotilla.nx-r2.cmd.hal.v1.led'), JSON.stringify({ command: 'blink' }), {
      timeout: 10_000,
    });
    assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'unknown_command');
    const malformed = await nc.request(subject('flotilla.nx-r2.cmd.hal.v1.led'), 'not json', { timeout: 10_000 });
    assert.equal(malformed.json<{ error: { code: string } }>().error.code, 'bad_request');
    // A caller's own id must be new: the recorded command is not overwritten.
    const reused = await nc.request(
      subject('flotilla.nx-r2.cmd.hal.v1.led'),
      JSON.stringify({ id: sent.id, command: 'set', args: { on: true } }),
      { timeout: 10_000 },
    );
    assert.equal(reused.json<{ error: { code: string } }>().error.code, 'command_exists');
    assert.equal(json<{ status: string }>(await a.inject(`/api/v1/commands/${sent.id}`)).status, 'succeeded');
    // Connected nowhere: NATS itself says nobody answers, at once.
    await assert.rejects(
      nc.request(subject('flotilla.nx-nobody.cmd.hal.v1.led'), JSON.stringify({ command: 'set' }), { timeout: 10_000 }),
      /no responders/i,
    );
  });

  test('a job on one hub is cancelled through the other, and by a service over NATS', async () => {
    const { device: r6 } = await TestDevice.online(`${a.wsUrl}/ws/agent`, 'nx-r6', {
      type: 'lekiwi',
      capabilities: [{ name: 'hal.v1.motor.stepper' }],
    });
    devices.push(r6);
    await eventually(() => online(b, 'nx-r6'), 'hub B to see nx-r6');
    const home = async (): Promise<string> => {
      const res = await b.inject({
        method: 'POST',
        url: '/api/v1/devices/nx-r6/commands?async=true',
        payload: { capability: 'hal.v1.motor.stepper', command: 'home', args: {} },
      });
      assert.equal(res.statusCode, 202, res.body);
      const sent = (await r6.next('command')).payload as CommandPayload;
      assert.equal(json<{ id: string }>(res).id, sent.id);
      return sent.id;
    };

    // Through B, which does not hold nx-r6: relayed to A, which asks the device and records it.
    const first = await home();
    r6.send('progress', { id: first, progress: 0.4 });
    await eventually(async () => (await a.storage.commands.get(first))?.progress === 0.4, 'progress on A');
    const cancel = await b.inject({
      method: 'POST',
      url: `/api/v1/commands/${first}/cancel`,
      payload: { reason: 'blocked aisle' },
    });
    assert.equal(cancel.statusCode, 202, cancel.body);
    const cancelled = json<{ id: string; status: string; progress: number; device: string }>(cancel);
    assert.deepEqual(
      [cancelled.id, cancelled.status, cancelled.progress, cancelled.device],
      [first, 'delivered', 0.4, 'nx-r6'],
    );
    assert.deepEqual((await r6.next('cancel')).payload, { id: first, reason: 'blocked aisle' });
    r6.send('result', { id: first, status: 'cancelled', error: { code: 'cancelled', message: 'blocked aisle' } });
    await eventually(
      async () => json<{ status: string }>(await b.inject(`/api/v1/commands/${first}`)).status === 'cancelled',
      'the job cancelled, seen through B',
    );
    const events = await a.storage.readEvents({ aggregateId: 'nx-r6', limit: 20, order: 'asc' });
    const requested = events.find((e) => e.type === 'CommandCancelRequested' && e.data['id'] === first);
    assert.equal(requested?.metadata.actor, 'user:admin', 'recorded as the user who asked B');
    assert.equal(requested?.data['delivered'], true);
    // Finished: B says so from the shared record, as A would.
    const again = await b.inject({ method: 'POST', url: `/api/v1/commands/${first}/cancel` });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(json<{ error: { code: string } }>(again).error.code, 'command_not_running');

    // A service, straight over NATS on the device's command subject.
    const second = await home();
    const reply = await nc.request(
      subject('flotilla.nx-r6.cmd.hal.v1.motor.stepper'),
      JSON.stringify({ cancel: second }),
      { timeout: 10_000 },
    );
    const answer = reply.json<{ requested: boolean; record: { id: string; deviceId: string } }>();
    assert.deepEqual([answer.requested, answer.record.id, answer.record.deviceId], [true, second, 'nx-r6']);
    assert.deepEqual((await r6.next('cancel')).payload, { id: second });
    // Only the subject's device's commands, and only well-formed requests.
    const otherDevice = await nc.request(
      subject('flotilla.nx-r1.cmd.hal.v1.motor.stepper'),
      JSON.stringify({ cancel: second }),
      { timeout: 10_000 },
    );
    assert.equal(otherDevice.json<{ error: { code: string } }>().error.code, 'command_not_found');
    const both = await nc.request(
      subject('flotilla.nx-r6.cmd.hal.v1.motor.stepper'),
      JSON.stringify({ cancel: second, command: 'home' }),
      { timeout: 10_000 },
    );
    assert.equal(both.json<{ error: { code: string } }>().error.code, 'bad_request');
    r6.send('result', { id: second, status: 'cancelled' });
    await eventually(
      async () => (await a.storage.commands.get(second))?.status === 'cancelled',
      'the second job cancelled',
    );

    // An open record whose device no hub holds: nobody runs it, said at once.
    const third = await home();
    await r6.close();
    await eventually(() => !online(b, 'nx-r6'), 'hub B to see nx-r6 gone');
    await eventually(() => !online(a, 'nx-r6') && a.gateway.session('nx-r6') === undefined, 'hub A to let nx-r6 go');
    const orphan = await b.inject({ method: 'POST', url: `/api/v1/commands/${third}/cancel` });
    assert.equal(orphan.statusCode, 409, orphan.body);
    assert.equal(json<{ error: { code: string } }>(orphan).error.code, 'command_not_running');
  });

  test('alerts fire once, on the leader, for a device connected to the other hub; every hub shows them', async () => {
    const created = await b.inject({
      method: 'POST',
      url: '/api/v1/alert-rules',
      payload: { name: 'flat battery', severity: 'critical', condition: { type: 'battery', below: 20 } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const ruleId = json<{ id: string }>(created).id;
    // The leader (A) reloads its rules when B says they changed.
    await eventually(() => a.alerts.evaluator.rule(ruleId) !== undefined, 'the leader to load the new rule');

    const r3 = await robot(b, 'nx-r3');
    await eventually(() => online(a, 'nx-r3'), 'the leader to see nx-r3');
    r3.send('telemetry', { metrics: { battery: 12 } });
    const firing = async (hub: ClusterHub) =>
      json<{ items: { rule: string; device: string; status: string }[] }>(
        await hub.inject('/api/v1/alerts?device=nx-r3'),
      ).items.filter((alert) => alert.rule === ruleId);
    await eventually(async () => (await firing(b)).length === 1, 'one alert for nx-r3, seen through B', 10_000);
    assert.equal(b.alerts.evaluator.size, 0, 'the follower evaluates nothing');
    r3.send('telemetry', { metrics: { battery: 11 } });
    await a.alerts.flush();
    assert.equal((await firing(a)).length, 1, 'still one alert');
  });

  test('an ack or resolve through the follower takes effect on the leader at once', async () => {
    const created = await b.inject({
      method: 'POST',
      url: '/api/v1/alert-rules',
      payload: {
        name: 'hot motor',
        severity: 'warning',
        selector: 'bay=7',
        condition: { type: 'threshold', metric: 'motor.temp', op: '>', value: 80 },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const ruleId = json<{ id: string }>(created).id;
    await eventually(() => a.alerts.evaluator.rule(ruleId) !== undefined, 'the leader to load the new rule');
    const r7 = await robot(b, 'nx-r7', { bay: '7' });
    await eventually(() => online(a, 'nx-r7'), 'the leader to see nx-r7');
    const held = () => [...a.alerts.lifecycle.openAlerts()].filter((alert) => alert.ruleId === ruleId);
    const fired = async () => {
      await eventually(() => held().length === 1, 'the leader to fire', 10_000);
      await a.alerts.flush();
      return (held()[0] as { id: string }).id;
    };
    r7.send('telemetry', { metrics: { 'motor.temp': 91 } });
    const first = await fired();

    const ack = await b.inject({ method: 'POST', url: `/api/v1/alerts/${first}/ack` });
    assert.equal(ack.statusCode, 200, ack.body);
    assert.deepEqual(
      [json<{ status: string }>(ack).status, json<{ acknowledgedBy: string }>(ack).acknowledgedBy],
      ['acknowledged', 'user:admin'],
    );
    // The leader's own state changed with the stored one, before any new telemetry.
    assert.equal(held()[0]?.status, 'acknowledged');
    assert.equal(held()[0]?.acknowledgedBy, 'user:admin');
    const again = await b.inject({ method: 'POST', url: `/api/v1/alerts/${first}/ack` });
    assert.equal(
      json<{ acknowledgedAt: number }>(again).acknowledgedAt,
      json<{ acknowledgedAt: number }>(ack).acknowledgedAt,
    );

    const resolved = await b.inject({ method: 'POST', url: `/api/v1/alerts/${first}/resolve` });
    assert.equal(resolved.statusCode, 200, resolved.body);
    assert.equal(json<{ resolution: string }>(resolved).resolution, 'manual');
    assert.equal(held().length, 0, 'the leader let the alert go');
    // Resolved by hand while the condition holds: no new alert until it clears, as on one hub.
    r7.send('telemetry', { metrics: { 'motor.temp': 92 } });
    r7.send('telemetry', { metrics: { 'motor.temp': 60 } });
    r7.send('telemetry', { metrics: { 'motor.temp': 95 } });
    const second = await fired();
    assert.notEqual(second, first);
    const twice = await b.inject({ method: 'POST', url: `/api/v1/alerts/${first}/resolve` });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(json<{ error: { code: string } }>(twice).error.code, 'alert_resolved');
    const history = json<{ history: { type: string; metadata: { actor: string } }[] }>(
      await a.inject(`/api/v1/alerts/${first}`),
    ).history.map((e) => `${e.type} ${e.metadata.actor}`);
    assert.deepEqual(history, ['AlertFired system', 'AlertAcknowledged user:admin', 'AlertResolved user:admin']);

    // No leader answering (between a leader's death and the next): the follower stores it, and
    // the hub that leads next reads it.
    a.nats?.alertLeader.stop();
    try {
      const stored = await b.inject({ method: 'POST', url: `/api/v1/alerts/${second}/ack` });
      assert.equal(stored.statusCode, 200, stored.body);
      assert.equal(json<{ status: string }>(stored).status, 'acknowledged');
      assert.equal((await a.storage.alerts.getAlert(second))?.status, 'acknowledged');
      await a.alerts.follow();
      await a.alerts.lead();
      assert.equal(held()[0]?.status, 'acknowledged');
    } finally {
      a.nats?.alertLeader.serve(a.alerts);
    }
  });

  test('a device that reconnects through the other hub moves there; the first hub lets it go', async () => {
    const first = await robot(a, 'nx-r4');
    await eventually(() => online(b, 'nx-r4'), 'hub B to see nx-r4');
    assert.ok(a.gateway.session('nx-r4'));
    await robot(b, 'nx-r4');
    const closed = await first.closed;
    assert.equal(closed.code, 4000, `replaced, got ${closed.code} ${closed.reason}`);
    await eventually(() => a.gateway.session('nx-r4') === undefined, 'hub A to drop its session');
    assert.ok(b.gateway.session('nx-r4'));
    await eventually(() => online(a, 'nx-r4') && online(b, 'nx-r4'), 'both to see nx-r4 online');
    // Commands through A now reach it on B.
    const answer = a.inject({
      method: 'POST',
      url: '/api/v1/devices/nx-r4/commands',
      payload: { capability: 'hal.v1.estop', command: 'engage', args: {} },
    });
    const moved = devices[devices.length - 1] as TestDevice;
    const sent = (await moved.next('command')).payload as CommandPayload;
    moved.send('result', { id: sent.id, status: 'succeeded' });
    assert.equal(json<{ status: string }>(await answer).status, 'succeeded');
  });

  test('the leader marks offline a device whose hub left without a word', async () => {
    await robot(b, 'nx-r5');
    await eventually(() => online(a, 'nx-r5'), 'the leader to see nx-r5');
    // The presence of nx-r5 names a hub that is not in the fleet, as after a kill (the decision
    // alone: B still holds the socket here; the kill itself is in the CLI's nats.test.ts).
    const ghost = { hub: 'gone-hub', session: b.registry.latestSessionOf('nx-r5'), transport: 'ws', since: 0 };
    const kv = await new Kvm(nc).open(`${cluster.prefix}_flotilla_presence`);
    await kv.put('nx-r5', JSON.stringify(ghost));
    await eventually(() => a.nats?.presence.entry('nx-r5')?.hub === 'gone-hub', 'the leader to see the ghost entry');
    assert.ok(a.nats);
    assert.deepEqual(await a.nats.sweep(a.registry), ['nx-r5']);
    const events = await a.storage.readEvents({ aggregateId: 'nx-r5', limit: 10, order: 'desc' });
    assert.equal(events[0]?.type, 'DeviceDisconnected');
    assert.equal(events[0]?.data['reason'], DisconnectReasons.HUB_LOST);
    assert.equal(online(a, 'nx-r5'), false);
    // The follower does not sweep.
    assert.ok(b.nats);
    assert.deepEqual(await b.nats.sweep(b.registry), []);
  });
});
