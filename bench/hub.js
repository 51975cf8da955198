// How every benchmark starts a hub: `flotilla hub` in a child process of its own (so the figures
// are the hub's, not the bench's), on a free loopback port, waited for until /api/v1/ready answers,
// logged in as admin when a password is given, and stopped with SIGINT, as an operator would.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './process.js';

/** Time the hub gets to answer /api/v1/ready: a start of a few seconds, stretched on a loaded machine. */
const READY_TIMEOUT_MS = 60_000;
/** Time the hub gets to stop after SIGINT before it is killed: the run must end. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts `flotilla hub --host 127.0.0.1 --port <free> --log-level warn ...args` with `env` added to
 * the bench's environment (FLOTILLA_SIM=0; FLOTILLA_ADMIN_PASSWORD when `password` is given) and
 * Node flags `nodeArgs` (e.g. --cpu-prof). Resolves once the hub is ready, with its `base` URL, its
 * process id `pid`, an admin `token` (when `password` is given) and `stop()`. A hub that exits or
 * is not ready in time fails the call and is not left running.
 */
export async function startHub({ args = [], env = {}, password, nodeArgs = [], name = 'the hub' } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'packages/cli/dist/bin.js',
      'hub',
      ...['--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
      ...args,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        FLOTILLA_SIM: '0',
        ...(password !== undefined && { FLOTILLA_ADMIN_PASSWORD: password }),
        ...env,
      },
    },
  );
  let exitCode;
  const exited = once(child, 'exit').then(([code, signal]) => (exitCode = signal ?? code));

  async function stop() {
    if (exitCode !== undefined) return;
    child.kill('SIGINT');
    const stopped = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS, false)]);
    if (!stopped) {
      console.error(`bench: ${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT; killed`);
      child.kill('SIGKILL');
      await exited;
    }
  }

  try {
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode}) before it was ready`);
      try {
        if ((await fetch(`${base}/api/v1/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`${name} was not ready in ${READY_TIMEOUT_MS / 1000} s`);
      await delay(100);
    }
    let token;
    if (password !== undefined) {
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      if (!login.ok) throw new Error(`logging in to ${name} answered ${login.status}`);
      ({ token } = await login.json());
    }
    return { base, port, pid: child.pid, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
