import type { Clock, TimerHandle } from '@flotilla/protocol';

/**
 * One timer for the whole simulated fleet. Devices are dealt into `slots` buckets and each
 * tick serves one bucket, so a fleet's telemetry is spread evenly over the period instead of
 * leaving in one burst per second; every device is still served exactly once per period.
 */
export class Ticker<T> {
  private readonly buckets: T[][];
  private readonly timer: TimerHandle;
  private tick = 0;

  constructor(
    clock: Clock,
    items: readonly T[],
    periodMs: number,
    private readonly visit: (item: T, dtS: number) => void,
  ) {
    // ticks at least 10 ms apart and at most 20 per period: finer slicing costs wakeups and buys nothing
    const slots = Math.max(1, Math.min(items.length, 20, Math.floor(periodMs / 10)));
    this.buckets = Array.from({ length: slots }, () => []);
    items.forEach((item, i) => this.buckets[i % slots]!.push(item));
    const dtS = periodMs / 1000;
    this.timer = clock.setInterval(() => {
      const bucket = this.buckets[this.tick++ % slots]!;
      for (const item of bucket) this.visit(item, dtS);
    }, periodMs / slots);
  }

  get slots(): number {
    return this.buckets.length;
  }

  stop(): void {
    this.timer.cancel();
  }
}
