import type { Clock } from '@flotilla/protocol';
import { CommandRateIndicator, type CommandRateOptions } from './command-rate.js';
import { TeleoperationDetector, type TeleoperationDetectorOptions } from './detector.js';
import type { TeleoperationIndicator } from './indicator.js';
import { OperatorSessionIndicator, type OperatorSessionOptions } from './operator-session.js';

/** How an agent detects teleoperation (`AgentOptions.teleoperation`; docs/teleoperation.md). */
export interface TeleoperationOptions {
  /** The `command_rate` indicator: on by default; false turns it off. */
  commandRate?: CommandRateOptions | false;
  /** The `operator_session` indicator: on when it names ports or processes. */
  operatorSession?: OperatorSessionOptions;
  /** Custom indicators, read alongside the built-in ones. */
  indicators?: readonly TeleoperationIndicator[];
  startAfterMs?: number;
  stopAfterMs?: number;
  pollIntervalMs?: number;
}

type Callbacks = Pick<TeleoperationDetectorOptions, 'onStart' | 'onStop' | 'onError'>;

/** The indicators the options ask for, in a detector on `clock`. */
export function createTeleoperationDetector(
  options: TeleoperationOptions,
  clock: Clock,
  callbacks: Callbacks,
): TeleoperationDetector {
  const indicators: TeleoperationIndicator[] = [];
  if (options.commandRate !== false) indicators.push(new CommandRateIndicator(options.commandRate ?? {}));
  const session = options.operatorSession;
  if (session && ((session.ports?.length ?? 0) > 0 || (session.processes?.length ?? 0) > 0))
    indicators.push(new OperatorSessionIndicator(session));
  indicators.push(...(options.indicators ?? []));
  const detector: TeleoperationDetectorOptions = { indicators, clock, ...callbacks };
  if (options.startAfterMs !== undefined) detector.startAfterMs = options.startAfterMs;
  if (options.stopAfterMs !== undefined) detector.stopAfterMs = options.stopAfterMs;
  if (options.pollIntervalMs !== undefined) detector.pollIntervalMs = options.pollIntervalMs;
  return new TeleoperationDetector(detector);
}
