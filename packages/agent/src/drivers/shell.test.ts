import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock, type CommandPayload } from '@flotilla/protocol';
import { CommandRegistry } from '../commands.js';
import { AgentErrorCodes } from '../errors.js';
import { configuredDrivers, loadAgentConfig } from './config.js';
import { registerDrivers } from './driver.js';
import { shellDriver, type ShellDriverConfig, type ShellResult } from './shell.js';

/** The shell driver with real processes (sh, echo, head, sleep from the base system). */
const dir = mkdtempSync(join(tmpdir(), 'flotilla-shell-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config: ShellDriverConfig = {
  driver: 'shell',
  commands: {
    greet: { argv: ['echo', 'hello', '$HOME;', 'ls', '*'] },
    fail: { argv: ['sh', '-c', 'echo oops >&2; exit 3'] },
    flood: { argv: ['head', '-c', '100000', '/dev/zero'], maxOutputBytes: 1000 },
    nap: { argv: ['sleep', '30'], timeoutMs: 5000 },
    say: { argv: ['echo'], maxArgs: 2 },
    env: { argv: ['sh', '-c', 'echo "$GREETING $SECRET_FROM_AGENT"'], env: { GREETING: 'hi' } },
    missing: { argv: ['/nonexistent/flotilla-tool'] },
  },
};

let seq = 0;
function command(name: string, args: Record<string, unknown> = {}, capability = 'shell'): CommandPayload {
  return { id: `c${++seq}`, capability, command: name, args };
}

function registry(clock = systemClock): CommandRegistry {
  return registerDrivers(new CommandRegistry(), [shellDriver(config, clock)]);
}

test('runs a listed command as an argv array, with no shell interpolation, and returns its exit code', async () => {
  const result = await registry().execute(command('greet'), 'dev', systemClock);
  assert.equal(result.status, 'succeeded', JSON.stringify(result));
  const r = result.result as ShellResult;
  assert.equal(r.stdout, 'hello $HOME; ls *\n');
  assert.equal(r.exitCode, 0);
  assert.equal(r.signal, null);
  assert.equal(r.truncated, false);

  const failed = (await registry().execute(command('fail'), 'dev', systemClock)).result as ShellResult;
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.stderr, 'oops\n');
});

test('refuses anything not listed, and arguments beyond what the entry allows', async () => {
  const reg = registry();
  assert.deepEqual(reg.capabilities(), [{ name: 'shell' }]);
  const refused = await reg.execute(command('rm', { args: ['-rf', '/'] }), 'dev', systemClock);
  assert.equal(refused.status, 'failed');
  assert.deepEqual(refused.error, {
    code: AgentErrorCodes.UNSUPPORTED_COMMAND,
    message: 'this device has no shell rm',
  });

  const extra = await reg.execute(command('greet', { args: ['; reboot'] }), 'dev', systemClock);
  assert.deepEqual(extra.error, {
    code: AgentErrorCodes.INVALID_ARGS,
    message: 'shell greet takes no extra arguments',
  });
  const tooMany = await reg.execute(command('say', { args: ['a', 'b', 'c'] }), 'dev', systemClock);
  assert.equal(tooMany.error?.message, 'shell say takes at most 2 extra arguments');
  const odd = await reg.execute(command('say', { argv: ['x'] }), 'dev', systemClock);
  assert.equal(odd.error?.message, 'shell say takes only "args", not "argv"');
  const said = await reg.execute(command('say', { args: ['$(id)', '`id`'] }), 'dev', systemClock);
  assert.equal((said.result as ShellResult).stdout, '$(id) `id`\n');
});

test('keeps at most maxOutputBytes of output and says it truncated', async () => {
  const r = (await registry().execute(command('flood'), 'dev', systemClock)).result as ShellResult;
  assert.equal(r.stdout.length, 1000);
  assert.equal(r.truncated, true);
  assert.equal(r.exitCode, 0);
});

test('a command over its timeout is killed and fails with shell_timed_out', async () => {
  const clock = new ManualClock();
  const running = registry(clock).execute(command('nap'), 'dev', clock, 60_000);
  // Once the handler has spawned it (its 5 s timer beside the command's own), pass the 5 s.
  while (clock.pending < 2) await new Promise((r) => setImmediate(r));
  clock.advance(5000);
  const result = await running;
  assert.equal(result.status, 'failed');
  assert.deepEqual(result.error, {
    code: AgentErrorCodes.SHELL_TIMED_OUT,
    message: 'shell nap ran over 5000 ms and was killed',
  });
});

test('the environment is a minimal one plus the entry’s own; a program that cannot start fails clearly', async () => {
  process.env['SECRET_FROM_AGENT'] = 'leaked';
  try {
    const r = (await registry().execute(command('env'), 'dev', systemClock)).result as ShellResult;
    assert.equal(r.stdout, 'hi \n');
  } finally {
    delete process.env['SECRET_FROM_AGENT'];
  }
  const missing = await registry().execute(command('missing'), 'dev', systemClock);
  assert.equal(missing.error?.code, AgentErrorCodes.SHELL_SPAWN_FAILED);
  assert.match(
    missing.error?.message ?? '',
    /^cannot run shell missing \(\/nonexistent\/flotilla-tool\): spawn .* ENOENT$/,
  );
});

test('--config loads shell drivers; a bad file is one line naming what is wrong', async () => {
  const good = join(dir, 'agent.json');
  writeFileSync(
    good,
    JSON.stringify({ drivers: [{ driver: 'shell', capability: 'ops.shell', commands: { up: { argv: ['true'] } } }] }),
  );
  const reg = registerDrivers(new CommandRegistry(), configuredDrivers(loadAgentConfig(good)));
  assert.deepEqual(reg.capabilities(), [{ name: 'ops.shell' }]);
  const ran = await reg.execute(command('up', {}, 'ops.shell'), 'dev', systemClock);
  assert.equal((ran.result as ShellResult).exitCode, 0);

  const cases: [unknown, RegExp][] = [
    [{ drivers: [{ driver: 'docker', commands: {} }] }, /unknown driver "docker" \(built in: shell\)/],
    [{ drivers: [{ driver: 'shell', commands: { x: { argv: 'rm -rf /' } } }] }, /argv/],
    [{ drivers: [{ driver: 'shell', commands: { x: { argv: [] } } }] }, /argv/],
    [{ drivers: [{ driver: 'shell', commands: { x: { argv: ['ls'], shell: true } } }] }, /shell|additional/],
  ];
  for (const [value, re] of cases) {
    const file = join(dir, `bad-${seq++}.json`);
    writeFileSync(file, JSON.stringify(value));
    assert.throws(
      () => loadAgentConfig(file),
      (err: Error & { code: string }) => {
        assert.equal(err.code, AgentErrorCodes.INVALID_CONFIG);
        assert.match(err.message, new RegExp(`^config ${file}: `));
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  }
  writeFileSync(join(dir, 'broken.json'), '{ drivers: ');
  assert.throws(() => loadAgentConfig(join(dir, 'broken.json')), /: not JSON: /);
  assert.throws(() => loadAgentConfig(join(dir, 'absent.json')), /cannot read it \(ENOENT\)/);
});
