import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '@flotilla/protocol';
import { Bus } from '../bus.js';
import { createMetrics } from '../metrics.js';
import type { CommandRow } from '../storage/commands.js';
import { openStorage } from '../storage/open.js';
import { createTestTarget, ENGINES, type TestTarget } from '../storage/testing.js';
import type { Storage } from '../storage/types.js';
import { CommandJournal } from './journal.js';

const T0 = 1_700_000_000_000;
const metadata = { actor: 'user:ada', correlationId: null, causationId: null };

function command(id: string, fields: Partial<CommandRow> = {}): CommandRow {
  return {
    id,
    deviceId: 'robot-1',
    capability: 'hal.v1.led',
    command: 'set',
    args: { on: true },
    priority: 'normal',
    status: 'issued',
    result: undefined,
    error: null,
    timeoutMs: 5000,
    actor: 'user:ada',
    issuedAt: T0,
    deliveredAt: null,
    completedAt: null,
    deadline: T0 + 7000,
    job: false,
    progress: null,
    progressMessage: null,
    ...fields,
  };
}

for (const engine of ENGINES) {
  describe(`command journal on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;
    let clock: ManualClock;
    let bus: Bus;
    let journal: CommandJournal;

    beforeEach(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
      clock = new ManualClock(T0);
      bus = new Bus();
      journal = new CommandJournal({
        storage,
        bus,
        clock,
        logger: pino({ enabled: false }),
        metrics: createMetrics({ defaultMetrics: false }),
      });
    });

    afterEach(async () => {
      await journal.drain();
      await storage.close();
      await target.cleanup();
    });

    it('writes a command’s steps as one row in its last state, events in order, published once stored', async () => {
      const published: string[] = [];
      bus.subscribe('flotilla.robot-1.event.>', (_subject, event) => published.push((event as { type: string }).type));
      const row = command('c1');
      journal.record(row, { type: 'CommandIssued', data: { id: 'c1' }, metadata });
      journal.record(
        { ...row, status: 'delivered', deliveredAt: T0 + 1 },
        {
          type: 'CommandDelivered',
          data: { id: 'c1' },
          metadata,
        },
      );
      const done = {
        ...row,
        status: 'succeeded' as const,
        deliveredAt: T0 + 1,
        completedAt: T0 + 3,
        result: { on: true },
      };
      journal.record(done, { type: 'CommandSucceeded', data: { id: 'c1' }, metadata });

      // Not written yet, but the journal answers for it.
      assert.equal(await storage.commands.get('c1'), undefined);
      assert.deepEqual(journal.unwritten('c1'), done);
      await journal.recorded('c1');

      assert.equal(journal.unwritten('c1'), undefined);
      assert.deepEqual(await storage.commands.get('c1'), done);
      const events = await storage.readEvents({ aggregateId: 'robot-1', order: 'asc', limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['CommandIssued', 'CommandDelivered', 'CommandSucceeded'],
      );
      assert.deepEqual(published, ['CommandIssued', 'CommandDelivered', 'CommandSucceeded']);
    });

    it('overwrites a stored record with its newer state, and lists what is not written yet', async () => {
      journal.record(command('c2'));
      await journal.recorded('c2');
      journal.record(command('c2', { status: 'timed_out', completedAt: T0 + 7000 }));
      journal.record(command('c3', { deviceId: 'robot-2' }));
      assert.deepEqual(
        journal.unwrittenWhere((row) => row.deviceId === 'robot-1').map((row) => [row.id, row.status]),
        [['c2', 'timed_out']],
      );
      await journal.drain();
      assert.equal((await storage.commands.get('c2'))?.status, 'timed_out');
      assert.equal((await storage.commands.get('c3'))?.deviceId, 'robot-2');
    });

    it('keeps what storage refused and writes it once storage answers again, then the newer states', async () => {
      // Storage refusing: the real store behind a switch.
      const record = storage.recordCommands.bind(storage);
      let refuse = true;
      let refused!: () => void;
      const wasRefused = new Promise<void>((resolve) => (refused = resolve));
      storage.recordCommands = async (rows, events) => {
        if (refuse) {
          refused();
          throw new Error('storage is away');
        }
        return record(rows, events);
      };
      journal.record(command('c4'), { type: 'CommandIssued', data: { id: 'c4' }, metadata });
      const recorded = journal.recorded('c4');
      await wasRefused;
      await new Promise((resolve) => setImmediate(resolve));
      // The failed flush leaves the record unwritten, and a retry on the clock.
      assert.equal(journal.unwritten('c4')?.status, 'issued');
      journal.record(command('c4', { status: 'succeeded', completedAt: T0 + 2 }), {
        type: 'CommandSucceeded',
        data: { id: 'c4' },
        metadata,
      });
      refuse = false;
      clock.advance(500);
      await recorded;
      await journal.drain();
      assert.equal((await storage.commands.get('c4'))?.status, 'succeeded');
      const events = await storage.readEvents({ aggregateId: 'robot-1', order: 'asc', limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['CommandIssued', 'CommandSucceeded'],
      );
    });
  });
}
