import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Message, type MessageOf } from '@flotilla/protocol';
import { silentLogger } from '@flotilla/agent';
import { TestPeer } from '@flotilla/agent/test-peer';
import { SimError } from './errors.js';
import { startSimulation, type Simulation, type SimulationOptions } from './simulation.js';

const isType =
  <T extends Message['type']>(type: T) =>
  (m: Message): m is MessageOf<T> =>
    m.type === type;

async function withSim(
  t: { after: (fn: () => Promise<void>) => void },
  options: Omit<SimulationOptions, 'hubUrl'>,
  peer?: TestPeer,
): Promise<{ sim: Simulation; peer: TestPeer; clock: ManualClock }> {
  const p = peer ?? (await TestPeer.start());
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const sim = await startSimulation({ hubUrl: p.url, clock, logger: silentLogger, seed: 7, ...options });
  t.after(async () => {
    await sim.stop();
    if (!peer) await p.close();
  });
  return { sim, peer: p, clock };
}

/** Resolves when the peer has received `n` frames matching `match` (counting from now). */
function frames(peer: TestPeer, n: number, match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const onFrame = (m: Message): void => {
      if (!match(m)) return;
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        peer.off('frame', onFrame);
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      peer.off('frame', onFrame);
      reject(new Error(`only ${got.length} of ${n} frames within ${timeoutMs} ms`));
    }, timeoutMs);
    peer.on('frame', onFrame);
  });
}

test('200 simulated devices connect to the peer, each with its own facts', async (t) => {
  const { sim, peer } = await withSim(t, { count: 200, kind: 'mixed', concurrency: 50 });
  assert.equal(sim.devices.length, 200);
  assert.equal(sim.onlineCount(), 200);
  assert.equal(peer.sessions.size, 200);
  assert.deepEqual(sim.devices.slice(0, 5), ['lekiwi-0001', 'xle-0002', 'tonypi-0003', 'lekiwi-0004', 'mcu-0005']);

  const hellos = peer.frames.filter(isType('hello'));
  assert.equal(hellos.length, 200);
  const byId = new Map(hellos.map((h) => [h.device, h.payload]));
  const lk = byId.get('lekiwi-0001')!;
  assert.equal(lk.type, 'lekiwi');
  assert.equal(lk.labels?.['kind'], 'lekiwi');
  assert.ok(lk.labels?.['site']);
  assert.match(lk.hardware?.serial ?? '', /^LK-[0-9A-F]{10}$/);
  assert.equal(lk.network?.hostname, 'lekiwi-0001');
  assert.deepEqual(lk.capabilities?.map((c) => c.name).sort(), [
    'hal.v1.battery',
    'hal.v1.estop',
    'hal.v1.motor.differential',
    'hal.v1.sensor.imu',
    'hal.v1.sensor.range',
  ]);
  const tp = byId.get('tonypi-0003')!;
  assert.deepEqual(tp.capabilities?.map((c) => c.name).sort(), [
    'hal.v1.battery',
    'hal.v1.estop',
    'hal.v1.motor.servo',
    'hal.v1.sensor.imu',
  ]);
  assert.equal(byId.get('mcu-0005')!.hardware?.arch, 'xtensa');
  assert.equal(new Set(hellos.map((h) => h.payload.hardware?.serial)).size, 200, 'serials are unique');
  assert.equal(new Set(hellos.map((h) => h.payload.network?.mac)).size, 200, 'MACs are unique');

  const gone = new Promise<void>((resolve) => {
    let n = 0;
    peer.on('gone', () => ++n === 200 && resolve());
  });
  await sim.stop();
  await gone;
  assert.equal(sim.onlineCount(), 0);
});

test('one shared ticker: telemetry spread over the period, once per device per period', async (t) => {
  const { sim, peer, clock } = await withSim(t, { count: 40, kind: 'lekiwi', rate: 2 });
  // period 500 ms, 20 slots of 25 ms, 2 devices per slot
  const firstSlot = frames(peer, 2, isType('telemetry'));
  clock.advance(25);
  const first = await firstSlot;
  assert.deepEqual(first.map((m) => m.device).sort(), ['lekiwi-0001', 'lekiwi-0021']);

  const restOfPeriod = frames(peer, 38, isType('telemetry'));
  clock.advance(475);
  const rest = await restOfPeriod;
  const all = [...first, ...rest].map((m) => m.device);
  assert.equal(new Set(all).size, 40, 'every device exactly once');
  assert.equal(sim.onlineCount(), 40);
  const tm = rest[0] as MessageOf<'telemetry'>;
  assert.ok('metrics' in tm.payload);
  for (const name of [
    'battery.soc',
    'battery.voltage',
    'pose.x',
    'pose.y',
    'pose.theta',
    'motor.left.temperature',
    'system.cpu',
  ]) {
    assert.equal(typeof tm.payload.metrics[name], 'number', name);
  }
  assert.ok(tm.payload.samples?.['pose']);
  assert.equal(typeof tm.payload.seq, 'number', 'numbered: the hub acknowledges it after storing it');
});

