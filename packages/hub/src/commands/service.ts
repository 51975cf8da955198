import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  HalErrorCodes,
  halCapability,
  resolveCommand,
  type Clock,
  type EventMetadata,
  type HalErrorCode,
  type TimerHandle,
} from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import { appendAndPublish } from '../enrollment/security.js';
import type { AgentGateway, ProgressReport, ResultReport } from '../gateway/agent-gateway.js';
import { ApiError, ApiErrors, type ApiErrorSpec } from '../http/errors.js';
import { counter, histogram } from '../http/instruments.js';
import type { HubMetrics } from '../metrics.js';
import type { Registry } from '../registry/registry.js';
import type { CommandOutcome, CommandRow } from '../storage/commands.js';
import type { Storage } from '../storage/types.js';
import { CommandJournal } from './journal.js';

/**
 * Commands to devices: validated against the HAL capability the device declared, sent through
 * the gateway (whatever the transport), correlated with the device's `result`, and recorded —
 * a row per command (storage/commands.ts) and an event per step, with the actor:
 * CommandIssued → CommandDelivered → CommandSucceeded | CommandFailed | CommandTimedOut.
 * Records are written behind the commands (journal.ts): no command waits for storage.
 *
 * Everything a caller can get wrong is refused before anything is sent: unknown device,
 * capability not declared, unknown command, bad arguments, device offline. Results that come
 * late, twice, from another device or for no command are dropped and counted.
 */

export const CommandEventTypes = {
  Issued: 'CommandIssued',
  Delivered: 'CommandDelivered',
  Succeeded: 'CommandSucceeded',
  Failed: 'CommandFailed',
  TimedOut: 'CommandTimedOut',
  Cancelled: 'CommandCancelled',
  CancelRequested: 'CommandCancelRequested',
  /** A job's progress, at most once a second per job (and always at 100 %). */
  JobProgress: 'JobProgress',
} as const;

/** Progress reports are stored and published at most this often per job; the rest only update memory. */
const PROGRESS_EVERY_MS = 1000;

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const MAX_COMMAND_TIMEOUT_MS = 3_600_000;
/**
 * How long past `timeoutMs` the hub still waits: the agent answers `timed_out` itself when its
 * handler overruns, and that answer, with the device's own words, should win over ours.
 */
export const RESULT_GRACE_MS = 2_000;
/** How often open records past their deadline (left by a hub that stopped) are closed. */
const SWEEP_EVERY_MS = 60_000;

export interface CommandRequest {
  capability: string;
  command: string;
  args: Record<string, unknown>;
  timeoutMs?: number;
}

/** A command on its way to a device held by another hub (several hubs on NATS). */
export interface RelayedCommand {
  id: string;
  capability: string;
  command: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  actor: string;
}

/**
 * Reaches devices whose session another hub holds. `relay` resolves once the holder has sent
 * the command (the record is in the shared storage), `done` once the holder has recorded its
 * outcome (or stopped answering); it rejects with an ApiError when the holder refused it.
 */
export interface CommandRelay {
  relay(deviceId: string, command: RelayedCommand): Promise<{ done: Promise<void> }>;
  /**
   * Asks the hub holding the device to cancel a command it runs; resolves with the record as that
   * hub has it, rejects with an ApiError (`command_not_running` when no hub runs it).
   */
  cancel(row: CommandRow, reason: string | undefined, actor: string): Promise<CommandRow>;
}

export interface IssueOptions {
  /** The command's id (a NATS client may choose it); a new UUID when absent. */
  id?: string;
  /** Only a session on this hub will do: never relay (a relayed command arriving here). */
  local?: boolean;
}

export interface CommandServiceOptions {
  storage: Storage;
  registry: Registry;
  gateway: AgentGateway;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
  /** Several hubs on NATS: how commands reach devices connected to another hub. */
  relay?: CommandRelay;
}

interface Pending {
  row: CommandRow;
  timer: TimerHandle;
  settle: (row: CommandRow) => void;
  done: Promise<CommandRow>;
  /** When progress was last recorded (ms), so a chatty device costs one write a second. */
  progressWrittenAt: number;
}

