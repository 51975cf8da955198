import type { Selectable } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { ReportsTable } from './schema.js';

/**
 * Typed queries over the stored reports (migration 0012). The reports module decides what a
 * request, the statistics and the summary hold; this stores them as JSON and finds them.
 * Times are epoch ms.
 */

export const REPORT_STATUSES = ['pending', 'ready', 'failed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ReportRow {
  id: string;
  scope: 'fleet' | 'device';
  from: number;
  to: number;
  /** What was asked, as the reports module wrote it. */
  request: Record<string, unknown>;
  status: ReportStatus;
  /** Why generation failed; null otherwise. */
  error: string | null;
  statistics: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  createdBy: string;
  createdAt: number;
  completedAt: number | null;
}

/** What a finished generation stores. */
export type ReportOutcome =
  | { status: 'ready'; statistics: Record<string, unknown>; summary: Record<string, unknown>; completedAt: number }
  | { status: 'failed'; error: string; completedAt: number };

const parse = (v: string | null): Record<string, unknown> | null =>
  v === null ? null : (JSON.parse(v) as Record<string, unknown>);

function toRow(r: Selectable<ReportsTable>): ReportRow {
  return {
    id: r.id,
    scope: r.scope === 'device' ? 'device' : 'fleet',
    from: Number(r.range_from),
    to: Number(r.range_to),
    request: JSON.parse(r.request) as Record<string, unknown>,
    status: r.status as ReportStatus,
    error: r.error,
    statistics: parse(r.statistics),
    summary: parse(r.summary),
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  };
}

/** Listing columns: everything but the statistics, which can be large. */
const LISTED = [
  'id',
  'scope',
  'range_from',
  'range_to',
  'request',
  'status',
  'error',
  'summary',
  'created_by',
  'created_at',
  'completed_at',
] as const;

export class ReportStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async insert(row: ReportRow): Promise<void> {
    await guard('recording a report', () =>
      this.#engine.db
        .insertInto('reports')
        .values({
          id: row.id,
          scope: row.scope,
          range_from: row.from,
          range_to: row.to,
          request: JSON.stringify(row.request),
          status: row.status,
          error: row.error,
          statistics: row.statistics === null ? null : JSON.stringify(row.statistics),
          summary: row.summary === null ? null : JSON.stringify(row.summary),
          created_by: row.createdBy,
          created_at: row.createdAt,
          completed_at: row.completedAt,
        })
        .execute(),
    );
  }

  /** Pending → ready or failed; false when the report is no longer pending (deleted meanwhile). */
  async complete(id: string, outcome: ReportOutcome): Promise<boolean> {
    const result = await guard('recording a report outcome', () =>
      this.#engine.db
        .updateTable('reports')
        .set(
          outcome.status === 'ready'
            ? {
                status: 'ready',
                statistics: JSON.stringify(outcome.statistics),
                summary: JSON.stringify(outcome.summary),
                completed_at: outcome.completedAt,
              }
            : { status: 'failed', error: outcome.error, completed_at: outcome.completedAt },
        )
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async get(id: string): Promise<ReportRow | undefined> {
    const row = await guard('reading a report', () =>
      this.#engine.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toRow(row);
  }

  /** Newest first, without statistics (`statistics` is null in every row). */
  async list(limit: number): Promise<ReportRow[]> {
    const rows = await guard('listing reports', () =>
      this.#engine.db
        .selectFrom('reports')
        .select(LISTED)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    );
    return rows.map((r) => toRow({ ...r, statistics: null }));
  }

  /** Reports still pending, oldest first: a hub that stopped while generating them left them so. */
  async pending(limit: number): Promise<ReportRow[]> {
    const rows = await guard('finding pending reports', () =>
      this.#engine.db
        .selectFrom('reports')
        .selectAll()
        .where('status', '=', 'pending')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute(),
    );
    return rows.map(toRow);
  }

  /** True when there was such a report. */
  async delete(id: string): Promise<boolean> {
    const result = await guard('deleting a report', () =>
      this.#engine.db.deleteFrom('reports').where('id', '=', id).executeTakeFirst(),
    );
    return Number(result.numDeletedRows) === 1;
  }
}
