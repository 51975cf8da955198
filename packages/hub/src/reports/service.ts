import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { parseSelector, type Clock, type EventMetadata } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { counter, gauge, histogram } from '../http/instruments.js';
import type { HubMetrics } from '../metrics.js';
import { parseTime } from '../http/time.js';
import type { Registry } from '../registry/registry.js';
import type { ReportRow } from '../storage/reports.js';
import type { Storage } from '../storage/types.js';
import type { AlertHistorySource } from './alerts.js';
import { reportDocument } from './document.js';
import { renderHtml } from './html.js';
import { LlmClient, type FetchLike } from './llm.js';
import { writeSummary } from './narrative.js';
import { renderPdf } from './pdf.js';
import type { CreateReportBody, ReportRequest, ReportStatistics, ReportSummary } from './schema.js';
import { MAX_REPORT_RANGE_MS, REPORT_DEFAULTS, type ResolvedReportSettings } from './settings.js';
import { gatherStatistics, ReportInputError } from './statistics.js';

/**
 * Reports: requested over the API, generated in the background one at a time (a bounded queue,
 * a time limit each), stored, listed, rendered as HTML or PDF on demand, deleted. Requests,
 * outcomes and deletions are events in the log (aggregate `report:<id>`), so the audit trail
 * says who asked for what. A hub that stops while reports are pending generates them at its
 * next start. docs/reports.md.
 */

export const ReportEventTypes = {
  Requested: 'ReportRequested',
  Ready: 'ReportReady',
  Failed: 'ReportFailed',
  Deleted: 'ReportDeleted',
} as const;

export interface ReportServiceOptions {
  storage: Storage;
  registry: Pick<Registry, 'list' | 'get'>;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
  settings: ResolvedReportSettings;
  hubVersion: string;
  /** The alert history; absent: reports say this hub keeps none. */
  alerts?: AlertHistorySource | undefined;
  /** Brings the telemetry rollups up to date before a report reads them. */
  refreshRollups?: () => Promise<unknown>;
  /** How long the 1 min rollups are kept (older ranges are read from the 1 h ones). */
  rollup1mRetentionMs?: number;
  /** How the LLM provider is called (tests may count calls); default: global fetch. */
  fetch?: FetchLike;
}

/** A stored report with its JSON columns typed: this module wrote them from these types (schema.ts). */
export interface StoredReport extends Omit<ReportRow, 'request' | 'statistics' | 'summary'> {
  request: ReportRequest;
  statistics: ReportStatistics | null;
  summary: ReportSummary | null;
}

function stored(row: ReportRow): StoredReport {
  return {
    ...row,
    request: row.request as unknown as ReportRequest,
    statistics: row.statistics as unknown as ReportStatistics | null,
    summary: row.summary as unknown as ReportSummary | null,
  };
}

/** A rendered report. */
export interface RenderedReport {
  row: StoredReport;
  body: string | Buffer;
}

class GenerationStopped extends Error {
  override readonly name = 'GenerationStopped';
}

export class ReportService {
  readonly #o: ReportServiceOptions;
  readonly #llm: LlmClient | undefined;
  readonly #queue: string[] = [];
  #running: Promise<void> | undefined;
  #current: AbortController | undefined;
  /** Callers of `get` waiting for a pending report of this hub to be generated. */
  readonly #waiters = new Map<string, Set<() => void>>();
  #closed = false;
  readonly #outcomes;
  readonly #seconds;
  readonly #queued;