const halErrors: Record<HalErrorCode, ApiErrorSpec> = {
  [HalErrorCodes.UNKNOWN_CAPABILITY]: ApiErrors.UNKNOWN_CAPABILITY,
  [HalErrorCodes.UNKNOWN_COMMAND]: ApiErrors.UNKNOWN_COMMAND,
  [HalErrorCodes.BAD_ARGS]: ApiErrors.BAD_ARGS,
  [HalErrorCodes.CAPABILITY_NOT_DECLARED]: ApiErrors.CAPABILITY_NOT_DECLARED,
};

export class CommandService {
  readonly #o: CommandServiceOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #journal: CommandJournal;
  readonly #outcomes;
  readonly #strayResults;
  readonly #latency;
  readonly #onResult = (report: ResultReport): void => this.#result(report);
  readonly #onProgress = (report: ProgressReport): void => this.#progress(report);
  readonly #sweep: TimerHandle;
  #closed = false;

  constructor(options: CommandServiceOptions) {
    this.#o = options;
    this.#journal = new CommandJournal(options);
    const registry = options.metrics.registry;
    this.#outcomes = counter(registry, 'flotilla_commands_total', 'Commands by final status', ['status']);
    this.#strayResults = counter(
      registry,
      'flotilla_command_stray_results_total',
      'Results dropped: late (after the timeout), duplicate, wrong_device, unknown',
      ['reason'],
    );
    this.#latency = histogram(
      registry,
      'flotilla_command_duration_seconds',
      'From issued to the device’s result',
      ['status'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    options.gateway.on('result', this.#onResult);
    options.gateway.on('progress', this.#onProgress);
    this.#sweep = options.clock.setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
  }

  /**
   * Validates and sends a command. Resolves once it is on its way, with `done`, which resolves
   * with the final record as soon as the device answers (or the timeout): records are written
   * behind (`recorded` waits for that). Never waits for storage.
   */
  async issue(
    deviceId: string,
    request: CommandRequest,
    metadata: EventMetadata,
    options: IssueOptions = {},
  ): Promise<{ row: CommandRow; done: Promise<CommandRow> }> {
    if (this.#closed) throw new ApiError(ApiErrors.SHUTTING_DOWN);
    const { registry, gateway, clock } = this.#o;
    const device = registry.get(deviceId);
    if (!device) throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${deviceId}`);
    const declared = device.capabilities;
    let resolved: {
      capability: string;
      command: string;
      args: Record<string, unknown>;
      priority: 'critical' | 'normal';
    };
    if (halCapability(request.capability) === undefined && declared.some((c) => c.name === request.capability)) {
      // A vendor capability (outside the HAL catalogue): the device declared it, so it alone knows its commands.
      resolved = { ...request, priority: 'normal' };
    } else {
      const checked = resolveCommand(request, declared);
      if (!checked.ok) throw new ApiError(halErrors[checked.error.code], `${deviceId}: ${checked.error.message}`);
      resolved = checked.value;
    }
    const timeoutMs = request.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const session = gateway.session(deviceId);
    if (!session || session.state !== 'active') {
      const relay = this.#o.relay;
      if (relay && !options.local && device.status.online) {
        return this.#relayed(relay, deviceId, request, timeoutMs, metadata, options.id ?? randomUUID());
      }
      throw new ApiError(ApiErrors.DEVICE_OFFLINE, `${deviceId} is offline: commands are not queued for later`);
    }
    if (this.#journal.full) {
      throw new ApiError(ApiErrors.STORAGE_UNAVAILABLE, 'commands are refused until storage takes their records');
    }
    // A caller's own id must be new: records are written as upserts, which would overwrite another.
    if (options.id !== undefined && (await this.#known(options.id))) {
      throw new ApiError(ApiErrors.COMMAND_EXISTS, `a command with id ${options.id} exists`);
    }

    const now = clock.now();
    const row: CommandRow = {
      id: options.id ?? randomUUID(),
      deviceId,
      capability: resolved.capability,
      command: resolved.command,
      args: resolved.args,
      priority: resolved.priority,
      status: 'issued',
      result: undefined,
      error: null,
      timeoutMs,
      actor: metadata.actor,
      issuedAt: now,
      deliveredAt: null,
      completedAt: null,
      deadline: now + timeoutMs + RESULT_GRACE_MS,
      job: halCapability(resolved.capability)?.commands[resolved.command]?.job === true,
      progress: null,
      progressMessage: null,
    };
    const correlation = { ...metadata, correlationId: row.id };
    this.#journal.record(row, {
      type: CommandEventTypes.Issued,
      data: {
        id: row.id,
        capability: row.capability,
        command: row.command,
        args: row.args,
        priority: row.priority,
        timeoutMs,
        ...(row.capability !== request.capability && { requestedCapability: request.capability }),
      },
      metadata: correlation,
    });

    let settle!: (row: CommandRow) => void;
    const done = new Promise<CommandRow>((resolve) => (settle = resolve));
    const timer = clock.setTimeout(
      () =>
        this.#finish(row.id, {
          status: 'timed_out',
          error: { code: 'timed_out', message: `no result from ${deviceId} within ${timeoutMs} ms` },
          completedAt: clock.now(),
        }),
      timeoutMs + RESULT_GRACE_MS,
    );
    this.#pending.set(row.id, { row, timer, settle, done, progressWrittenAt: -Infinity });

    const sent = gateway.sendTo(deviceId, 'command', {
      id: row.id,
      capability: row.capability,
      command: row.command,
      args: row.args,
      timeoutMs,
      priority: row.priority,
    });
    if (!sent) {
      // The device went away between the check and the send.
      this.#finish(row.id, {
        status: 'failed',
        error: { code: 'device_offline', message: `${deviceId} disconnected before the command was sent` },
        completedAt: clock.now(),
      });
      return { row: await done, done };
    }
    row.status = 'delivered';
    row.deliveredAt = clock.now();
    this.#journal.record(row, { type: CommandEventTypes.Delivered, data: { id: row.id }, metadata: correlation });
    return { row: { ...row }, done };
  }

  async #known(id: string): Promise<boolean> {
    return (
      this.#pending.has(id) ||
      this.#journal.unwritten(id) !== undefined ||
      (await this.#o.storage.commands.get(id)) !== undefined
    );
  }

  /** Resolves once the record of this command, as it stands, is in storage (journal.ts). */
  recorded(id: string): Promise<void> {
    return this.#journal.recorded(id);
  }

  /**
   * The device is connected to another hub: that hub sends, records and answers; this one reads
   * the record it wrote (shared storage) once it has sent the command, and again once it answered.
   */
  async #relayed(
    relay: CommandRelay,
    deviceId: string,
    request: CommandRequest,
    timeoutMs: number,
    metadata: EventMetadata,
    id: string,
  ): Promise<{ row: CommandRow; done: Promise<CommandRow> }> {
    const { storage, clock } = this.#o;
    const { done } = await relay.relay(deviceId, {
      id,
      capability: request.capability,
      command: request.command,
      args: request.args,
      timeoutMs,
      actor: metadata.actor,
    });
    const sent = await storage.commands.get(id);
    if (!sent) throw new ApiError(ApiErrors.DEVICE_OFFLINE, `the hub holding ${deviceId} did not record the command`);
    const final = done.then(async () => {
      const row = (await storage.commands.get(id).catch(() => undefined)) ?? sent;
      if (row.completedAt !== null) return row;
      // The holder stopped answering before the outcome: the record stays open for the sweep.
      return {
        ...row,
        status: 'timed_out' as const,
        completedAt: clock.now(),
        error: { code: 'hub_stopped', message: `the hub holding ${deviceId} stopped before the result came` },
      };
    });
    return { row: sent, done: final };
  }

  /** A recorded command, or 404. */
  async get(id: string): Promise<CommandRow> {
    const row = this.#pending.get(id)?.row ?? this.#journal.unwritten(id) ?? (await this.#o.storage.commands.get(id));
    if (!row) throw new ApiError(ApiErrors.COMMAND_NOT_FOUND, `no command ${id}`);
    return { ...row };
  }

  /** Jobs, newest first (`open`: only those still running). */
  async listJobs(options: { open: boolean; limit: number }): Promise<CommandRow[]> {
    const stored = await this.#o.storage.commands.listJobs(options);
    const unwritten = this.#journal.unwrittenWhere((row) => row.job && (!options.open || row.completedAt === null));
    // What this hub holds in memory is fresher than the last write (progress is written once a second).
    return newestFirst(stored, unwritten, options.limit).map((row) => ({ ...(this.#pending.get(row.id)?.row ?? row) }));
  }

  /**
   * Asks the device to stop a running command. The record changes when the device answers
   * (`cancelled`, or its real outcome if it finished first); a device that never answers times out.
   */
  async cancel(
    id: string,
    reason: string | undefined,
    metadata: EventMetadata,
    options: Pick<IssueOptions, 'local'> = {},
  ): Promise<CommandRow> {
    const pending = this.#pending.get(id);
    if (!pending) {
      const row = this.#journal.unwritten(id) ?? (await this.#o.storage.commands.get(id));
      if (!row) throw new ApiError(ApiErrors.COMMAND_NOT_FOUND, `no command ${id}`);
      // Still open, and another hub holds the device (several hubs on NATS): that hub runs it.
      const relay = this.#o.relay;
      if (row.completedAt === null && relay && !options.local && !this.#o.gateway.session(row.deviceId)) {
        return relay.cancel(row, reason, metadata.actor);
      }
      throw new ApiError(
        ApiErrors.COMMAND_NOT_RUNNING,
        row.completedAt !== null
          ? `command ${id} has finished (${row.status})`
          : `command ${id} is not running on this hub (it stopped before the command finished)`,
      );
    }
    const { row } = pending;
    const sent = this.#o.gateway.sendTo(row.deviceId, 'cancel', reason === undefined ? { id } : { id, reason });
    this.#journal.event(
      row.deviceId,
      CommandEventTypes.CancelRequested,
      { id, ...(reason !== undefined && { reason }), delivered: sent },
      { ...metadata, correlationId: id },
    );
    return { ...row };
  }

  async listByDevice(deviceId: string, limit: number): Promise<CommandRow[]> {
    if (!this.#o.registry.get(deviceId)) throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${deviceId}`);
    const stored = await this.#o.storage.commands.listByDevice(deviceId, limit);
    return newestFirst(
      stored,
      this.#journal.unwrittenWhere((row) => row.deviceId === deviceId),
      limit,
    );
  }

  /** Closes open records past their deadline that no hub is waiting for (their hub stopped). */
  async sweep(): Promise<number> {
    const { storage, clock, logger } = this.#o;
    let closed = 0;
    try {
      for (const row of await storage.commands.overdue(clock.now(), 1000)) {
        if (this.#pending.has(row.id) || this.#journal.unwritten(row.id)) continue;
        const outcome: CommandOutcome = {
          status: 'timed_out',
          error: { code: 'hub_stopped', message: 'the hub that sent this command stopped before its result came' },
          completedAt: clock.now(),
        };
        if (await storage.commands.complete(row.id, outcome)) {
          closed++;
          await this.#event(
            row.deviceId,
            CommandEventTypes.TimedOut,
            { id: row.id, error: outcome.error },
            {
              actor: 'system',
              correlationId: row.id,
              causationId: null,
            },
          );
        }
      }
    } catch (err) {
      logger.warn({ err }, 'cannot close abandoned commands; trying again later');
    }
    return closed;
  }

  /**
   * Stops listening; waiting callers get their commands as they stand (open ones stay open for
   * the sweep), and the records not written yet are written.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sweep.cancel();
    this.#o.gateway.off('result', this.#onResult);
    this.#o.gateway.off('progress', this.#onProgress);
    for (const pending of this.#pending.values()) {
      pending.timer.cancel();
      pending.settle({ ...pending.row });
    }
    this.#pending.clear();
    await this.#journal.drain();
  }

  #result(report: ResultReport): void {
    const { id, status, result, error } = report.result;
    const pending = this.#pending.get(id);
    if (!pending) {
      void this.#stray(report);
      return;
    }
    if (pending.row.deviceId !== report.device) {
      this.#strayResults.inc({ reason: 'wrong_device' });
      this.#o.logger.warn({ device: report.device, command: id }, 'a device answered a command sent to another device');
      return;
    }
    const outcome: CommandOutcome = { status, completedAt: this.#o.clock.now() };
    if (result !== undefined) outcome.result = result;
    if (error !== undefined) outcome.error = error;
    else if (status !== 'succeeded') outcome.error = { code: status, message: `the device reported ${status}` };
    this.#finish(id, outcome);
  }

  #progress(report: ProgressReport): void {
    const { id, progress, message } = report.progress;
    const pending = this.#pending.get(id);
    if (!pending || pending.row.deviceId !== report.device) {
      this.#strayResults.inc({ reason: pending ? 'wrong_device' : 'progress_unknown' });
      return;
    }
    const { row } = pending;
    row.progress = progress;
    row.progressMessage = message ?? null;
    const now = this.#o.clock.now();
    if (progress < 1 && now - pending.progressWrittenAt < PROGRESS_EVERY_MS) return;
    pending.progressWrittenAt = now;
    this.#journal.record(row, {
      type: CommandEventTypes.JobProgress,
      data: { id, progress, ...(message !== undefined && { message }) },
      metadata: { actor: `device:${row.deviceId}`, correlationId: id, causationId: null },
    });
  }

  async #stray(report: ResultReport): Promise<void> {
    let reason = 'unknown';
    try {
      const row = this.#journal.unwritten(report.result.id) ?? (await this.#o.storage.commands.get(report.result.id));
      if (row && row.deviceId !== report.device) reason = 'wrong_device';
      else if (row?.status === 'timed_out') reason = 'late';
      else if (row) reason = 'duplicate';
    } catch {
      // Counted as unknown: the storage error is logged where it happened.
    }
    this.#strayResults.inc({ reason });
    this.#o.logger.info({ device: report.device, command: report.result.id, reason }, 'dropped a command result');
  }

  #finish(id: string, outcome: CommandOutcome): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.timer.cancel();
    const row = pending.row;
    row.status = outcome.status;
    row.completedAt = outcome.completedAt;
    if (outcome.result !== undefined) row.result = outcome.result;
    row.error = outcome.error ?? null;
    this.#outcomes.inc({ status: outcome.status });
    this.#latency.observe({ status: outcome.status }, (outcome.completedAt - row.issuedAt) / 1000);
    const type = {
      succeeded: CommandEventTypes.Succeeded,
      failed: CommandEventTypes.Failed,
      timed_out: CommandEventTypes.TimedOut,
      cancelled: CommandEventTypes.Cancelled,
    }[outcome.status];
    this.#journal.record(row, {
      type,
      data: {
        id,
        ...(outcome.result !== undefined && { result: outcome.result }),
        ...(outcome.error && { error: outcome.error }),
      },
      metadata: {
        actor: outcome.status === 'timed_out' ? 'system' : `device:${row.deviceId}`,
        correlationId: id,
        causationId: null,
      },
    });
    pending.settle({ ...row });
  }

  async #event(deviceId: string, type: string, data: Record<string, unknown>, metadata: EventMetadata): Promise<void> {
    await appendAndPublish(this.#o, deviceId, type, data, metadata);
  }
}

/** Stored rows and unwritten ones (which win), newest first as storage orders them, up to `limit`. */
function newestFirst(stored: readonly CommandRow[], unwritten: readonly CommandRow[], limit: number): CommandRow[] {
  if (unwritten.length === 0) return [...stored];
  const byId = new Map(stored.map((row) => [row.id, row]));
  for (const row of unwritten) byId.set(row.id, row);
  return [...byId.values()]
    .sort((a, b) => b.issuedAt - a.issuedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}
