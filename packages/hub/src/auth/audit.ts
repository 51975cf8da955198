import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@flotilla/protocol';
import type { Storage } from '../storage/types.js';

/**
 * Identity events in the one event log, so `GET /api/v1/events?actor=` finds who changed what.
 * Event data never holds a secret: no password, token or hash.
 */
export const IdentityEventTypes = {
  UserCreated: 'UserCreated',
  UserUpdated: 'UserUpdated',
  UserDeleted: 'UserDeleted',
  TokenCreated: 'TokenCreated',
  TokenRevoked: 'TokenRevoked',
  LoginSucceeded: 'LoginSucceeded',
  LoginFailed: 'LoginFailed',
  LoggedOut: 'LoggedOut',
} as const;
export type IdentityEventType = (typeof IdentityEventTypes)[keyof typeof IdentityEventTypes];

export const SYSTEM_ACTOR = 'system';

export async function audit(
  storage: Pick<Storage, 'appendEvents'>,
  ts: number,
  aggregateId: string,
  type: IdentityEventType,
  data: Record<string, unknown>,
  metadata: EventMetadata,
): Promise<void> {
  await storage.appendEvents([{ id: randomUUID(), aggregateId, type, ts, data, metadata }]);
}