test('drive and estop commands reach the simulated robot', async (t) => {
  const { sim, peer, clock } = await withSim(t, { count: 3, kind: 'mixed', rate: 10 });
  const id = 'lekiwi-0001';
  type Command = { id: string; capability: string; command: string; args: Record<string, unknown> };
  const result = async (cmd: Command, device = id): Promise<MessageOf<'result'>['payload']> => {
    const reply = peer.nextFrame((m) => m.type === 'result' && m.payload.id === cmd.id);
    peer.send(device, 'command', cmd);
    return ((await reply) as MessageOf<'result'>).payload;
  };

  assert.deepEqual(
    await result({
      id: 'c1',
      capability: 'hal.v1.motor.differential',
      command: 'drive',
      args: { left: 0.3, right: 0.3 },
    }),
    {
      id: 'c1',
      status: 'succeeded',
      result: { left: 0.3, right: 0.3 },
    },
  );
  const start = sim.inspect(id)!['pose'] as { x: number; y: number };
  clock.advance(5_000);
  const moved = sim.inspect(id)!['pose'] as { x: number; y: number };
  assert.equal(sim.inspect(id)!['mode'], 'manual');
  const dist = Math.hypot(moved.x - start.x, moved.y - start.y);
  assert.ok(dist > 1.3 && dist < 1.5, `drove ${dist} m in 5 s at 0.3 m/s`);

  const tooFast = await result({
    id: 'c2',
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 3, right: 3 },
  });
  assert.equal(tooFast.error?.code, 'out_of_range');
  const bad = await result({
    id: 'c3',
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 'fast' },
  });
  assert.equal(bad.error?.code, 'invalid_args');

  assert.equal(
    (await result({ id: 'c4', capability: 'hal.v1.estop', command: 'engage', args: {} })).status,
    'succeeded',
  );
  assert.equal(sim.inspect(id)!['estop'], true);
  const refused = await result({
    id: 'c5',
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 0.1, right: 0.1 },
  });
  assert.equal(refused.error?.code, 'estop_engaged');
  assert.deepEqual(await result({ id: 'c6', capability: 'hal.v1.estop', command: 'release', args: {} }), {
    id: 'c6',
    status: 'succeeded',
    result: { engaged: false },
  });

  const tp = await result(
    { id: 'tp1', capability: 'hal.v1.motor.differential', command: 'drive', args: { left: 0.1, right: 0.1 } },
    'tonypi-0003',
  );
  assert.equal(tp.error?.code, 'unsupported_command', 'a humanoid has no differential drive');
});

test("a device's identity facts depend on its id alone, so a restarted fleet reports no changes", async (t) => {
  const peer = await TestPeer.start();
  t.after(() => peer.close());
  const hellosOf = async (seed: number): Promise<unknown[]> => {
    const before = peer.frames.length;
    const { sim } = await withSim(
      t,
      { count: 4, kind: 'mixed', idPrefix: 'same', seed, rate: 0, clock: new ManualClock() },
      peer,
    );
    await sim.stop();
    return peer.frames
      .slice(before)
      .filter((m): m is MessageOf<'hello'> => m.type === 'hello')
      .map(({ device, payload: { uptime: _uptime, ...facts } }) => ({ device, facts }))
      .sort((x, y) => x.device.localeCompare(y.device));
  };
  const first = await hellosOf(1);
  const second = await hellosOf(2);
  assert.equal(first.length, 4);
  assert.deepEqual(first, second);
});

test('the same seed gives the same telemetry', async (t) => {
  const peer = await TestPeer.start();
  t.after(() => peer.close());
  const run = async (prefix: string, seed: number): Promise<unknown[]> => {
    const clock = new ManualClock();
    const { sim } = await withSim(t, { count: 5, kind: 'tonypi', idPrefix: prefix, seed, rate: 1, clock }, peer);
    const got = frames(peer, 15, (m) => m.type === 'telemetry' && m.device.startsWith(`${prefix}-`));
    clock.advance(3_000);
    const tms = (await got) as MessageOf<'telemetry'>[];
    const hellos = peer.frames.filter(
      (m): m is MessageOf<'hello'> => m.type === 'hello' && m.device.startsWith(`${prefix}-`),
    );
    await sim.stop();
    const strip = (id: string): string => id.slice(prefix.length);
    return [
      hellos
        .map((h) => ({
          ...h.payload,
          network: { ...h.payload.network, hostname: strip(h.payload.network?.hostname ?? '') },
        }))
        .sort((a, b) => String(a.hardware?.serial).localeCompare(String(b.hardware?.serial))),
      tms
        // Without its seq: numbering starts from the wall clock (a new buffer per run).
        .map((m) => ({ device: strip(m.device), ts: m.ts, payload: { ...m.payload, seq: undefined } }))
        .sort((a, b) => a.ts - b.ts || a.device.localeCompare(b.device)),
    ];
  };
  const a = await run('a', 99);
  const b = await run('b', 99);
  const c = await run('c', 100);
  // Telemetry follows the seed; identity facts follow the id (next test), so compare telemetry.
  assert.deepEqual(a[1], b[1]);
  assert.notDeepEqual(a[1], c[1]);
  assert.notDeepEqual(a[0], b[0], 'different ids give different serials and addresses');
});

test('bad options are refused before anything connects', async () => {
  const cases: Partial<SimulationOptions>[] = [
    { count: 0 },
    { count: 1.5 },
    { count: 2, rate: -1 },
    { count: 2, kind: 'drone' as never },
    { count: 2, idPrefix: 'a.b' },
    { count: 2, concurrency: 0 },
  ];
  for (const c of cases) {
    await assert.rejects(
      startSimulation({ hubUrl: 'http://127.0.0.1:1', count: 1, ...c }),
      (e: unknown) => e instanceof SimError && e.code === 'invalid_options',
      JSON.stringify(c),
    );
  }
});

test('an aborted start-up stops every device and rejects', async (t) => {
  const peer = await TestPeer.start();
  t.after(() => peer.close());
  const controller = new AbortController();
  peer.once('hello', () => controller.abort(new Error('user pressed Ctrl-C')));
  await assert.rejects(
    startSimulation({
      hubUrl: peer.url,
      count: 50,
      concurrency: 5,
      clock: new ManualClock(),
      logger: silentLogger,
      signal: controller.signal,
    }),
    /Ctrl-C/,
  );
  assert.ok(peer.accepted < 50, `stopped early: ${peer.accepted} connected`);
});
