import { randomUUID } from 'node:crypto';
import {
  DEVICE_TO_HUB,
  ErrorCodes,
  envelope,
  parseFrame,
  type ErrorCode,
  type ErrorPayload,
  type Message,
  type MessageType,
  type PayloadOf,
} from '@flotilla/protocol';
import type { PresenceTarget } from '../presence/presence.js';
import { TokenBucket } from '@flotilla/protocol';
import type { PeerCertificate } from '../tls/device-certificates.js';

/**
 * One device connection on any transport, from the first frame to the close. The session
 * validates every inbound frame (parseFrame, direction, session state, device identity) and
 * hands valid ones to the gateway's handler for their type; refused frames get an `error` frame
 * and the connection stays up, up to MAX_CONSECUTIVE_ERRORS in a row.
 */

/** What a session needs from its connection: the WebSocket and MQTT adapters, later NATS. */
export interface AgentConnection {
  /** Delivers one hub → device message in the transport's own form (a JSON frame, an MQTT publish). */
  send(message: Message): void;
  /** Closes with a handshake (the peer learns the code). */
  close(code: number, reason: string): void;
  /** Drops the connection at once: for a peer that stopped answering. */
  terminate(): void;
  /** The client certificate the peer presented, when the transport's TLS verified it against the hub CA. */
  readonly peerCertificate?: PeerCertificate | undefined;
  /**
   * Stops reading from the peer (telemetry backpressure): frames wait in the peer's socket and
   * TCP window. Absent: the transport cannot pause.
   */
  pause?(): void;
  resume?(): void;
  /** While paused: shows the peer the hub is alive (a WebSocket ping), and keeps the transport's own keepalive from firing. */
  keepAlive?(): void;
}

/** WebSocket close codes the hub uses on `/ws/agent` (4000–4999 are the application's range). */
export const AgentCloseCodes = {
  /** The hub is shutting down. */
  GOING_AWAY: 1001,
  /** Too many consecutive refused frames. */
  POLICY_VIOLATION: 1008,
  /** A frame above MAX_FRAME_BYTES (sent by the ws library itself). */
  MESSAGE_TOO_BIG: 1009,
  /** The hub could not record the session (storage trouble): reconnect later. */
  INTERNAL_ERROR: 1011,
  /** A newer connection for the same device took over (an `error` frame `replaced` precedes it). */
  REPLACED: 4000,
  /** The device was decommissioned. */
  DECOMMISSIONED: 4001,
  /** `hello` refused: no token, or not a valid credential or enrollment token (an `error` frame says which). */
  UNAUTHORIZED: 4003,
  /** The device's credential was revoked while it was connected (an `error` frame `credential_revoked` precedes it). */
  CREDENTIAL_REVOKED: 4004,
} as const;

/** Refused frames in a row after which the connection is closed with 1008. */
export const MAX_CONSECUTIVE_ERRORS = 100;

/**
 * Envelope device of error frames sent before `hello` named the device: the envelope needs a
 * valid id, and the one in a refused frame cannot be trusted.
 */
export const UNKNOWN_DEVICE = 'unknown';

/** The `ref` of an error frame about a valid message; built only when refusing one. */
function refOf(message: Message): ErrorPayload['ref'] {
  return { type: message.type, seq: message.seq };
}

export type SessionState = 'awaiting_hello' | 'authenticating' | 'registering' | 'active' | 'closing' | 'ended';

/** Messages per second one device connection may send: `rate` sustained, `burst` at once. */
export interface MessageLimit {
  rate: number;
  burst: number;
}

/** The gateway as a session sees it. */
export interface SessionHost {
  now(): number;
  /** Absent: a device may send as fast as it likes. */
  readonly messageLimit: MessageLimit | undefined;
  /** A frame arrived on a session bound to `id` (presence, lastSeen). */
  touch(session: DeviceSession, id: string): void;
  dispatch(session: DeviceSession, message: Message): void;
  countMessage(type: MessageType, direction: 'in' | 'out'): void;
  countFrameError(code: string): void;
  /** The connection closed while the session was current (not replaced, expired or ended by the hub). */
  closed(session: DeviceSession): void;
  /** Presence found the session silent for too long. */
  expired(session: DeviceSession): void;
  /** A bound session sent a frame for another device (refused, and recorded as a security event). */
  mismatch(session: DeviceSession, claimed: string): void;
  /** The session went over its message limit (once per session, for the log). */
  rateLimited(session: DeviceSession): void;
  /** A frame was refused over the limit, unread (every time). */
  refusedOverLimit(session: DeviceSession): void;
}

export class DeviceSession implements PresenceTarget {
  readonly sessionId = randomUUID();
  lastSeen = 0;
  private deviceId: string | undefined;
  private stateValue: SessionState = 'awaiting_hello';
  private seq = 0;
  private consecutiveErrors = 0;
  private readonly bucket: TokenBucket | undefined;
  private overLimit = false;
  /** Subjects built once per session rather than once per frame. */
  telemetrySubject = '';
  logSubject = '';

  constructor(
    private readonly host: SessionHost,
    private readonly connection: AgentConnection,
    readonly transport: string,
  ) {
    const limit = host.messageLimit;
    if (limit) this.bucket = new TokenBucket(limit.rate, limit.burst, host.now());
  }

  get device(): string | undefined {
    return this.deviceId;
  }

