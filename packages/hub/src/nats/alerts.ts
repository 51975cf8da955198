import type { Logger } from 'pino';
import { RequestError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { AlertAction, AlertLeader, AlertService } from '../alerts/service.js';
import type { AlertView } from '../alerts/views.js';
import { ApiError, ApiErrors, type ApiErrorSpec } from '../http/errors.js';
import { ACTOR_RE } from './commands.js';
import { HubTopics, type NatsSubjects } from './subjects.js';

/**
 * Users' acks and resolves reach the fleet's leader, the one hub that evaluates alerts (and holds
 * the open ones in memory): a follower asks it over NATS request/reply on
 * `flotilla-hub.alert-actions` (`{action, id, actor}`), and the leader applies it as if made on
 * itself, so its evaluator knows at once (a resolved alert stops holding its pair, an
 * acknowledged one is no longer `firing`). It answers `{alert}` once the change is stored, or
 * `{error: {code, message}}` with the API's codes.
 *
 * Only the leader subscribes; with none (between a leader's death and the next one taking over)
 * NATS answers "no responders" at once, and the follower writes the change to storage itself,
 * where the next leader reads it.
 */

/** How long a follower waits for the leader: one storage write and its event. */
const FORWARD_TIMEOUT_MS = 10_000;
const ACTIONS: readonly AlertAction[] = ['acknowledge', 'resolve'];

const byCode = new Map<string, ApiErrorSpec>(Object.values(ApiErrors).map((spec) => [spec.code, spec]));

export class NatsAlertLeader implements AlertLeader {
  #sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: NatsSubjects,
    private readonly logger: Logger,
  ) {}

  async forward(action: AlertAction, id: string, actor: string): Promise<AlertView | undefined> {
    if (this.nc.isClosed()) return undefined;
    let reply: { alert?: AlertView; error?: { code?: unknown; message?: unknown } };
    try {
      const msg = await this.nc.request(
        this.subjects.toNats(HubTopics.ALERT_ACTIONS),
        JSON.stringify({ action, id, actor }),
        { timeout: FORWARD_TIMEOUT_MS },
      );
      reply = msg.json();
    } catch (err) {
      if (err instanceof RequestError && err.isNoResponders()) return undefined;
      throw new ApiError(ApiErrors.LEADER_UNAVAILABLE, `cannot ${action} alert ${id}: ${(err as Error).message}`);
    }
    if (reply.alert && reply.alert.id === id) return reply.alert;
    const spec = typeof reply.error?.code === 'string' ? byCode.get(reply.error.code) : undefined;
    const message = typeof reply.error?.message === 'string' ? reply.error.message : 'the leader refused it';
    throw new ApiError(spec ?? ApiErrors.INTERNAL, message);
  }

  /** This hub leads: answer the followers' acks and resolves. */
  serve(alerts: AlertService): void {
    if (this.#sub || this.nc.isClosed()) return;
    this.#sub = this.nc.subscribe(this.subjects.toNats(HubTopics.ALERT_ACTIONS), {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        void this.#answer(alerts, msg.data).then((answer) => {
          try {
            msg.respond(JSON.stringify(answer));
          } catch (error) {
            // The connection closed or is draining (the hub stopping): the follower times out.
            this.logger.debug({ err: error }, 'cannot answer a forwarded alert action');
          }
        });
      },
    });
  }

  /** Another hub leads (or this one stops): stop answering. */
  stop(): void {
    if (this.#sub && !this.nc.isClosed()) this.#sub.unsubscribe();
    this.#sub = undefined;
  }

  async #answer(alerts: AlertService, data: Uint8Array): Promise<unknown> {
    const refuse = (spec: ApiErrorSpec, message: string) => ({ error: { code: spec.code, message } });
    let body: { action?: unknown; id?: unknown; actor?: unknown };
    try {
      body = JSON.parse(new TextDecoder().decode(data)) as typeof body;
    } catch {
      return refuse(ApiErrors.BAD_REQUEST, 'the request must be JSON: {action, id, actor}');
    }
    const { action, id, actor } = body ?? {};
    if (!ACTIONS.includes(action as AlertAction))
      return refuse(ApiErrors.BAD_REQUEST, '`action` must be acknowledge or resolve');
    if (typeof id !== 'string' || id === '') return refuse(ApiErrors.BAD_REQUEST, '`id` must be an alert id');
    if (typeof actor !== 'string' || !ACTOR_RE.test(actor))
      return refuse(ApiErrors.BAD_REQUEST, '`actor` must name who acts (user:alice)');
    try {
      const metadata = { actor, correlationId: null, causationId: null };
      return { alert: await alerts.act(action as AlertAction, id, metadata, { local: true }) };
    } catch (err) {
      if (err instanceof ApiError) return { error: { code: err.code, message: err.message } };
      this.logger.error({ err, alert: id }, 'cannot apply an alert action another hub forwarded');
      return refuse(ApiErrors.INTERNAL, 'the leader could not apply it');
    }
  }
}
