import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndicatorReading, TeleoperationIndicator } from './indicator.js';

export interface OperatorSessionOptions {
  /**
   * Local TCP ports whose established connections are operator sessions: a video stream (RTSP
   * 8554, WebRTC signalling), a remote desktop (VNC 5900), a teleop web UI. The peer's address
   * is the operator.
   */
  ports?: readonly number[];
  /** Process names (as in `/proc/<pid>/comm`) that are operator sessions: a teleop console, a joystick node. Their user is the operator. */
  processes?: readonly string[];
  /** Where procfs is mounted (default `/proc`; tests point it at a fixture). */
  procRoot?: string;
  /** Where user names are read from (default `/etc/passwd`). */
  passwdFile?: string;
}

const ESTABLISHED = '01';

/**
 * Active while an operator is connected to the robot itself, as Linux shows it: an established
 * TCP connection on one of the configured local ports (`/proc/net/tcp`, `/proc/net/tcp6`), or a
 * configured process running (`/proc/<pid>/comm`). Polled. Where procfs is missing (not Linux),
 * it reads inactive.
 */
export class OperatorSessionIndicator implements TeleoperationIndicator {
  readonly name = 'operator_session';
  readonly polled = true;
  readonly #ports: ReadonlySet<number>;
  readonly #processes: ReadonlySet<string>;
  readonly #proc: string;
  readonly #passwd: string;

  constructor(options: OperatorSessionOptions) {
    this.#ports = new Set(options.ports ?? []);
    this.#processes = new Set(options.processes ?? []);
    this.#proc = options.procRoot ?? '/proc';
    this.#passwd = options.passwdFile ?? '/etc/passwd';
  }

  async read(): Promise<IndicatorReading> {
    const streams: string[] = [];
    let operator: string | undefined;
    if (this.#ports.size > 0) {
      for (const file of ['net/tcp', 'net/tcp6']) {
        for (const { port, peer } of await this.#established(file)) {
          streams.push(`tcp:${port} ${peer}`);
          operator ??= peer;
        }
      }
    }
    if (this.#processes.size > 0) {
      for (const { name, uid } of await this.#running()) {
        streams.push(`process:${name}`);
        operator ??= (await this.#userName(uid)) ?? `uid ${uid}`;
      }
    }
    const reading: IndicatorReading = { active: streams.length > 0, streams };
    if (operator !== undefined) reading.operator = operator;
    return reading;
  }

  /** Established connections on watched local ports, with the peer's address. */
  async #established(file: string): Promise<Array<{ port: number; peer: string }>> {
    const text = await readFile(join(this.#proc, file), 'utf8').catch(() => '');
    const found: Array<{ port: number; peer: string }> = [];
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED || !local || !remote) continue;
      const port = parseInt(local.split(':')[1] ?? '', 16);
      if (!this.#ports.has(port)) continue;
      found.push({ port, peer: address(remote.split(':')[0] ?? '') });
    }
    return found;
  }

  async #running(): Promise<Array<{ name: string; uid: number }>> {
    const entries = await readdir(this.#proc).catch(() => [] as string[]);
    const found: Array<{ name: string; uid: number }> = [];
    for (const pid of entries) {
      if (!/^\d+$/.test(pid)) continue;
      // A process may exit between readdir and the read: it simply is not running.
      const name = (await readFile(join(this.#proc, pid, 'comm'), 'utf8').catch(() => '')).trim();
      if (!this.#processes.has(name)) continue;
      const status = await readFile(join(this.#proc, pid, 'status'), 'utf8').catch(() => '');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
      found.push({ name, uid });
    }
    return found;
  }

  async #userName(uid: number): Promise<string | undefined> {
    if (!Number.isInteger(uid)) return undefined;
    const passwd = await readFile(this.#passwd, 'utf8').catch(() => '');
    for (const line of passwd.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
    return undefined;
  }
}

/**
 * An address as procfs prints it: IPv4 as one little-endian 32-bit word (`0100007F` is
 * 127.0.0.1), IPv6 as four such words. IPv4-mapped IPv6 peers are shown as IPv4.
 */
export function address(hex: string): string {
  const bytes = (word: string): number[] => [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16));
  if (hex.length === 8) return bytes(hex).join('.');
  if (hex.length !== 32) return hex;
  const all = [0, 8, 16, 24].flatMap((i) => bytes(hex.slice(i, i + 8)));
  if (all.slice(0, 10).every((b) => b === 0) && all[10] === 255 && all[11] === 255) return all.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((all[i] ?? 0) << 8) | (all[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}
