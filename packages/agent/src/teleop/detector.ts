import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { IndicatorReading, ObservedCommand, TeleoperationIndicator } from './indicator.js';

/** A session as the detector reports it; the agent sends it as a `teleoperation.started` event. */
export interface TeleoperationSession {
  /** When the indicators first fired (the detector's clock, ms). */
  since: number;
  operator: string | null;
  /** Names of the indicators that fired. */
  indicators: string[];
  streams: string[];
}

export interface TeleoperationDetectorOptions {
  indicators: readonly TeleoperationIndicator[];
  clock: Clock;
  /** A session starts once some indicator has fired this long without a break (ms, default 1,000). */
  startAfterMs?: number;
  /** It stops once no indicator has fired for this long (ms, default 5,000). */
  stopAfterMs?: number;
  /** How often indicators are read while polled ones exist or a session is starting or running (ms, default 1,000). */
  pollIntervalMs?: number;
  onStart(session: TeleoperationSession): void;
  onStop(session: TeleoperationSession, at: number): void;
  /** An indicator's read failed: it counts as inactive for this reading. */
  onError?(error: unknown, indicator: string): void;
}

export const DETECTOR_DEFAULTS = { startAfterMs: 1_000, stopAfterMs: 5_000, pollIntervalMs: 1_000 } as const;

/**
 * Decides from its indicators whether the robot is being teleoperated, with debouncing both
 * ways: a burst of commands shorter than `startAfterMs` is not a session, a pause shorter than
 * `stopAfterMs` does not end one. Everything runs on the injected clock. Idle and without polled
 * indicators it holds no timer: a command wakes it.
 */
export class TeleoperationDetector {
  readonly #indicators: readonly TeleoperationIndicator[];
  readonly #clock: Clock;
  readonly #startAfterMs: number;
  readonly #stopAfterMs: number;
  readonly #pollIntervalMs: number;
  readonly #polled: boolean;
  readonly #options: TeleoperationDetectorOptions;
  #session: TeleoperationSession | undefined;
  /** Since when indicators fire while no session runs. */
  #pendingSince: number | undefined;
  /** Since when none fires while a session runs. */
  #quietSince: number | undefined;
  #timer: TimerHandle | undefined;
  #evaluating: Promise<void> | undefined;
  #again = false;
  #running = false;

  constructor(options: TeleoperationDetectorOptions) {
    this.#options = options;
    this.#indicators = options.indicators;
    this.#clock = options.clock;
    this.#startAfterMs = options.startAfterMs ?? DETECTOR_DEFAULTS.startAfterMs;
    this.#stopAfterMs = options.stopAfterMs ?? DETECTOR_DEFAULTS.stopAfterMs;
    this.#pollIntervalMs = options.pollIntervalMs ?? DETECTOR_DEFAULTS.pollIntervalMs;
    this.#polled = this.#indicators.some((i) => i.polled === true);
  }

  /** The session under way, if any. */
  get session(): TeleoperationSession | undefined {
    return this.#session;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stops polling; a session under way is left as it is (the agent is going away). */
  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Every command the device receives; an idle detector reads its indicators at once. */
  observeCommand(command: ObservedCommand): void {
    const now = this.#clock.now();
    for (const indicator of this.#indicators) indicator.observeCommand?.(command, now);
    if (this.#running && this.#session === undefined && this.#pendingSince === undefined) void this.evaluate();
  }

  /** Reads every indicator and moves the state on; resolves when done (tests await it). */
  evaluate(): Promise<void> {
    if (this.#evaluating) {
      this.#again = true;
      return this.#evaluating;
    }
    this.#evaluating = (async () => {
      do {
        this.#again = false;
        await this.#evaluateOnce();
      } while (this.#again);
    })().finally(() => (this.#evaluating = undefined));
    return this.#evaluating;
  }

  /** Resolves when no evaluation is under way (tests await it after moving the clock). */
  async idle(): Promise<void> {
    while (this.#evaluating) await this.#evaluating;
  }

  async #evaluateOnce(): Promise<void> {
    const now = this.#clock.now();
    const readings = await Promise.all(this.#indicators.map((indicator) => this.#read(indicator, now)));
    const firing = readings.filter((r) => r.reading.active);
    const session = this.#session;
    if (session === undefined) {
      if (firing.length === 0) this.#pendingSince = undefined;
      else {
        this.#pendingSince ??= now;
        if (now - this.#pendingSince >= this.#startAfterMs) this.#begin(this.#pendingSince, firing);
      }
    } else if (firing.length > 0) {
      this.#quietSince = undefined;
    } else {
      this.#quietSince ??= now;
      if (now - this.#quietSince >= this.#stopAfterMs) {
        this.#session = undefined;
        this.#quietSince = undefined;
        this.#options.onStop(session, now);
      }
    }
    this.#schedule();
  }

  #begin(since: number, firing: ReadonlyArray<{ name: string; reading: IndicatorReading }>): void {
    this.#pendingSince = undefined;
    const streams = [...new Set(firing.flatMap((f) => f.reading.streams ?? []))];
    const operator = firing.find((f) => f.reading.operator !== undefined)?.reading.operator ?? null;
    this.#session = { since, operator, indicators: firing.map((f) => f.name), streams };
    this.#options.onStart(this.#session);
  }

  async #read(indicator: TeleoperationIndicator, now: number): Promise<{ name: string; reading: IndicatorReading }> {
    try {
      return { name: indicator.name, reading: await indicator.read(now) };
    } catch (error) {
      this.#options.onError?.(error, indicator.name);
      return { name: indicator.name, reading: { active: false } };
    }
  }

  /** A timer while anything can change without a command: polled indicators, or a session starting or running. */
  #schedule(): void {
    const needed = this.#running && (this.#polled || this.#session !== undefined || this.#pendingSince !== undefined);
    if (needed && !this.#timer) {
      this.#timer = this.#clock.setInterval(() => void this.evaluate(), this.#pollIntervalMs);
    } else if (!needed && this.#timer) {
      this.#timer.cancel();
      this.#timer = undefined;
    }
  }
}
