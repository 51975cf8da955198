import type { Logger } from 'pino';
import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { EventMetadata } from '@flotilla/protocol';
import type { CommandRelay, CommandRequest, CommandService, RelayedCommand } from '../commands/service.js';
import { ApiError, ApiErrors, type ApiErrorSpec } from '../http/errors.js';
import type { CommandRow } from '../storage/commands.js';
import type { NatsSubjects } from './subjects.js';

/**
 * Commands over NATS request/reply, on the DESIGN.md subject `flotilla.<id>.cmd.<capability>`.
 *
 * The hub holding a device's session subscribes to `flotilla.<id>.cmd.>` while it does, so a
 * request reaches exactly that hub, and a device connected nowhere gets NATS's "no responders"
 * at once. The request body is `{command, args?, timeoutMs?, id?}`; the hub runs it as any
 * command (validated against what the device declared, recorded, with events) and replies with
 * the result `{id, status, result?, error?}`, or `{error: {code, message}}` when it refused it
 * before sending (the same codes as the HTTP API).
 *
 * Hubs use the same subjects for one another (a REST call to hub B for a device on hub A), with
 * the header `Flotilla-Ack: 1`: the holder then first replies `{accepted: id}` once the command
 * is sent, and the result after it.
 *
 * A request `{cancel: id, reason?}` on the command's subject asks the holder to cancel that
 * running command of the device (a job cancelled through another hub, or by a service); it
 * replies `{requested: true, record}` once the device has been asked, with the record as the
 * holder has it, or `{error}` (`command_not_running` when it does not run it).
 */

export const ACK_HEADER = 'Flotilla-Ack';
/** Who a command from a NATS client is recorded as, when it names no actor of its own. */
export const NATS_ACTOR = 'nats';
/** An actor a hub names when it relays a user's request (`user:alice`). */
export const ACTOR_RE = /^[a-z][a-z0-9_-]*:[^\s]{1,200}$/;
/** How long a relaying hub waits past the command's own timeout (and the holder's grace). */
const RELAY_MARGIN_MS = 5_000;
/** How long a relayed cancel waits for the holder: it asks the device and writes one event. */
const CANCEL_TIMEOUT_MS = 10_000;
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

interface Body {
  command?: unknown;
  args?: unknown;
  timeoutMs?: unknown;
  id?: unknown;
  actor?: unknown;
  /** A cancel request: the id of the command to cancel. */
  cancel?: unknown;
  reason?: unknown;
}

/** The command result as DESIGN.md gives it. */
export function resultOf(row: CommandRow): Record<string, unknown> {
  return {
    id: row.id,
    status: row.status,
    ...(row.result !== undefined && { result: row.result }),
    ...(row.error !== null && { error: row.error }),
  };
}

