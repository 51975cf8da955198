import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { HubMetrics } from '../metrics.js';
import type { Presence } from '../presence/presence.js';
import type { DeviceSession } from './session.js';

/**
 * Backpressure on the device transports: while the telemetry ingest says `full`, the hub stops
 * reading every device connection (WebSocket: the socket is paused; MQTT: the aedes client), so
 * devices wait in their TCP windows and their own buffers instead of the hub's memory growing.
 * Reading resumes on `ok`.
 *
 * The pause must not look like silence on either side:
 * - presence is held (no session expires for frames the hub itself did not read), and counts
 *   every session as seen when reading resumes;
 * - every paused connection gets a keepalive every `keepAliveMs` — a WebSocket ping, which the
 *   agent counts as a sign of life, or a refresh of the MQTT broker's keepalive timer.
 */
export interface ReadPauseOptions {
  clock: Clock;
  presence: Presence;
  /** How often paused connections get a keepalive (the heartbeat interval / 2 is right). */
  keepAliveMs: number;
  metrics?: HubMetrics | undefined;
}

export class ReadPause {
  readonly #options: ReadPauseOptions;
  readonly #paused = new Set<DeviceSession>();
  #since: number | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: ReadPauseOptions) {
    this.#options = options;
  }

  get active(): boolean {
    return this.#since !== undefined;
  }

  /** Stops reading these sessions (and any that becomes active until `resumeAll`). */
  pauseAll(sessions: Iterable<DeviceSession>): void {
    if (this.#since !== undefined) return;
    const { clock, presence, metrics, keepAliveMs } = this.#options;
    this.#since = clock.now();
    presence.hold();
    metrics?.pauses.inc();
    for (const session of sessions) this.add(session);
    this.#timer = clock.setInterval(() => {
      for (const session of this.#paused) session.keepAlive();
    }, keepAliveMs);
  }

  /** A session that became active while paused: it is paused too. */
  add(session: DeviceSession): void {
    if (this.#since === undefined || session.state !== 'active' || this.#paused.has(session)) return;
    if (!session.pause()) return;
    this.#paused.add(session);
    this.#options.metrics?.pausedConnections.inc({ transport: session.transport });
  }

  /** A session that ended: nothing to resume. */
  remove(session: DeviceSession): void {
    if (!this.#paused.delete(session)) return;
    this.#options.metrics?.pausedConnections.dec({ transport: session.transport });
  }

  resumeAll(): void {
    if (this.#since === undefined) return;
    const { clock, presence, metrics } = this.#options;
    this.#timer?.cancel();
    this.#timer = undefined;
    metrics?.pausedSeconds.inc((clock.now() - this.#since) / 1000);
    this.#since = undefined;
    presence.release();
    for (const session of this.#paused) {
      metrics?.pausedConnections.dec({ transport: session.transport });
      session.resume();
    }
    this.#paused.clear();
  }
}
