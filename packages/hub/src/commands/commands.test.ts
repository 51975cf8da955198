import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandPayload, Message, StoredEvent } from '@flotilla/protocol';
import { TestDevice, eventually } from '../gateway/testing.js';
import { json, openTestHub, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';
import { RESULT_GRACE_MS } from './service.js';

interface CommandJson {
  id: string;
  device: string;
  capability: string;
  command: string;
  args: Record<string, unknown>;
  priority: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string };
  actor: string;
  deliveredAt: number | null;
  completedAt: number | null;
}

/**
 * Commands end to end: the REST API of a whole hub (ManualClock, both storage engines), devices
 * over real WebSockets that answer as an agent would.
 */
for (const engine of ENGINES) {
  describe(`commands on ${engine}`, () => {
    let hub: TestHub;
    let url: string;
    const devices: TestDevice[] = [];

    before(async () => {
      hub = await openTestHub(engine, { deviceAuth: false });
      await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const address = hub.app.server.address();
      assert.ok(address && typeof address === 'object');
      url = `ws://127.0.0.1:${address.port}/ws/agent`;
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      await hub?.dispose();
    });

    async function robot(id: string, capabilities: string[], labels: Record<string, string> = {}): Promise<TestDevice> {
      const { device } = await TestDevice.online(url, id, {
        type: 'lekiwi',
        labels,
        capabilities: capabilities.map((name) => ({ name })),
      });
      devices.push(device);
      return device;
    }

    const send = (id: string, body: unknown, query = '') =>
      hub.inject({ method: 'POST', url: `/api/v1/devices/${id}/commands${query}`, payload: body as object });
    const payloadOf = (m: Message) => m.payload as CommandPayload;
    const metric = async (name: string, labels: Record<string, string>) => {
      const values = (await hub.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
      return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
    };

    test('a command round-trips: validated, delivered, answered, recorded, with an event per step', async () => {
      const r1 = await robot('cmd-r1', ['hal.v1.motor.differential', 'hal.v1.estop']);
      const answer = send('cmd-r1', {
        capability: 'hal.v1.motor.differential',
        command: 'drive',
        args: { left: 0.2, right: 0.3 },
      });
      const frame = await r1.next('command');
      const sent = payloadOf(frame);
      assert.deepEqual(
        { ...sent, id: undefined },
        {
          id: undefined,
          capability: 'hal.v1.motor.differential',
          command: 'drive',
          args: { left: 0.2, right: 0.3 },
          timeoutMs: 30_000,
          priority: 'normal',
        },
      );
      r1.send('result', { id: sent.id, status: 'succeeded', result: { left: 0.2, right: 0.3 } });
      const res = await answer;
      assert.equal(res.statusCode, 200, res.body);
      const record = json<CommandJson>(res);
      assert.equal(record.id, sent.id);
      assert.equal(record.status, 'succeeded');
      assert.deepEqual(record.result, { left: 0.2, right: 0.3 });
      assert.equal(record.actor, 'user:admin');
      assert.equal(typeof record.deliveredAt, 'number');

      assert.deepEqual(json<CommandJson>(await hub.inject(`/api/v1/commands/${sent.id}`)), record);
      const listed = json<{ items: CommandJson[] }>(await hub.inject('/api/v1/devices/cmd-r1/commands'));
      assert.deepEqual(
        listed.items.map((c) => c.id),
        [sent.id],
      );

      await eventually(async () => (await commandEvents('cmd-r1')).length === 3, 'three command events');
      const events = await commandEvents('cmd-r1');
      assert.deepEqual(
        events.map((e) => [e.type, e.metadata.actor, e.metadata.correlationId]),
        [
          ['CommandIssued', 'user:admin', sent.id],
          ['CommandDelivered', 'user:admin', sent.id],
          ['CommandSucceeded', 'device:cmd-r1', sent.id],
        ],
      );
      assert.equal(await metric('flotilla_commands_total', { status: 'succeeded' }), 1);
    });

    async function commandEvents(id: string): Promise<StoredEvent[]> {
      return (await hub.storage.readEvents({ aggregateId: id, limit: 100, order: 'asc' })).filter(
        (e) => e.type.startsWith('Command') || e.type.startsWith('Job'),
      );
    }

    test('everything a caller can get wrong is refused with its own code before anything is sent', async () => {
      const r2 = await robot('cmd-r2', ['hal.v1.motor.differential']);
      const refused = async (id: string, body: unknown, status: number, code: string, message?: RegExp) => {
        const res = await send(id, body);
        assert.equal(res.statusCode, status, res.body);
        const error = json<ErrorBodyJson>(res).error;
        assert.equal(error.code, code);
        if (message) assert.match(error.message, message);
      };
      const drive = { capability: 'hal.v1.motor.differential', command: 'drive' };
      await refused('nobody', { ...drive, args: { left: 0, right: 0 } }, 404, 'device_not_found');
      await refused(
        'cmd-r2',
        { capability: 'hal.v1.led', command: 'set', args: { on: true } },
        422,
        'capability_not_declared',
      );
      await refused('cmd-r2', { capability: 'hal.v1.warp', command: 'engage', args: {} }, 400, 'unknown_capability');
      await refused('cmd-r2', { ...drive, command: 'fly', args: {} }, 400, 'unknown_command', /it has drive, stop/);
      await refused('cmd-r2', { ...drive, args: { left: 0.1, right: 99 } }, 400, 'bad_args', /\/right must be <= 20/);
      await refused('cmd-r2', { ...drive, args: { left: 0.1 } }, 400, 'bad_args', /required property 'right'/);
      await refused('cmd-r2', { ...drive }, 400, 'bad_args');
      await refused('cmd-r2', { ...drive, args: { left: 0, right: 0 }, timeoutMs: 0 }, 400, 'bad_request');

      const viewer = await hub.tokenFor('viewer');
      const forbidden = await hub.inject({
        method: 'POST',
        url: '/api/v1/devices/cmd-r2/commands',
        headers: { authorization: `Bearer ${viewer}` },
        payload: { ...drive, args: { left: 0, right: 0 } },
      });
      assert.equal(forbidden.statusCode, 403);

      await r2.close();
      await eventually(() => hub.registry.get('cmd-r2')?.status.online === false, 'r2 offline');
      await refused('cmd-r2', { ...drive, args: { left: 0, right: 0 } }, 409, 'device_offline');
      assert.equal(r2.received.filter((m) => m.type === 'command').length, 0, 'nothing was sent');
    });

    test('async: 202 at once; no answer times out on the clock; a late answer is dropped and counted', async () => {
      const r3 = await robot('cmd-r3', ['hal.v1.motor.differential']);
      const res = await send(
        'cmd-r3',
        { capability: 'hal.v1.motor.differential', command: 'stop', timeoutMs: 5000 },
        '?async=true',
      );
      assert.equal(res.statusCode, 202, res.body);
      const accepted = json<CommandJson>(res);
      assert.equal(accepted.status, 'delivered');
      const frame = payloadOf(await r3.next('command'));
      assert.equal(frame.id, accepted.id);

      hub.clock.advance(5000 + RESULT_GRACE_MS);
      await eventually(
        async () => json<CommandJson>(await hub.inject(`/api/v1/commands/${accepted.id}`)).status === 'timed_out',
        'timed out',
      );
      const timedOut = json<CommandJson>(await hub.inject(`/api/v1/commands/${accepted.id}`));
      assert.equal(timedOut.error?.code, 'timed_out');

      r3.send('result', { id: accepted.id, status: 'succeeded' });
      await eventually(
        async () => (await metric('flotilla_command_stray_results_total', { reason: 'late' })) === 1,
        'late result counted',
      );
      assert.equal(json<CommandJson>(await hub.inject(`/api/v1/commands/${accepted.id}`)).status, 'timed_out');
    });

    test('a failure keeps the device’s error; duplicates and answers from another device are dropped', async () => {
      const r4 = await robot('cmd-r4', ['hal.v1.motor.differential']);
      const other = await robot('cmd-r4-other', ['hal.v1.motor.differential']);
      const answer = send('cmd-r4', {
        capability: 'hal.v1.motor.differential',
        command: 'drive',
        args: { left: 1, right: 1 },
      });
      const { id } = payloadOf(await r4.next('command'));
      other.send('result', { id, status: 'succeeded' }); // not its command
      await eventually(
        async () => (await metric('flotilla_command_stray_results_total', { reason: 'wrong_device' })) === 1,
        'wrong device counted',
      );
      r4.send('result', {
        id,
        status: 'failed',
        error: { code: 'estop_engaged', message: 'release the e-stop first' },
      });
      const record = json<CommandJson>(await answer);
      assert.equal(record.status, 'failed');
      assert.deepEqual(record.error, { code: 'estop_engaged', message: 'release the e-stop first' });
      r4.send('result', { id, status: 'succeeded' });
      await eventually(
        async () => (await metric('flotilla_command_stray_results_total', { reason: 'duplicate' })) === 1,
        'duplicate counted',
      );
    });

    test('e-stop goes out as critical; a v1 command reaches a v2-only device upcast', async () => {
      const r5 = await robot('cmd-r5', ['hal.v1.estop', 'hal.v2.led']);
      const engage = send('cmd-r5', { capability: 'hal.v1.estop', command: 'engage' }, '?async=true');
      assert.equal(payloadOf(await r5.next('command')).priority, 'critical');
      assert.equal((await engage).statusCode, 202);

      const led = send(
        'cmd-r5',
        { capability: 'hal.v1.led', command: 'set', args: { on: true, color: '#00ff80' } },
        '?async=true',
      );
      const frame = payloadOf(await r5.next('command'));
      assert.deepEqual(
        [frame.capability, frame.command, frame.args],
        ['hal.v2.led', 'set', { on: true, rgb: { r: 0, g: 255, b: 128 }, brightness: 1 }],
      );
      assert.equal(json<CommandJson>(await led).capability, 'hal.v2.led');
      // Records are written behind the command (journal.ts): the event follows within a flush.
      const issuedEvent = async () => (await commandEvents('cmd-r5')).find((e) => e.data['id'] === frame.id);
      await eventually(async () => (await issuedEvent()) !== undefined, 'CommandIssued written');
      assert.equal((await issuedEvent())?.data['requestedCapability'], 'hal.v1.led');
    });

    test('broadcast to a label selector: one result per matching device, refusals included', async () => {
      const a = await robot('cmd-lab-a', ['hal.v1.estop'], { site: 'lab9' });
      const b = await robot('cmd-lab-b', ['hal.v1.motor.differential'], { site: 'lab9' });
      await robot('cmd-yard', ['hal.v1.estop'], { site: 'yard9' });
      const answer = hub.inject({
        method: 'POST',
        url: '/api/v1/commands',
        payload: { selector: 'site=lab9', capability: 'hal.v1.estop', command: 'engage' },
      });
      const { id } = payloadOf(await a.next('command'));
      a.send('result', { id, status: 'succeeded', result: { engaged: true } });
      const res = await answer;
      assert.equal(res.statusCode, 200, res.body);
      const items = json<{ items: Array<{ device: string; command?: CommandJson; error?: { code: string } }> }>(
        res,
      ).items;
      const byDevice = Object.fromEntries(items.map((i) => [i.device, i]));
      assert.deepEqual(Object.keys(byDevice).sort(), ['cmd-lab-a', 'cmd-lab-b']);
      assert.equal(byDevice['cmd-lab-a']?.command?.status, 'succeeded');
      assert.equal(byDevice['cmd-lab-b']?.error?.code, 'capability_not_declared');
      assert.equal(b.received.filter((m) => m.type === 'command').length, 0);
      const bad = await hub.inject({
        method: 'POST',
        url: '/api/v1/commands',
        payload: { selector: 'site in (', capability: 'hal.v1.estop', command: 'engage' },
      });
      assert.equal(json<ErrorBodyJson>(bad).error.code, 'bad_selector');
    });

    test('a job reports progress (written once a second), is listed, and is cancelled through the device', async () => {
      const r6 = await robot('cmd-stepper', ['hal.v1.motor.stepper']);
      const res = await send('cmd-stepper', { capability: 'hal.v1.motor.stepper', command: 'home' }, '?async=true');
      assert.equal(res.statusCode, 202, res.body);
      const job = json<CommandJson & { job: boolean; progress: number | null }>(res);
      assert.equal(job.job, true);
      assert.equal(job.progress, null);
      const { id } = payloadOf(await r6.next('command'));

      r6.send('progress', { id, progress: 0.2, message: 'seeking' });
      r6.send('progress', { id, progress: 0.5 }); // within the second: memory only
      await eventually(async () => (await jobEvents(id)).length === 1, 'first progress written');
      const open = json<{ items: Array<{ id: string; progress: number; progressMessage: string | null }> }>(
        await hub.inject('/api/v1/jobs?open=true'),
      ).items;
      assert.deepEqual(
        open.filter((j) => j.id === id).map((j) => [j.progress, j.progressMessage]),
        [[0.5, null]],
      );
      hub.clock.advance(1000);
      r6.send('progress', { id, progress: 0.8, message: 'backing off' });
      await eventually(async () => (await jobEvents(id)).length === 2, 'second progress written');
      assert.equal((await hub.storage.commands.get(id))?.progress, 0.8);

      const cancel = await hub.inject({
        method: 'POST',
        url: `/api/v1/commands/${id}/cancel`,
        payload: { reason: 'blocked aisle' },
      });
      assert.equal(cancel.statusCode, 202, cancel.body);
      assert.deepEqual((await r6.next('cancel')).payload, { id, reason: 'blocked aisle' });
      r6.send('result', { id, status: 'cancelled', error: { code: 'cancelled', message: 'blocked aisle' } });
      await eventually(
        async () => (await commandEvents('cmd-stepper')).some((e) => e.type === 'CommandCancelled'),
        'cancelled',
      );
      assert.equal(json<CommandJson>(await hub.inject(`/api/v1/commands/${id}`)).status, 'cancelled');
      assert.deepEqual(
        (await commandEvents('cmd-stepper')).map((e) => e.type),
        [
          'CommandIssued',
          'CommandDelivered',
          'JobProgress',
          'JobProgress',
          'CommandCancelRequested',
          'CommandCancelled',
        ],
      );
      const requested = (await commandEvents('cmd-stepper')).find((e) => e.type === 'CommandCancelRequested');
      assert.equal(requested?.metadata.actor, 'user:admin');
      const stillOpen = json<{ items: Array<{ id: string }> }>(await hub.inject('/api/v1/jobs?open=true')).items;
      assert.ok(!stillOpen.some((j) => j.id === id));
      assert.ok(
        json<{ items: Array<{ id: string }> }>(await hub.inject('/api/v1/jobs')).items.some((j) => j.id === id),
      );

      const again = await hub.inject({ method: 'POST', url: `/api/v1/commands/${id}/cancel` });
      assert.equal(json<ErrorBodyJson>(again).error.code, 'command_not_running');
      assert.equal(again.statusCode, 409);
      const unknown = await hub.inject({ method: 'POST', url: '/api/v1/commands/no-such/cancel' });
      assert.equal(unknown.statusCode, 404);
      const viewer = await hub.app.inject({
        method: 'POST',
        url: `/api/v1/commands/${id}/cancel`,
        headers: { authorization: `Bearer ${await hub.tokenFor('viewer')}` },
      });
      assert.equal(viewer.statusCode, 403);
    });

    async function jobEvents(id: string): Promise<StoredEvent[]> {
      return (await commandEvents('cmd-stepper')).filter((e) => e.type === 'JobProgress' && e.data['id'] === id);
    }

    test('records a stopped hub left open are closed as timed out once past their deadline', async () => {
      const now = hub.clock.now();
      await hub.storage.commands.insert({
        id: 'abandoned-1',
        deviceId: 'cmd-ghost',
        capability: 'hal.v1.estop',
        command: 'release',
        args: {},
        priority: 'normal',
        status: 'delivered',
        result: undefined,
        error: null,
        timeoutMs: 1000,
        actor: 'user:admin',
        issuedAt: now - 10_000,
        deliveredAt: now - 10_000,
        completedAt: null,
        deadline: now - 7_000,
        job: false,
        progress: null,
        progressMessage: null,
      });
      assert.equal(await hub.commands.sweep(), 1);
      const row = await hub.storage.commands.get('abandoned-1');
      assert.equal(row?.status, 'timed_out');
      assert.equal(row?.error?.code, 'hub_stopped');
      assert.equal(await hub.commands.sweep(), 0, 'only once');
      assert.deepEqual(
        (await commandEvents('cmd-ghost')).map((e) => e.type),
        ['CommandTimedOut'],
      );
    });
  });
}
