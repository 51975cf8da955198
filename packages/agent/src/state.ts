/**
 * The agent's connection state machine (seed 002, "Agent State Machine"), made explicit so
 * every transition is checked and observable as one typed stream of events.
 *
 *   Initializing → Registering → Connected → Disconnected → Reconnecting → Registering ...
 *
 * `Stopped` is terminal and reachable from every state: it is where `stop()` leaves the agent.
 */
export const AGENT_STATES = [
  'Initializing',
  'Registering',
  'Connected',
  'Disconnected',
  'Reconnecting',
  'Stopped',
] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/** Why a session ended. Stable strings: they appear in logs and state events. */
export type DisconnectReason =
  /** The socket could not be opened, or failed while open. */
  | 'socket_error'
  /** The hub (or the network) closed the socket. */
  | 'socket_closed'
  /** No `welcome` arrived within the registration timeout. */
  | 'registration_timeout'
  /** Nothing arrived from the hub for three heartbeat intervals: the link is presumed dead. */
  | 'heartbeat_timeout'
  /** Another connection with the same device id took over this session. */
  | 'replaced'
  /** The hub refused the device's credential or enrollment token; retried after `authRetryMs`. */
  | 'refused';

/** One transition, as emitted on `agent.on('state', ...)`. Discriminated by `state`. */
export type StateEvent = { from: AgentState; at: number } & (
  | { state: 'Initializing' }
  | { state: 'Registering'; attempt: number; url: string }
  | { state: 'Connected'; sessionId: string; heartbeatIntervalMs: number }
  | { state: 'Disconnected'; reason: DisconnectReason; code?: number; detail?: string }
  | { state: 'Reconnecting'; attempt: number; delayMs: number }
  | { state: 'Stopped' }
);

const TRANSITIONS: Readonly<Record<AgentState, readonly AgentState[]>> = {
  Initializing: ['Registering', 'Stopped'],
  Registering: ['Connected', 'Disconnected', 'Stopped'],
  Connected: ['Disconnected', 'Stopped'],
  Disconnected: ['Reconnecting', 'Stopped'],
  Reconnecting: ['Registering', 'Stopped'],
  Stopped: [],
};

export function canTransition(from: AgentState, to: AgentState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A transition the table does not allow is a bug in the agent, never expected trouble. */
export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  readonly code = 'illegal_transition';
  constructor(
    readonly from: AgentState,
    readonly to: AgentState,
  ) {
    super(`illegal agent state transition ${from} → ${to}`);
  }
}
