import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { Insertable, Selectable, Transaction } from 'kysely';
import type { CommandsTable, Database } from './schema.js';

/**
 * Typed queries over the command records (migration 0007). The commands module decides what
 * the statuses mean; this stores and finds them. Times are epoch ms.
 */

export const COMMAND_STATUSES = ['issued', 'delivered', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const OPEN_STATUSES: readonly CommandStatus[] = ['issued', 'delivered'];

export interface CommandRow {
  id: string;
  deviceId: string;
  capability: string;
  command: string;
  args: Record<string, unknown>;
  priority: 'critical' | 'normal';
  status: CommandStatus;
  result: unknown;
  error: { code: string; message: string } | null;
  timeoutMs: number;
  actor: string;
  issuedAt: number;
  deliveredAt: number | null;
  completedAt: number | null;
  deadline: number;
  /** A long-running command (the HAL marks it `job`): it reports progress and can be cancelled. */
  job: boolean;
  /** 0 … 1, as the device last reported it; null before the first report. */
  progress: number | null;
  progressMessage: string | null;
}

/** How many commands one device was sent in a time range that now have one status. */
export interface CommandActivity {
  deviceId: string;
  status: CommandStatus;
  count: number;
}

/** What an outcome changes. */
export interface CommandOutcome {
  status: Extract<CommandStatus, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
  result?: unknown;
  error?: { code: string; message: string };
  completedAt: number;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const parse = (v: string | null): unknown => (v === null ? null : (JSON.parse(v) as unknown));

/** Rows per upsert statement in `write`: a few fixed shapes. */
const SAVE_SIZES = [64, 8, 1];

function toTable(row: CommandRow): Insertable<CommandsTable> {
  return {
    id: row.id,
    device_id: row.deviceId,
    capability: row.capability,
    command: row.command,
    args: JSON.stringify(row.args),
    priority: row.priority,
    status: row.status,
    result: row.result === undefined ? null : JSON.stringify(row.result),
    error: row.error === null ? null : JSON.stringify(row.error),
    timeout_ms: row.timeoutMs,
    actor: row.actor,
    issued_at: row.issuedAt,
    delivered_at: row.deliveredAt,
    completed_at: row.completedAt,
    deadline: row.deadline,
    job: row.job ? 1 : 0,
    progress: row.progress,
    progress_message: row.progressMessage,
  };
}

function toRow(r: Selectable<CommandsTable>): CommandRow {
  return {
    id: r.id,
    deviceId: r.device_id,
    capability: r.capability,
    command: r.command,
    args: JSON.parse(r.args) as Record<string, unknown>,
    priority: r.priority === 'critical' ? 'critical' : 'normal',
    status: r.status as CommandStatus,
    result: parse(r.result) ?? undefined,
    error: parse(r.error) as CommandRow['error'],
    timeoutMs: Number(r.timeout_ms),
    actor: r.actor,
    issuedAt: Number(r.issued_at),
    deliveredAt: num(r.delivered_at),
    completedAt: num(r.completed_at),
    deadline: Number(r.deadline),
    job: Number(r.job) === 1,
    progress: r.progress === null ? null : Number(r.progress),
    progressMessage: r.progress_message,
  };
}

export class CommandStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async insert(row: CommandRow): Promise<void> {
    await guard('recording a command', () => this.#engine.db.insertInto('commands').values(toTable(row)).execute());
  }

  /**
   * Writes records as they stand, inside the caller's transaction: new ones inserted, known ones
   * overwritten with their current status, times, result and progress (the commands journal,
   * commands/journal.ts, sends each command's newest snapshot; Storage.recordCommands adds their
   * events). Statements of a few fixed sizes, so SQLite's prepared statements are reused.
   */
  async write(trx: Transaction<Database>, rows: readonly CommandRow[]): Promise<void> {
    for (let start = 0; start < rows.length;) {
      const size = SAVE_SIZES.find((n) => n <= rows.length - start) ?? 1;
      await trx
        .insertInto('commands')
        .values(rows.slice(start, start + size).map(toTable))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            result: eb.ref('excluded.result'),
            error: eb.ref('excluded.error'),
            delivered_at: eb.ref('excluded.delivered_at'),
            completed_at: eb.ref('excluded.completed_at'),
            progress: eb.ref('excluded.progress'),
            progress_message: eb.ref('excluded.progress_message'),
          })),
        )
        .execute();
      start += size;
    }
  }

  /** Records the outcome of an open command; false when it already had one (nothing changes). */
  async complete(id: string, outcome: CommandOutcome): Promise<boolean> {
    const result = await guard('recording a command outcome', () =>
      this.#engine.db
        .updateTable('commands')
        .set({
          status: outcome.status,
          result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
          error: outcome.error === undefined ? null : JSON.stringify(outcome.error),
          completed_at: outcome.completedAt,
        })
        .where('id', '=', id)
        .where('status', 'in', OPEN_STATUSES)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async get(id: string): Promise<CommandRow | undefined> {
    const row = await guard('reading a command', () =>
      this.#engine.db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toRow(row);
  }

  /** The device's commands, newest first. */
  async listByDevice(deviceId: string, limit: number): Promise<CommandRow[]> {
    const rows = await guard('listing commands', () =>
      this.#engine.db
        .selectFrom('commands')
        .selectAll()
        .where('device_id', '=', deviceId)
        .orderBy('issued_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    );
    return rows.map(toRow);
  }

  /** Jobs (long-running commands), newest first; only those still running with `open`. */
  async listJobs(options: { open: boolean; limit: number }): Promise<CommandRow[]> {
    const rows = await guard('listing jobs', () => {
      let query = this.#engine.db.selectFrom('commands').selectAll().where('job', '=', 1);
      if (options.open) query = query.where('status', 'in', OPEN_STATUSES);
      return query.orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
    });
    return rows.map(toRow);
  }

  /** Commands issued in [from, to), counted by device and status (reports: busiest devices, success rate). */
  async activity(from: number, to: number): Promise<CommandActivity[]> {
    const rows = await guard('counting commands', () =>
      this.#engine.db
        .selectFrom('commands')
        .select((eb) => ['device_id', 'status', eb.fn.countAll<number | string>().as('n')])
        .where('issued_at', '>=', from)
        .where('issued_at', '<', to)
        .groupBy(['device_id', 'status'])
        .execute(),
    );
    return rows.map((r) => ({ deviceId: r.device_id, status: r.status as CommandStatus, count: Number(r.n) }));
  }

  /** Open commands whose deadline has passed (their hub stopped waiting without closing them). */
  async overdue(now: number, limit: number): Promise<CommandRow[]> {
    const rows = await guard('finding abandoned commands', () =>
      this.#engine.db
        .selectFrom('commands')
        .selectAll()
        .where('status', 'in', OPEN_STATUSES)
        .where('deadline', '<', now)
        .limit(limit)
        .execute(),
    );
    return rows.map(toRow);
  }
}
