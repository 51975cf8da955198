/**
 * Push-on-change with debounce (seed 002, "Push system metrics on change (debounced)"): a metric
 * is sent when it moved by more than its threshold since it was last sent, or when it has not
 * been sent for `maxIntervalMs`, so the hub's view is never older than that even when nothing
 * moves. Everything else is suppressed, which is what keeps an idle agent under 1 KB/s.
 */
export interface ChangeFilterOptions {
  /** Smallest change worth sending, by metric name; metrics not listed are sent on any change. */
  thresholds?: Readonly<Record<string, number>>;
  /** Longest time a metric goes unsent (ms). */
  maxIntervalMs: number;
}

export class ChangeFilter {
  private readonly last = new Map<string, { value: number; at: number }>();
  private readonly thresholds: Readonly<Record<string, number>>;
  private readonly maxIntervalMs: number;

  constructor(options: ChangeFilterOptions) {
    this.thresholds = options.thresholds ?? {};
    this.maxIntervalMs = options.maxIntervalMs;
  }

  /** The part of `sample` to send now (and records it as sent), or undefined for nothing. */
  filter(now: number, sample: Readonly<Record<string, number>>): Record<string, number> | undefined {
    let out: Record<string, number> | undefined;
    for (const [name, value] of Object.entries(sample)) {
      const prev = this.last.get(name);
      const threshold = this.thresholds[name] ?? 0;
      const due = prev === undefined || Math.abs(value - prev.value) > threshold || now - prev.at >= this.maxIntervalMs;
      if (!due) continue;
      (out ??= {})[name] = value;
      this.last.set(name, { value, at: now });
    }
    return out;
  }

  /** Forgets what was sent, so the next sample goes out whole (a new session's first report). */
  reset(): void {
    this.last.clear();
  }
}
