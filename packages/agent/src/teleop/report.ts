import type { Clock } from '@flotilla/protocol';
import type { AgentLogger } from '../logger.js';
import type { TeleoperationDetector, TeleoperationSession } from './detector.js';
import { createTeleoperationDetector, type TeleoperationOptions } from './options.js';

/** Sends an event now; false when not connected (dropped). */
type SendEvent = (type: string, data: Record<string, unknown>) => boolean;

/**
 * A teleoperation session started (`stoppedAt` undefined) or stopped: an event for the hub, a
 * line for the local log.
 */
export function reportTeleoperation(
  device: string,
  logger: AgentLogger,
  sendEvent: SendEvent,
  session: TeleoperationSession,
  stoppedAt: number | undefined,
): void {
  const { since, operator, indicators, streams } = session;
  if (stoppedAt === undefined) {
    logger.info({ device, operator, indicators }, 'teleoperation started');
    const data: Record<string, unknown> = { since, indicators, streams };
    if (operator !== null) data['operator'] = operator;
    sendEvent('teleoperation.started', data);
  } else {
    logger.info({ device, operator, durationMs: stoppedAt - since }, 'teleoperation stopped');
    sendEvent('teleoperation.stopped', { since, durationMs: stoppedAt - since });
  }
}

/** Starts an agent's teleoperation detector (none when turned off), reporting its sessions. */
export function startTeleoperationReports(
  options: TeleoperationOptions | false | undefined,
  clock: Clock,
  device: string,
  logger: AgentLogger,
  sendEvent: SendEvent,
): TeleoperationDetector | undefined {
  if (options === false) return undefined;
  const detector = createTeleoperationDetector(options ?? {}, clock, {
    onStart: (session) => reportTeleoperation(device, logger, sendEvent, session, undefined),
    onStop: (session, at) => reportTeleoperation(device, logger, sendEvent, session, at),
    onError: (err, indicator) =>
      logger.debug({ device, indicator, err: (err as Error).message }, 'teleoperation indicator failed'),
  });
  detector.start();
  return detector;
}
