/**
 * What the teleoperation detector watches (docs/teleoperation.md). An indicator is one sign that
 * a person is driving the robot: a stream of velocity commands, a video viewer connected, an
 * operator's console process running. Built-in ones: `command_rate` (command-rate.ts) and
 * `operator_session` (operator-session.ts); anything else implements this interface and is
 * handed to the agent (`AgentOptions.teleoperation.indicators`).
 */

export interface IndicatorReading {
  active: boolean;
  /** Who is operating, when the indicator can tell (a user name, a peer address). */
  operator?: string;
  /** What the session streams or is connected through (`tcp:8554 10.0.0.7`). */
  streams?: string[];
}

/** A command as the agent received it; what a command-driven indicator counts. */
export interface ObservedCommand {
  capability: string;
  command: string;
}

export interface TeleoperationIndicator {
  /** Reported in TeleoperationStarted's `indicators` when it fired (`command_rate`, `operator_session`…). */
  readonly name: string;
  /**
   * True when readings change without any command arriving (sockets, processes): the detector
   * then reads it every poll interval. False or absent: it is read when a command arrives and
   * while a session is starting or running.
   */
  readonly polled?: boolean;
  /** The reading at `now` (the detector's clock). May be asynchronous (a file read); should not throw. */
  read(now: number): IndicatorReading | Promise<IndicatorReading>;
  /** Told of every command the device receives, before it runs. */
  observeCommand?(command: ObservedCommand, now: number): void;
}
