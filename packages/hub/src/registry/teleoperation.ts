import { DeviceEventTypes, type Device } from '@flotilla/protocol';

/**
 * Teleoperation as the registry records it (docs/teleoperation.md). The device's agent detects
 * sessions and reports them as `event` frames `teleoperation.started` / `teleoperation.stopped`;
 * the registry records them as TeleoperationStarted / TeleoperationStopped, with the data
 * reduced to what the `teleoperation` block holds, so a device cannot write anything else there.
 */

/** The `event` frame types an agent reports sessions with. */
export const TeleoperationReports = { STARTED: 'teleoperation.started', STOPPED: 'teleoperation.stopped' } as const;

export interface TeleoperationStartedData {
  operator: string | null;
  /** The indicators that fired. */
  indicators: string[];
  streams: string[];
  /** When the device says the session started (its clock, ms); absent: when the event was recorded. */
  since?: number;
}

export type TeleoperationStoppedData = Record<string, never>;

const MAX_NAMES = 32;
const MAX_NAME_CHARS = 128;

function names(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((s): s is string => typeof s === 'string' && s.length > 0 && s.length <= MAX_NAME_CHARS)
    .slice(0, MAX_NAMES);
}

/** The event a device's teleoperation report becomes, or undefined when the report is not one. */
export function teleoperationEvent(
  type: string,
  data: Record<string, unknown>,
): { type: string; data: TeleoperationStartedData | TeleoperationStoppedData } | undefined {
  if (type === TeleoperationReports.STOPPED) return { type: DeviceEventTypes.TeleoperationStopped, data: {} };
  if (type !== TeleoperationReports.STARTED) return undefined;
  const operator = data['operator'];
  const since = data['since'];
  const started: TeleoperationStartedData = {
    operator: typeof operator === 'string' && operator.length > 0 ? operator.slice(0, MAX_NAME_CHARS) : null,
    indicators: names(data['indicators']),
    streams: names(data['streams']),
  };
  if (typeof since === 'number' && Number.isSafeInteger(since) && since >= 0) started.since = since;
  return { type: DeviceEventTypes.TeleoperationStarted, data: started };
}

/** A started session the device detected from the commands it receives, without naming an operator: the hub knows who sent them. */
export function isCommandDriven(
  data: TeleoperationStartedData | TeleoperationStoppedData,
): data is TeleoperationStartedData {
  return 'indicators' in data && data.operator === null && data.indicators.includes('command_rate');
}

export const inactiveTeleoperation: Device['teleoperation'] = {
  active: false,
  operator: null,
  since: null,
  streams: [],
  indicators: [],
};

/** The block after a TeleoperationStarted (or a DeviceReported `teleoperation.started` of an older log). */
export function activeTeleoperation(data: Record<string, unknown>, ts: number): Device['teleoperation'] {
  const event = teleoperationEvent(TeleoperationReports.STARTED, data);
  const started = event?.data as TeleoperationStartedData;
  return {
    active: true,
    operator: started.operator,
    since: started.since ?? ts,
    streams: started.streams,
    indicators: started.indicators,
  };
}