/** Answers command requests for the devices whose sessions this hub holds. */
export class CommandResponder {
  readonly #subs = new Map<string, { session: string; sub: Subscription }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: NatsSubjects,
    private readonly commands: () => CommandService | undefined,
    private readonly logger: Logger,
  ) {}

  /** The device's session is here now: answer its command subject. */
  hold(id: string, session: string): void {
    if (this.nc.isClosed()) return;
    const previous = this.#subs.get(id);
    if (previous) {
      previous.session = session;
      return;
    }
    const sub = this.nc.subscribe(this.subjects.toNats(`flotilla.${id}.cmd.>`), {
      callback: (err, msg) => {
        if (!err) void this.#answer(id, msg);
      },
    });
    this.#subs.set(id, { session, sub });
  }

  /** The session ended here (or moved): stop answering, unless a newer session holds it. */
  let(id: string, session: string): void {
    const held = this.#subs.get(id);
    if (!held || held.session !== session) return;
    this.#subs.delete(id);
    if (!this.nc.isClosed()) held.sub.unsubscribe();
  }

  close(): void {
    for (const { sub } of this.#subs.values()) if (!this.nc.isClosed()) sub.unsubscribe();
    this.#subs.clear();
  }

  async #answer(id: string, msg: Msg): Promise<void> {
    const reply = (value: unknown): void => {
      if (!msg.reply) return;
      try {
        msg.respond(JSON.stringify(value));
      } catch (err) {
        // The connection closed or is draining (the hub stopping): the requester times out.
        this.logger.debug({ err, device: id }, 'cannot answer a command request');
      }
    };
    const refuse = (spec: ApiErrorSpec, message: string): void => reply({ error: { code: spec.code, message } });
    const commands = this.commands();
    if (!commands) return refuse(ApiErrors.SHUTTING_DOWN, 'the hub is starting or stopping');
    const capability = this.subjects.fromNats(msg.subject).split('.').slice(3).join('.');
    let body: Body;
    try {
      body = msg.json<Body>();
    } catch {
      return refuse(ApiErrors.BAD_REQUEST, 'the request body must be JSON: {command, args?, timeoutMs?}');
    }
    if (isObject(body) && body.cancel !== undefined) return this.#cancel(id, body, commands, reply, refuse);
    const problem = checkBody(body, capability);
    if (problem) return refuse(ApiErrors.BAD_REQUEST, problem);
    const request: CommandRequest = {
      capability,
      command: body.command as string,
      args: (body.args ?? {}) as Record<string, unknown>,
      ...(typeof body.timeoutMs === 'number' && { timeoutMs: body.timeoutMs }),
    };
    const metadata = metadataOf(body);
    try {
      const { row, done } = await commands.issue(id, request, metadata, {
        local: true,
        ...(typeof body.id === 'string' && { id: body.id }),
      });
      // The relaying hub reads the record from the shared storage: it must be there first.
      if (msg.headers?.get(ACK_HEADER) === '1') {
        await commands.recorded(row.id);
        reply({ accepted: row.id });
      }
      const final = await done;
      await commands.recorded(row.id);
      reply(resultOf(final));
    } catch (err) {
      if (err instanceof ApiError) return reply({ error: { code: err.code, message: err.message } });
      this.logger.error({ err, device: id }, 'cannot run a command received over NATS');
      reply({ error: { code: 'internal', message: 'the hub could not run the command' } });
    }
  }

  /** `{cancel: id, reason?}`: cancels a command this hub runs for the subject's device. */
  async #cancel(
    deviceId: string,
    body: Body,
    commands: CommandService,
    reply: (value: unknown) => void,
    refuse: (spec: ApiErrorSpec, message: string) => void,
  ): Promise<void> {
    const { cancel, reason } = body;
    if (body.command !== undefined)
      return refuse(ApiErrors.BAD_REQUEST, 'a request is a command or a cancel, not both');
    if (typeof cancel !== 'string' || !ID_RE.test(cancel))
      return refuse(ApiErrors.BAD_REQUEST, '`cancel` must be a command id (1 to 128 letters, digits, _ or -)');
    if (reason !== undefined && (typeof reason !== 'string' || reason.length < 1 || reason.length > 256))
      return refuse(ApiErrors.BAD_REQUEST, '`reason` must be a string of 1 to 256 characters');
    try {
      // Only this device's commands: the subject names the device a caller may act on.
      const known = await commands.get(cancel);
      if (known.deviceId !== deviceId)
        return refuse(ApiErrors.COMMAND_NOT_FOUND, `${deviceId} has no command ${cancel}`);
      const record = await commands.cancel(cancel, reason, metadataOf(body), { local: true });
      reply({ requested: true, record });
    } catch (err) {
      if (err instanceof ApiError) return reply({ error: { code: err.code, message: err.message } });
      this.logger.error({ err, device: deviceId, command: cancel }, 'cannot cancel a command over NATS');
      reply({ error: { code: 'internal', message: 'the hub could not cancel the command' } });
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Who the request is recorded as: a hub relaying names the user; a plain NATS client is `nats`. */
function metadataOf(body: Body): EventMetadata {
  const actor = typeof body.actor === 'string' && ACTOR_RE.test(body.actor) ? body.actor : NATS_ACTOR;
  return { actor, correlationId: null, causationId: null };
}

function checkBody(body: Body, capability: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the request body must be a JSON object';
  if (capability === '') return 'the subject must name a capability: flotilla.<id>.cmd.<capability>';
  if (typeof body.command !== 'string' || body.command === '') return '`command` must be a non-empty string';
  if (body.args !== undefined && (typeof body.args !== 'object' || body.args === null || Array.isArray(body.args)))
    return '`args` must be an object';
  if (body.timeoutMs !== undefined && (!Number.isInteger(body.timeoutMs) || (body.timeoutMs as number) < 1))
    return '`timeoutMs` must be a positive integer';
  if (body.id !== undefined && (typeof body.id !== 'string' || !ID_RE.test(body.id)))
    return '`id` must be 1 to 128 letters, digits, _ or -';
  return undefined;
}

const byCode = new Map<string, ApiErrorSpec>(Object.values(ApiErrors).map((spec) => [spec.code, spec]));

/** Sends commands for devices held by other hubs to whichever hub holds them. */
export class NatsCommandRelay implements CommandRelay {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: NatsSubjects,
    private readonly graceMs: number,
  ) {}

  async relay(deviceId: string, command: RelayedCommand): Promise<{ done: Promise<void> }> {
    if (this.nc.isClosed()) throw new ApiError(ApiErrors.DEVICE_OFFLINE, `${deviceId} is not connected to this hub`);
    const h = headers();
    h.set(ACK_HEADER, '1');
    const subject = this.subjects.toNats(`flotilla.${deviceId}.cmd.${command.capability}`);
    const body = JSON.stringify({
      id: command.id,
      command: command.command,
      args: command.args,
      timeoutMs: command.timeoutMs,
      actor: command.actor,
    });
    let replies: AsyncIterator<Msg>;
    try {
      const iterable = await this.nc.requestMany(subject, body, {
        strategy: 'count',
        maxMessages: 2,
        maxWait: command.timeoutMs + this.graceMs + RELAY_MARGIN_MS,
        headers: h,
      });
      replies = iterable[Symbol.asyncIterator]();
    } catch (err) {
      throw relayError(deviceId, err);
    }
    const first = await next(deviceId, replies);
    if (!('accepted' in first)) {
      void replies.return?.();
      throw refusal(deviceId, first);
    }
    const done = next(deviceId, replies).then(
      () => void replies.return?.(),
      () => void replies.return?.(),
    );
    return { done };
  }

  async cancel(row: CommandRow, reason: string | undefined, actor: string): Promise<CommandRow> {
    const notRunning = (why: string): ApiError =>
      new ApiError(ApiErrors.COMMAND_NOT_RUNNING, `command ${row.id} is not running: ${why}`);
    if (this.nc.isClosed()) throw notRunning('this hub has left the fleet');
    const subject = this.subjects.toNats(`flotilla.${row.deviceId}.cmd.${row.capability}`);
    const body = JSON.stringify({ cancel: row.id, ...(reason !== undefined && { reason }), actor });
    let reply: Record<string, unknown>;
    try {
      const msg = await this.nc.request(subject, body, { timeout: CANCEL_TIMEOUT_MS });
      reply = msg.json<Record<string, unknown>>();
    } catch (err) {
      // No responders: no hub holds the device now; its record closes at its deadline.
      throw notRunning(`no hub holds ${row.deviceId} (${(err as Error).message ?? 'no responders'})`);
    }
    const record = reply['record'];
    if (reply['requested'] !== true || !isObject(record) || record['id'] !== row.id) {
      throw refusal(row.deviceId, reply, ApiErrors.COMMAND_NOT_RUNNING);
    }
    return record as unknown as CommandRow;
  }
}

async function next(deviceId: string, replies: AsyncIterator<Msg>): Promise<Record<string, unknown>> {
  let result: IteratorResult<Msg>;
  try {
    result = await replies.next();
  } catch (err) {
    throw relayError(deviceId, err);
  }
  if (result.done) throw new ApiError(ApiErrors.DEVICE_OFFLINE, `the hub holding ${deviceId} stopped answering`);
  try {
    return result.value.json<Record<string, unknown>>();
  } catch {
    throw new ApiError(ApiErrors.DEVICE_OFFLINE, `the hub holding ${deviceId} answered something unreadable`);
  }
}

/** The holder's `{error: {code, message}}` as the ApiError it was there (`fallback` for anything else). */
function refusal(deviceId: string, reply: Record<string, unknown>, fallback = ApiErrors.DEVICE_OFFLINE): ApiError {
  const error = reply['error'] as { code?: unknown; message?: unknown } | undefined;
  const spec = typeof error?.code === 'string' ? byCode.get(error.code) : undefined;
  const message = typeof error?.message === 'string' ? error.message : `the hub holding ${deviceId} refused`;
  return new ApiError(spec ?? fallback, message);
}

function relayError(deviceId: string, err: unknown): ApiError {
  // No responders: no hub holds the device's session (it went offline a moment ago).
  return new ApiError(
    ApiErrors.DEVICE_OFFLINE,
    `${deviceId} is not connected to any hub: ${(err as Error).message ?? 'no responders'}`,
  );
}
