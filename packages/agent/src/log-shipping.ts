import type { LogLevel } from '@flotilla/protocol';
import type { AgentLogger } from './logger.js';

/** Which of its own log lines an agent ships to the hub as device logs (`--ship-logs`). */
export const SHIP_LEVELS = ['off', 'debug', 'info', 'warn', 'error'] as const;
export type ShipLevel = (typeof SHIP_LEVELS)[number];

type Ship = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * A logger that writes through `inner` and also ships lines at `minimum` or above with `ship`
 * (the agent's sendLog), so an operator sees the agent's own warnings beside the device's logs.
 * Errors in fields become `{name, message}` (an Error serialises to `{}`); the device id, which
 * every agent line carries, is dropped (the hub knows whose line it is).
 */
export function shippingLogger(inner: AgentLogger, minimum: Exclude<ShipLevel, 'off'>, ship: Ship): AgentLogger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const threshold = order.indexOf(minimum);
  const wrap =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: Record<string, unknown>, msg?: string): void => {
      inner[level](obj, msg);
      if (order.indexOf(level) < threshold) return;
      const fields: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(obj)) {
        if (key === 'device') continue;
        fields[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
      }
      try {
        ship(level, msg ?? '', Object.keys(fields).length > 0 ? fields : undefined);
      } catch {
        // A line that cannot be shipped (fields that are not JSON) is still in the local log.
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
