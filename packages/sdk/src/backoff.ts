/** Reconnect delays: exponential, capped, with jitter so a restarted hub is not hit by every client at once. */
export interface BackoffOptions {
  /** Delay ceiling after the first failure (ms). Default 500. */
  initialMs?: number;
  /** Largest delay (ms). Default 30 000. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
}

/**
 * Delay before retry number `attempt` (0-based). "Equal jitter": half the ceiling plus a random
 * half, so delays spread out but never collapse to zero.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
