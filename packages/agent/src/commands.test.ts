import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type CommandPayload } from '@flotilla/protocol';
import { CommandRegistry } from './commands.js';
import { AgentError, CommandError } from './errors.js';

const cmd = (
  capability: string,
  command: string,
  args: Record<string, unknown> = {},
  timeoutMs?: number,
): CommandPayload => ({
  id: 'c1',
  capability,
  command,
  args,
  ...(timeoutMs === undefined ? {} : { timeoutMs }),
});

test('a handler result becomes a succeeded result; the context names the device', async () => {
  const r = new CommandRegistry();
  r.register('hal.v1.motor.differential', 'drive', (args, ctx) => ({ device: ctx.device, left: args['left'] }));
  const res = await r.execute(cmd('hal.v1.motor.differential', 'drive', { left: 0.2 }), 'bot-1', new ManualClock());
  assert.deepEqual(res, { id: 'c1', status: 'succeeded', result: { device: 'bot-1', left: 0.2 } });
  r.register('hal.v1.estop', 'engage', () => undefined);
  assert.deepEqual(await r.execute(cmd('hal.v1.estop', 'engage'), 'bot-1', new ManualClock()), {
    id: 'c1',
    status: 'succeeded',
  });
});

test('unknown capability or command fails with unsupported_command', async () => {
  const r = new CommandRegistry();
  r.register('hal.v1.estop', 'engage', () => true);
  for (const c of [cmd('hal.v1.led', 'set'), cmd('hal.v1.estop', 'explode')]) {
    const res = await r.execute(c, 'd', new ManualClock());
    assert.equal(res.status, 'failed');
    assert.equal(res.error?.code, 'unsupported_command');
  }
});

test('a throwing handler fails with its own code, or command_failed', async () => {
  const r = new CommandRegistry();
  r.register('a.b', 'coded', () => {
    throw new CommandError('estop_engaged', 'estop is engaged');
  });
  r.register('a.b', 'plain', async () => {
    throw new Error('boom');
  });
  assert.deepEqual((await r.execute(cmd('a.b', 'coded'), 'd', new ManualClock())).error, {
    code: 'estop_engaged',
    message: 'estop is engaged',
  });
  assert.deepEqual((await r.execute(cmd('a.b', 'plain'), 'd', new ManualClock())).error, {
    code: 'command_failed',
    message: 'boom',
  });
});

test('a handler that overruns timeoutMs times out, is aborted, and its late answer is dropped', async () => {
  const clock = new ManualClock();
  const r = new CommandRegistry();
  let finish: (v: unknown) => void = () => {};
  let signal: AbortSignal | undefined;
  r.register('slow.thing', 'go', (_args, ctx) => {
    signal = ctx.signal;
    return new Promise((resolve) => (finish = resolve));
  });
  const pending = r.execute(cmd('slow.thing', 'go', {}, 250), 'd', clock);
  await Promise.resolve(); // let the handler start
  await Promise.resolve();
  clock.advance(249);
  assert.equal(signal?.aborted, false);
  clock.advance(1);
  const res = await pending;
  assert.equal(res.status, 'timed_out');
  assert.equal(res.error?.code, 'command_timed_out');
  assert.equal(signal?.aborted, true);
  finish('too late');
  assert.equal(clock.pending, 0);
});

test('a command without timeoutMs uses the default', async () => {
  const clock = new ManualClock();
  const r = new CommandRegistry();
  r.register('slow.thing', 'go', () => new Promise(() => {}));
  const pending = r.execute(cmd('slow.thing', 'go'), 'd', clock, 1000);
  clock.advance(1000);
  assert.equal((await pending).status, 'timed_out');
});

test('registration rejects duplicates and malformed capability names; lists capabilities', () => {
  const r = new CommandRegistry();
  r.register('hal.v1.estop', 'engage', () => 1);
  r.register('hal.v1.estop', 'release', () => 1);
  r.register('hal.v1.motor.differential', 'drive', () => 1);
  assert.throws(
    () => r.register('hal.v1.estop', 'engage', () => 2),
    (e: unknown) => e instanceof AgentError && e.code === 'duplicate_handler',
  );
  assert.throws(
    () => r.register('Bad Name', 'x', () => 1),
    (e: unknown) => e instanceof AgentError && e.code === 'invalid_options',
  );
  assert.deepEqual(r.capabilities(), [{ name: 'hal.v1.estop' }, { name: 'hal.v1.motor.differential' }]);
});
