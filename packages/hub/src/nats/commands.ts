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
 */

export const ACK_HEADER = 'Flotilla-Ack';
/** Who a command from a NATS client is recorded as, when it names no actor of its own. */
export const NATS_ACTOR = 'nats';
const ACTOR_RE = /^[a-z][a-z0-9_-]*:[^\s]{1,200}$/;
/** How long a relaying hub waits past the command's own timeout (and the holder's grace). */
const RELAY_MARGIN_MS = 5_000;

interface Body {
  command?: unknown;
  args?: unknown;
  timeoutMs?: unknown;
  id?: unknown;
  actor?: unknown;
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
      if (msg.reply) msg.respond(JSON.stringify(value));
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
    const problem = checkBody(body, capability);
    if (problem) return refuse(ApiErrors.BAD_REQUEST, problem);
    const request: CommandRequest = {
      capability,
      command: body.command as string,
      args: (body.args ?? {}) as Record<string, unknown>,
      ...(typeof body.timeoutMs === 'number' && { timeoutMs: body.timeoutMs }),
    };
    const actor = typeof body.actor === 'string' && ACTOR_RE.test(body.actor) ? body.actor : NATS_ACTOR;
    const metadata: EventMetadata = { actor, correlationId: null, causationId: null };
    try {
      const { row, done } = await commands.issue(id, request, metadata, {
        local: true,
        ...(typeof body.id === 'string' && { id: body.id }),
      });
      if (msg.headers?.get(ACK_HEADER) === '1') reply({ accepted: row.id });
      reply(resultOf(await done));
    } catch (err) {
      if (err instanceof ApiError) return reply({ error: { code: err.code, message: err.message } });
      this.logger.error({ err, device: id }, 'cannot run a command received over NATS');
      reply({ error: { code: 'internal', message: 'the hub could not run the command' } });
    }
  }
}

function checkBody(body: Body, capability: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the request body must be a JSON object';
  if (capability === '') return 'the subject must name a capability: flotilla.<id>.cmd.<capability>';
  if (typeof body.command !== 'string' || body.command === '') return '`command` must be a non-empty string';
  if (body.args !== undefined && (typeof body.args !== 'object' || body.args === null || Array.isArray(body.args)))
    return '`args` must be an object';
  if (body.timeoutMs !== undefined && (!Number.isInteger(body.timeoutMs) || (body.timeoutMs as number) < 1))
    return '`timeoutMs` must be a positive integer';
  if (body.id !== undefined && (typeof body.id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(body.id)))
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

function refusal(deviceId: string, reply: Record<string, unknown>): ApiError {
  const error = reply['error'] as { code?: unknown; message?: unknown } | undefined;
  const spec = typeof error?.code === 'string' ? byCode.get(error.code) : undefined;
  const message =
    typeof error?.message === 'string' ? error.message : `the hub holding ${deviceId} refused the command`;
  return new ApiError(spec ?? ApiErrors.DEVICE_OFFLINE, message);
}

function relayError(deviceId: string, err: unknown): ApiError {
  // No responders: no hub holds the device's session (it went offline a moment ago).
  return new ApiError(
    ApiErrors.DEVICE_OFFLINE,
    `${deviceId} is not connected to any hub: ${(err as Error).message ?? 'no responders'}`,
  );
}
