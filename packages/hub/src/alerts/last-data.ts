/**
 * When each device last sent telemetry, for no-data conditions: any message, and the metrics
 * that no-data conditions name (no others, so the map holds at most devices × those metrics).
 * A device missing here has sent nothing since the hub started.
 */
export class LastData {
  readonly #seen = new Map<string, { any: number; metrics: Map<string, number> }>();

  /** A message from the device at `now`, holding `metrics`; `watched` are the metrics conditions name. */
  note(device: string, metrics: Record<string, unknown>, watched: ReadonlySet<string>, now: number): void {
    let seen = this.#seen.get(device);
    if (!seen) this.#seen.set(device, (seen = { any: now, metrics: new Map() }));
    seen.any = now;
    for (const metric of watched) if (metric in metrics) seen.metrics.set(metric, now);
  }

  /** When the device last sent anything (or `metric`); undefined: nothing since the hub started. */
  at(device: string, metric: string | undefined): number | undefined {
    const seen = this.#seen.get(device);
    return metric === undefined ? seen?.any : seen?.metrics.get(metric);
  }

  /** Carries a silence over a restart: the device has been quiet since `at` at least. */
  seed(device: string, metric: string | undefined, at: number): void {
    let seen = this.#seen.get(device);
    if (!seen) this.#seen.set(device, (seen = { any: at, metrics: new Map() }));
    if (metric === undefined) seen.any = Math.min(seen.any, at);
    else seen.metrics.set(metric, Math.min(seen.metrics.get(metric) ?? at, at));
  }

  delete(device: string): void {
    this.#seen.delete(device);
  }

  /** Forgets every device (the evaluator stopped: another hub evaluates now). */
  clear(): void {
    this.#seen.clear();
  }
}
