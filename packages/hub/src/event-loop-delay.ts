import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * How often the delay monitor's timer is due, in ms. The monitor records the time between two
 * runs of a repeating timer, so each sample is this interval plus the delay: at Node's default
 * of 10 ms an idle loop reads about 10 ms (prom-client's `nodejs_eventloop_lag_*` gauges show
 * exactly that), and the tenths of a millisecond that matter against a 2 ms command p99 vanish
 * beside it. A sample is also only taken when the timer is due, so a stall shorter than the
 * interval is seen only when it covers a due time: 10 ms sees few of the 1–3 ms stalls that
 * make a command's p99. At 1 ms (libuv's timers count whole milliseconds: nothing finer is
 * possible) the interval is subtracted from each value and there are 1,000 samples a second.
 * The price: the timer wakes an idle hub 1,000 times a second (2.5 % of a core measured on the
 * 2-vCPU bench VM).
 */
export const EVENT_LOOP_RESOLUTION_MS = 1;

/** The quantiles exported; 1 is the window's maximum. */
const QUANTILES = [0.5, 0.99, 1] as const;

export interface EventLoopDelayMetric {
  /** Stops the monitor's timer. */
  close(): void;
}

/**
 * Registers `flotilla_event_loop_delay_seconds{quantile}`: how late the hub's event loop ran a
 * timer, over the time since the previous scrape.
 *
 * Windowed per scrape (each scrape reads the quantiles, then resets the histogram), not on a
 * fixed interval: a Prometheus then sees every sample exactly once — none falls between two
 * windows and none is reported twice or late, whatever its scrape interval — and a benchmark can
 * bracket a run with two scrapes to get the delay over exactly that run. The cost: two scrapers
 * of one hub split the samples between them (each sees the delay since the other's scrape), so
 * scrape a hub from one place. A window with no sample (two scrapes within a millisecond, or a
 * loop that has not turned since the hub started) exports no value and is not reset: its
 * samples go to the next scrape. Resetting also drops the interval in progress, so a stall
 * that starts within a millisecond after a scrape goes unseen; with scrapes seconds apart that
 * is rare.
 */
export function registerEventLoopDelay(registry: Registry): EventLoopDelayMetric {
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  // Samples are in ns and include the interval (see EVENT_LOOP_RESOLUTION_MS); libuv may run
  // the timer a little early, so a sample can be shorter than the interval: that is no delay.
  const delaySeconds = (ns: number): number => Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS) / 1e3;
  new Gauge({
    name: 'flotilla_event_loop_delay_seconds',
    help: `Delay of the hub's event loop since the previous scrape (sampled every ${EVENT_LOOP_RESOLUTION_MS} ms), by quantile`,
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (histogram.count === 0) return;
      for (const q of QUANTILES) {
        this.set({ quantile: String(q) }, delaySeconds(q === 1 ? histogram.max : histogram.percentile(q * 100)));
      }
      histogram.reset();
    },
  });
  return { close: () => histogram.disable() };
}
