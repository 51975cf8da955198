/**
 * One device's telemetry as the device page shows it: the newest value of every metric and
 * sample, and the rows of the live window (one row per telemetry message, every metric of it),
 * seeded from history and extended by `flotilla.<id>.telemetry`. Updates are applied once per
 * animation frame; `version` tells React something changed.
 */
export interface Row {
  ts: number;
  values: Record<string, number>;
}

export interface TelemetryMessage {
  ts: number;
  metrics?: Record<string, number>;
  samples?: Record<string, unknown>;
}

/** How much of the recent past a live chart shows. */
export const LIVE_WINDOW_MS = 5 * 60_000;

export class TelemetryStore {
  readonly latest = new Map<string, { ts: number; value: number }>();
  readonly samples = new Map<string, { ts: number; data: unknown }>();
  rows: Row[] = [];
  version = 0;
  private readonly listeners = new Set<() => void>();
  private pending: TelemetryMessage[] = [];
  private frame: number | undefined;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Metric names seen so far, sorted. */
  metrics(): string[] {
    return [...this.latest.keys()].sort();
  }

  seedLatest(metrics: Record<string, { ts: number; value: number }>): void {
    for (const [name, point] of Object.entries(metrics)) this.putLatest(name, point.ts, point.value);
    this.bump();
  }

  /** History of the live window, metric by metric, merged into rows under what arrived live. */
  seedRows(series: ReadonlyArray<{ metric: string; points: ReadonlyArray<{ ts: number; value: number }> }>): void {
    const byTs = new Map<number, Record<string, number>>();
    for (const row of this.rows) byTs.set(row.ts, row.values);
    for (const { metric, points } of series) {
      for (const { ts, value } of points) {
        let values = byTs.get(ts);
        if (!values) byTs.set(ts, (values = {}));
        if (!(metric in values)) values[metric] = value;
      }
    }
    this.rows = [...byTs.entries()].sort((a, b) => a[0] - b[0]).map(([ts, values]) => ({ ts, values }));
    this.trim();
    this.bump();
  }

  /** A `flotilla.<id>.telemetry` message. */
  push(message: TelemetryMessage): void {
    if (typeof message?.ts !== 'number') return;
    this.pending.push(message);
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  close(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.listeners.clear();
  }

  private flush(): void {
    this.frame = undefined;
    for (const message of this.pending) {
      const values: Record<string, number> = {};
      for (const [name, value] of Object.entries(message.metrics ?? {})) {
        if (typeof value !== 'number') continue;
        values[name] = value;
        this.putLatest(name, message.ts, value);
      }
      for (const [name, data] of Object.entries(message.samples ?? {})) {
        const current = this.samples.get(name);
        if (!current || current.ts <= message.ts) this.samples.set(name, { ts: message.ts, data });
      }
      const last = this.rows.at(-1);
      if (!last || last.ts < message.ts) this.rows.push({ ts: message.ts, values });
      else {
        // Late or replayed (store-and-forward after an outage): put it in its place.
        const at = this.rows.findIndex((r) => r.ts >= message.ts);
        const row = this.rows[at];
        if (row && row.ts === message.ts) Object.assign(row.values, values);
        else this.rows.splice(at, 0, { ts: message.ts, values });
      }
    }
    this.pending = [];
    this.trim();
    this.bump();
  }

  private putLatest(name: string, ts: number, value: number): void {
    const current = this.latest.get(name);
    if (!current || current.ts <= ts) this.latest.set(name, { ts, value });
  }

  private trim(): void {
    const newest = this.rows.at(-1)?.ts;
    if (newest === undefined) return;
    const from = newest - LIVE_WINDOW_MS;
    let drop = 0;
    while (drop < this.rows.length && (this.rows[drop]?.ts ?? 0) < from) drop++;
    if (drop > 0) this.rows = this.rows.slice(drop);
  }

  private bump(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}
