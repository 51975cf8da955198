import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The built `flotilla` command in child processes, for end-to-end tests that kill and restart
 * a hub: spawning, reading the URL it prints, stopping with a signal. Waiting here is for real
 * processes and sockets (bounded), never for time. Tests only.
 */

export const CLI_BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

export interface CliProcesses {
  /** Starts `flotilla ARGS`; killed with SIGKILL by `killAll` if still running. */
  run(args: string[], env?: Record<string, string>): ChildProcess;
  killAll(): void;
}

export function cliProcesses(baseEnv: Record<string, string | undefined>): CliProcesses {
  const children = new Set<ChildProcess>();
  return {
    run(args, env = {}) {
      const child = spawn(process.execPath, [CLI_BIN, ...args], {
        env: { ...baseEnv, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    killAll() {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}

/**
 * `flotilla hub ARGS` until it prints its URL and "Press Ctrl-C"; rejects if it exits first.
 * Resolves with the URL (`http://127.0.0.1:PORT`) and the port.
 */
export async function startHubProcess(
  processes: CliProcesses,
  args: string[],
): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = processes.run(['hub', ...args]);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const m = /Console and API\s+(http:\/\/\S+?)\/?\s/.exec(out);
      if (m && out.includes('Press Ctrl-C')) resolve(m[1] as string);
    });
    child.stderr?.on('data', (chunk: Buffer) => (out += String(chunk)));
    child.on('exit', (code) => reject(new Error(`hub exited with ${code}: ${out}`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}

/** Sends `signal` and resolves with the exit code (null when killed by the signal). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** Polls `probe` until it returns a value (errors count as "not yet"), bounded. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Logs in over HTTP and returns the bearer token. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username}: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** An enrollment token created through the API, as an administrator would. */
export async function createEnrollmentToken(
  url: string,
  token: string,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await fetch(`${url}/api/v1/enrollment-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create enrollment token: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