  constructor(options: ReportServiceOptions) {
    this.#o = options;
    const registry = options.metrics.registry;
    this.#outcomes = counter(
      registry,
      'flotilla_reports_total',
      'Reports generated, by status (ready, failed) and summary (llm, deterministic, fallback: the LLM failed)',
      ['status', 'summary'],
    );
    this.#seconds = histogram(
      registry,
      'flotilla_report_generation_seconds',
      'Time to generate a report: statistics and summary',
      ['status'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    );
    this.#queued = gauge(registry, 'flotilla_reports_queued', 'Reports waiting to be generated or generating');
    const llm = options.settings.llm;
    this.#llm = llm && new LlmClient(llm, { clock: options.clock, ...(options.fetch && { fetch: options.fetch }) });
  }

  /** Queues the reports a stopped hub left pending. */
  async resume(): Promise<void> {
    const pending = await this.#o.storage.reports.pending(this.#o.settings.maxQueued);
    for (const row of pending) this.#enqueue(row.id);
  }

  async create(body: CreateReportBody, metadata: EventMetadata): Promise<StoredReport> {
    if (this.#closed) throw new ApiError(ApiErrors.SHUTTING_DOWN);
    const request = this.#request(body);
    const now = this.#o.clock.now();
    const from = time('from', body.from);
    const to = Math.min(body.to === undefined ? now : time('to', body.to), now);
    if (from >= to) throw new ApiError(ApiErrors.BAD_REQUEST, 'body/from must be before to (and before now)');
    if (to - from > MAX_REPORT_RANGE_MS) {
      throw new ApiError(ApiErrors.BAD_REQUEST, `a report covers ${MAX_REPORT_RANGE_MS / 86_400_000} days at most`);
    }
    if (this.#queue.length + (this.#running ? 1 : 0) >= this.#o.settings.maxQueued) {
      throw new ApiError(
        ApiErrors.REPORT_QUEUE_FULL,
        `${this.#o.settings.maxQueued} reports are waiting to be generated: retry when one is done`,
      );
    }
    const row: ReportRow = {
      id: randomUUID(),
      scope: request.scope,
      from,
      to,
      request: { ...request },
      status: 'pending',
      error: null,
      statistics: null,
      summary: null,
      createdBy: metadata.actor,
      createdAt: now,
      completedAt: null,
    };
    await this.#o.storage.reports.insert(row);
    await this.#event(row.id, ReportEventTypes.Requested, { ...request, from, to }, metadata);
    this.#enqueue(row.id);
    return stored(row);
  }

  /**
   * The report; with `waitMs`, a pending one is read again once this hub has generated it, or
   * after `waitMs` (it may still be pending then: another hub may be generating it).
   */
  async get(id: string, waitMs = 0): Promise<StoredReport> {
    if (waitMs <= 0 || this.#closed) return this.#read(id);
    // Listening before reading: a report finished between the two is not waited for in vain.
    let wake = (): void => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const waiters = this.#waiters.get(id) ?? new Set();
    this.#waiters.set(id, waiters.add(wake));
    const timer = this.#o.clock.setTimeout(wake, waitMs);
    try {
      const row = await this.#read(id);
      if (row.status !== 'pending') return row;
      await woken;
      return await this.#read(id);
    } finally {
      timer.cancel();
      waiters.delete(wake);
      if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
    }
  }

  async #read(id: string): Promise<StoredReport> {
    const row = await this.#o.storage.reports.get(id);
    if (!row) throw new ApiError(ApiErrors.REPORT_NOT_FOUND, `no report ${id}`);
    return stored(row);
  }

  async list(limit: number): Promise<StoredReport[]> {
    return (await this.#o.storage.reports.list(limit)).map(stored);
  }

  async delete(id: string, metadata: EventMetadata): Promise<void> {
    if (!(await this.#o.storage.reports.delete(id))) throw new ApiError(ApiErrors.REPORT_NOT_FOUND, `no report ${id}`);
    await this.#event(id, ReportEventTypes.Deleted, {}, metadata);
  }

  async html(id: string): Promise<RenderedReport> {
    const { row, stats, summary } = await this.#ready(id);
    return { row, body: renderHtml(reportDocument(this.#meta(row), stats, summary)) };
  }

  async pdf(id: string): Promise<RenderedReport> {
    const { row, stats, summary } = await this.#ready(id);
    return { row, body: await renderPdf(reportDocument(this.#meta(row), stats, summary), row) };
  }

  /** Resolves once no report is queued or generating (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops generating: the report under way stays pending and is generated at the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#current?.abort();
    await this.idle();
    for (const id of [...this.#waiters.keys()]) this.#wake(id);
  }

  #wake(id: string): void {
    for (const done of [...(this.#waiters.get(id) ?? [])]) done();
  }

  #request(body: CreateReportBody): ReportRequest {
    if (body.scope === 'device') {
      if (body.device === undefined)
        throw new ApiError(ApiErrors.BAD_REQUEST, 'body/device is needed with scope device');
      if (body.selector !== undefined) {
        throw new ApiError(ApiErrors.BAD_REQUEST, 'body/selector is for scope fleet; scope device names one device');
      }
      if (!this.#o.registry.get(body.device))
        throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${body.device}`);
    } else {
      if (body.device !== undefined) {
        throw new ApiError(ApiErrors.BAD_REQUEST, 'body/device is for scope device; scope fleet takes a selector');
      }
      const parsed = parseSelector(body.selector ?? '');
      if (!parsed.ok) throw new ApiError(ApiErrors.BAD_SELECTOR, `selector: ${parsed.message}`);
    }
    for (const [name, v] of Object.entries(body.thresholds ?? {})) {
      if (!Number.isFinite(v))
        throw new ApiError(ApiErrors.BAD_REQUEST, `body/thresholds/${name} must be a finite number`);
    }
    return {
      scope: body.scope,
      device: body.scope === 'device' ? (body.device ?? null) : null,
      selector: body.scope === 'fleet' && body.selector ? body.selector : null,
      metrics: {
        battery: body.metrics?.battery ?? REPORT_DEFAULTS.batteryMetric,
        temperature: body.metrics?.temperature ?? REPORT_DEFAULTS.temperatureMetric,
      },
      thresholds: {
        batteryBelow: body.thresholds?.batteryBelow ?? REPORT_DEFAULTS.batteryBelow,
        temperatureAbove: body.thresholds?.temperatureAbove ?? REPORT_DEFAULTS.temperatureAbove,
        offlineAbove: body.thresholds?.offlineAbove ?? REPORT_DEFAULTS.offlineAbove,
      },
    };
  }

  async #ready(id: string): Promise<{ row: StoredReport; stats: ReportStatistics; summary: ReportSummary }> {
    const row = await this.#read(id);
    if (row.status === 'failed') {
      throw new ApiError(ApiErrors.REPORT_NOT_READY, `report ${id} failed: ${row.error ?? 'no reason recorded'}`);
    }
    if (row.status !== 'ready' || !row.statistics || !row.summary) {
      throw new ApiError(ApiErrors.REPORT_NOT_READY, `report ${id} is still being generated`);
    }
    return { row, stats: row.statistics, summary: row.summary };
  }

  #meta(row: StoredReport) {
    return { id: row.id, createdAt: row.createdAt, createdBy: row.createdBy, hubVersion: this.#o.hubVersion };
  }

  #enqueue(id: string): void {
    if (this.#closed || this.#queue.includes(id)) return;
    this.#queue.push(id);
    this.#queued.set(this.#queue.length + (this.#running ? 1 : 0));
    this.#running ??= this.#pump().finally(() => {
      this.#running = undefined;
      this.#queued.set(this.#queue.length);
    });
  }

  async #pump(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined && !this.#closed; id = this.#queue.shift()) {
      try {
        await this.#generate(id);
      } catch (err) {
        // Recording the outcome failed (storage down): the row stays pending for the next start.
        this.#o.logger.error({ err, report: id }, 'cannot record the outcome of a report');
      }
      this.#queued.set(this.#queue.length);
    }
  }

  async #generate(id: string): Promise<void> {
    const { storage, clock, settings, logger } = this.#o;
    const found = await storage.reports.get(id);
    if (!found || found.status !== 'pending') return;
    const row = stored(found);
    const controller = new AbortController();
    this.#current = controller;
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, settings.generationTimeoutMs);
    const checkpoint = (): void => {
      if (controller.signal.aborted) throw new GenerationStopped();
    };
    const system = { actor: 'system', correlationId: id, causationId: null };
    const started = performance.now();
    try {
      const stats = await gatherStatistics(
        {
          storage,
          registry: this.#o.registry,
          alerts: this.#o.alerts,
          refreshRollups: this.#o.refreshRollups,
          rollup1mRetentionMs: this.#o.rollup1mRetentionMs,
        },
        { request: row.request, from: row.from, to: row.to, generatedAt: clock.now() },
        checkpoint,
      );
      const summary = await writeSummary(stats, this.#llm, { logger, signal: controller.signal });
      checkpoint();
      const completedAt = clock.now();
      if (await storage.reports.complete(id, { status: 'ready', statistics: stats, summary, completedAt })) {
        this.#outcomes.inc({ status: 'ready', summary: summary.note ? 'fallback' : summary.source });
        this.#seconds.observe({ status: 'ready' }, (performance.now() - started) / 1000);
        await this.#event(id, ReportEventTypes.Ready, { summary: summary.source }, system);
      }
    } catch (err) {
      if (this.#closed && !timedOut) return;
      const reason = timedOut
        ? `generation took longer than ${Math.round(settings.generationTimeoutMs / 1000)} s`
        : err instanceof ReportInputError
          ? err.message
          : `generation failed: ${(err as Error).message}`;
      logger.warn({ err, report: id }, 'report failed');
      if (await storage.reports.complete(id, { status: 'failed', error: reason, completedAt: clock.now() })) {
        this.#outcomes.inc({ status: 'failed', summary: 'none' });
        this.#seconds.observe({ status: 'failed' }, (performance.now() - started) / 1000);
        await this.#event(id, ReportEventTypes.Failed, { error: reason }, system);
      }
    } finally {
      timer.cancel();
      this.#current = undefined;
      this.#wake(id);
    }
  }

  async #event(id: string, type: string, data: Record<string, unknown>, metadata: EventMetadata): Promise<void> {
    await this.#o.storage.appendEvents([
      { id: randomUUID(), aggregateId: `report:${id}`, type, ts: this.#o.clock.now(), data, metadata },
    ]);
  }
}

function time(name: string, value: number | string): number {
  const ms = typeof value === 'number' ? value : parseTime(value);
  if (ms === undefined || !Number.isSafeInteger(ms)) {
    throw new ApiError(
      ApiErrors.BAD_REQUEST,
      `body/${name} must be an ISO 8601 date-time with a zone or milliseconds since the epoch`,
    );
  }
  return ms;
}