  get peerCertificate(): PeerCertificate | undefined {
    return this.connection.peerCertificate;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** One inbound frame, as received. Never throws. */
  receive(raw: string | Uint8Array): void {
    if (this.stateValue === 'closing' || this.stateValue === 'ended') return;
    // Only an authenticated session keeps its device present: a connection still proving who it
    // is must not keep someone else's device looking alive.
    if (this.deviceId !== undefined && this.stateValue !== 'authenticating') this.host.touch(this, this.deviceId);
    if (this.bucket) {
      // Checked before parsing: a flood costs the hub as little as possible. Refusals are answered
      // (never a silent drop) but do not count towards MAX_CONSECUTIVE_ERRORS: a device that
      // bursts is slowed down, not cut off.
      const wait = this.bucket.take(this.host.now());
      if (wait > 0) return this.refuseOverLimit(this.bucket, wait);
    }
    const parsed = parseFrame(raw);
    if (!parsed.ok) return this.refuse(parsed.error.code, parsed.error.message, parsed.error.ref);
    const message = parsed.value;
    if (!DEVICE_TO_HUB.includes(message.type)) {
      return this.refuse(
        ErrorCodes.WRONG_DIRECTION,
        `'${message.type}' is sent by the hub, not by devices`,
        refOf(message),
      );
    }
    if (this.deviceId === undefined) {
      if (message.type !== 'hello')
        return this.refuse(ErrorCodes.NOT_REGISTERED, "the first frame must be 'hello'", refOf(message));
    } else if (this.stateValue === 'authenticating') {
      return this.refuse(ErrorCodes.NOT_REGISTERED, "wait for 'welcome' before sending", refOf(message));
    } else if (message.device !== this.deviceId) {
      this.host.mismatch(this, message.device);
      return this.refuse(
        ErrorCodes.DEVICE_MISMATCH,
        `this connection speaks for '${this.deviceId}', not '${message.device}'`,
        refOf(message),
      );
    } else if (message.type === 'hello') {
      return this.refuse(ErrorCodes.BAD_FRAME, "'hello' is only valid as the first frame of a session", refOf(message));
    }
    this.consecutiveErrors = 0;
    this.host.countMessage(message.type, 'in');
    this.host.dispatch(this, message);
  }

  /**
   * Names the device a `hello` claims while the gateway checks its token: error frames carry the
   * id, but the session is not the device's yet (no presence, no frames accepted).
   */
  claim(id: string): void {
    this.deviceId = id;
    this.stateValue = 'authenticating';
  }

  /** Binds the session to its device (on `hello`, once authenticated). */
  bind(id: string): void {
    this.deviceId = id;
    this.stateValue = 'registering';
    this.telemetrySubject = `flotilla.${id}.telemetry`;
    this.logSubject = `flotilla.${id}.log`;
    this.host.touch(this, id);
  }

  /** The device is recorded as connected: the session is fully open. False if it ended meanwhile. */
  activate(): boolean {
    if (this.stateValue !== 'registering') return false;
    this.stateValue = 'active';
    return true;
  }

  send<T extends MessageType>(type: T, payload: PayloadOf<T>): void {
    if (this.stateValue === 'ended') return;
    this.connection.send(envelope(type, this.deviceId ?? UNKNOWN_DEVICE, this.seq++, this.host.now(), payload));
    this.host.countMessage(type, 'out');
  }

  /**
   * Ends the session on the hub's initiative (replaced, decommissioned, shutdown, storage
   * failure). The gateway has already settled the registry side; the close event that follows
   * changes nothing.
   */
  end(code: number, reason: string, error?: { code: ErrorCode; message: string }): void {
    if (this.stateValue === 'ended') return;
    if (error) this.send('error', { code: error.code, message: error.message });
    this.stateValue = 'ended';
    this.connection.close(code, reason);
  }

  /** PresenceTarget: silent for too long. The peer is presumably gone, so no close handshake. */
  expire(): void {
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    this.host.expired(this);
    this.connection.terminate();
  }

  /** Stops reading the connection (backpressure). False when its transport cannot pause. */
  pause(): boolean {
    if (!this.connection.pause) return false;
    this.connection.pause();
    return true;
  }

  resume(): void {
    this.connection.resume?.();
  }

  keepAlive(): void {
    this.connection.keepAlive?.();
  }

  /** The transport reports that the connection is closed (whoever closed it). */
  connectionClosed(): void {
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    this.host.closed(this);
  }

  private refuseOverLimit({ rate, burst }: TokenBucket, wait: number): void {
    this.host.countFrameError(ErrorCodes.RATE_LIMITED);
    if (!this.overLimit) {
      this.overLimit = true;
      this.host.rateLimited(this);
    }
    this.send('error', {
      code: ErrorCodes.RATE_LIMITED,
      message: `more than ${rate} messages/s (bursts of ${burst}) from this device: frame refused, next accepted in ${wait} ms`,
    });
    this.host.refusedOverLimit(this);
  }

  private refuse(code: ErrorCode, message: string, ref: ErrorPayload['ref']): void {
    this.host.countFrameError(code);
    const payload: ErrorPayload = { code, message };
    if (ref && (ref.type !== undefined || ref.seq !== undefined)) payload.ref = ref;
    this.send('error', payload);
    if (++this.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) {
      // Still "current": the close event will mark the device offline as for any other close.
      this.stateValue = 'closing';
      this.connection.close(AgentCloseCodes.POLICY_VIOLATION, `${MAX_CONSECUTIVE_ERRORS} refused frames in a row`);
    }
  }
}
